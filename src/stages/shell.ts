import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
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

/** How long a command may take to exit after the interrupt signal before its process group is killed. */
export const KILL_GRACE_MS = 10_000;

const FORWARDED = new Set<string>(['SIGINT', 'SIGTERM', 'SIGHUP']);
const liveGroups = new Set<number>();

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group has already gone
  }
}

const killLiveGroups = () => liveGroups.forEach((pgid) => killGroup(pgid, 'SIGKILL'));

/** What a running command leaves in `<runsDir>/tmp` so that the next run can stop it if mlpipe is killed. */
interface CommandMarker {
  pid: number;
  host: string;
  pgid: number;
  runId: string;
  stage: string;
}

const markerPath = (runsDir: string, pgid: number) => join(runsDir, 'tmp', `shell-${pgid}.json`);

async function runCommand(ctx: StageContext<ShellConfig>): Promise<void> {
  const tail: string[] = [];
  const child = spawn('sh', ['-c', ctx.config.run], {
    cwd: ctx.workspace,
    env: { ...process.env, ...ctx.config.env, MLPIPE_RUN_ID: ctx.runId, MLPIPE_STAGE: ctx.stage },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve([c, s]));
  });
  const onLine = (line: string) => {
    tail.push(line);
    if (tail.length > TAIL) tail.shift();
    ctx.log(line);
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  const pgid = child.pid;
  if (pgid !== undefined) {
    if (liveGroups.size === 0) process.on('exit', killLiveGroups);
    liveGroups.add(pgid);
  }
  let escalate: NodeJS.Timeout | undefined;
  const stop = () => {
    const reason: unknown = ctx.signal.reason;
    const signal = typeof reason === 'string' && FORWARDED.has(reason) ? (reason as NodeJS.Signals) : 'SIGTERM';
    if (pgid === undefined) child.kill(signal);
    else killGroup(pgid, signal);
    escalate = setTimeout(() => (pgid === undefined ? child.kill('SIGKILL') : killGroup(pgid, 'SIGKILL')), KILL_GRACE_MS);
  };
  if (ctx.signal.aborted) stop();
  else ctx.signal.addEventListener('abort', stop, { once: true });
  const marker = pgid === undefined ? undefined : writeMarker(ctx.runsDir, { pid: process.pid, host: hostname(), pgid, runId: ctx.runId, stage: ctx.stage });
  const [code, signal] = await closed.finally(async () => {
    ctx.signal.removeEventListener('abort', stop);
    clearTimeout(escalate);
    if (pgid !== undefined) {
      if (ctx.signal.aborted) killGroup(pgid, 'SIGKILL');
      liveGroups.delete(pgid);
      if (liveGroups.size === 0) process.off('exit', killLiveGroups);
    }
    const written = await marker;
    if (written) await rm(written, { force: true });
  });
  if (code === 0 && !ctx.signal.aborted) return;
  const how = ctx.signal.aborted ? `was stopped (${String(ctx.signal.reason)})` : signal ? `was killed by ${signal}` : `exited with code ${code}`;
  throw new StageFailedError(ctx.stage, `stage ${ctx.stage}: command ${how}`, { exitCode: code ?? undefined, lastLines: tail });
}

/** A command of a killed run that was still running and has now been stopped. */
export interface StoppedCommand {
  runId: string;
  stage: string;
  pgid: number;
}

/**
 * Stops the commands that shell stages of killed mlpipe processes (on this host) left running:
 * such a command would go on writing its outs into the workspace behind the next run's back.
 * A process group is only signalled when Linux's /proc shows it still carries that run's
 * MLPIPE_RUN_ID (or its leader has gone and the group is still there, which Linux guarantees is
 * the same group); elsewhere the marker is just dropped. SIGTERM first, SIGKILL after `graceMs`.
 */
export async function stopOrphanedCommands(runsDir: string, opts: { graceMs?: number; isAlive: (pid: number) => boolean }): Promise<StoppedCommand[]> {
  const folder = join(runsDir, 'tmp');
  let names: string[];
  try {
    names = (await readdir(folder)).filter((n) => /^shell-\d+\.json$/.test(n));
  } catch {
    return [];
  }
  const stopped: StoppedCommand[] = [];
  for (const name of names) {
    const path = join(folder, name);
    const marker = await readMarker(path);
    if (marker && (marker.host !== hostname() || opts.isAlive(marker.pid))) continue;
    if (marker && (await isOurGroup(marker))) {
      await stopGroup(marker.pgid, opts.graceMs ?? 2_000);
      stopped.push({ runId: marker.runId, stage: marker.stage, pgid: marker.pgid });
    }
    await rm(path, { force: true });
  }
  return stopped;
}

async function writeMarker(runsDir: string, marker: CommandMarker): Promise<string | undefined> {
  const path = markerPath(runsDir, marker.pgid);
  const temp = `${path}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temp, JSON.stringify(marker));
    await rename(temp, path);
    return path;
  } catch {
    await rm(temp, { force: true }).catch(() => {});
    return undefined;
  }
}

async function readMarker(path: string): Promise<CommandMarker | undefined> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as Partial<CommandMarker>;
    const ok = [value.pid, value.pgid].every((n) => Number.isInteger(n) && n! > 0) && typeof value.runId === 'string' && typeof value.host === 'string';
    return ok ? (value as CommandMarker) : undefined;
  } catch {
    return undefined;
  }
}

async function isOurGroup(marker: CommandMarker): Promise<boolean> {
  if (!existsSync('/proc/self')) return false;
  try {
    const environ = (await readFile(`/proc/${marker.pgid}/environ`)).toString('utf8').split('\0');
    return environ.includes(`MLPIPE_RUN_ID=${marker.runId}`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return false;
  }
  return groupExists(marker.pgid);
}

/** Whether a process group has a member that is not a zombie (on Linux; elsewhere whether the group exists). */
function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  if (!existsSync('/proc/self/stat')) return true;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') return true;
    } catch {
      // the process has gone meanwhile
    }
  }
  return false;
}

async function stopGroup(pgid: number, graceMs: number): Promise<void> {
  killGroup(pgid, 'SIGTERM');
  for (let waited = 0; waited < graceMs && groupExists(pgid); waited += 50) await new Promise((r) => setTimeout(r, 50));
  if (groupExists(pgid)) killGroup(pgid, 'SIGKILL');
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
