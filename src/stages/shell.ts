import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { StageContext, StageKind } from './types.js';
import { shellConfig, shellOutputs, type ShellConfig } from './shell-config.js';
import { StageFailedError } from '../errors.js';

const TAIL = 20;

/** Numbers anywhere in a metrics JSON, nested keys joined with '.'. */
export function flattenMetrics(value: unknown, prefix = ''): Record<string, number> {
  if (typeof value === 'number' && Number.isFinite(value)) return { [prefix]: value };
  if (typeof value === 'boolean') return { [prefix]: value ? 1 : 0 };
  if (typeof value !== 'object' || value === null) return {};
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(value)) Object.assign(out, flattenMetrics(v, prefix ? `${prefix}.${k}` : k));
  return out;
}

async function runCommand(ctx: StageContext<ShellConfig>): Promise<void> {
  const tail: string[] = [];
  const child = spawn('sh', ['-c', ctx.config.run], {
    cwd: ctx.workspace,
    env: { ...process.env, ...ctx.config.env, MLPIPE_RUN_ID: ctx.runId, MLPIPE_STAGE: ctx.stage },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const onLine = (line: string) => {
    tail.push(line);
    if (tail.length > TAIL) tail.shift();
    ctx.log(line);
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      child.kill('SIGTERM');
    }
  };
  ctx.signal.addEventListener('abort', kill, { once: true });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve([c, s]));
  }).finally(() => ctx.signal.removeEventListener('abort', kill));
  if (code === 0) return;
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  throw new StageFailedError(ctx.stage, `stage ${ctx.stage}: command ${how}`, { exitCode: code ?? undefined, lastLines: tail });
}

export const shell: StageKind<ShellConfig> = {
  kind: 'shell',
  version: 1,
  description: 'Runs a shell command; its deps are hashed and its outs cached.',
  config: shellConfig,
  outputs: (config) =>
    Object.fromEntries(Object.entries(shellOutputs(config.outs)).map(([name, path]) => [name, { path, location: 'workspace' as const }])),
  async run(ctx) {
    await runCommand(ctx);
    if (!ctx.config.metrics) return {};
    let text: string;
    try {
      text = await readFile(ctx.config.metrics, 'utf8');
    } catch (err) {
      throw new StageFailedError(ctx.stage, `stage ${ctx.stage}: metrics file ${ctx.config.metrics} was not written`, { cause: err });
    }
    try {
      return { metrics: flattenMetrics(JSON.parse(text)) };
    } catch (err) {
      throw new StageFailedError(ctx.stage, `stage ${ctx.stage}: metrics file ${ctx.config.metrics} is not valid JSON`, { cause: err });
    }
  },
};
