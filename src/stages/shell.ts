import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isAbsolute, relative } from 'node:path';
import { createInterface } from 'node:readline';
import type { ConfigIssue, StageContext, StageKind } from '../core/stage-kind.js';
import { commandsOf, shellConfig, shellOutputs, type ShellConfig } from './shell-config.js';
import { killGroup, stopOrphanedCommands, writeMarker } from './shell-command-markers.js';
import { isProcessRunning } from '../core/process-running.js';
import { lockDescriptors } from '../core/workspace-lock.js';
import { LineTail } from '../core/run/line-tail.js';
import { StageFailedError } from '../errors.js';
import { formatPath } from '../schema/yaml-source.js';
import { checkPlots, parsePlots, PlotFileError, plotSpecOf } from './shell-plots.js';
import { scriptsRunBy } from './shell-scripts.js';

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

const killLiveGroups = () => liveGroups.forEach((pgid) => killGroup(pgid, 'SIGKILL'));

/** Runs the stage's command lines one after another, each with `sh -e -c`; the first that fails fails the stage. */
async function runCommands(ctx: StageContext<ShellConfig>): Promise<void> {
  const commands = commandsOf(ctx.config.run);
  const tail = new LineTail();
  for (const [i, command] of commands.entries()) {
    const which = commands.length === 1 ? 'command' : `command ${i + 1} of ${commands.length}`;
    if (ctx.signal.aborted) throw new StageFailedError(ctx.stage, `${which} was not started (${String(ctx.signal.reason)})`, { lastLines: tail.lines() });
    await runCommand(ctx, command, which, tail);
  }
}

/** `-e`: a script stops at its first failing line (outside conditions), so a failed step never leaves a half-made output that looks complete. */
async function runCommand(ctx: StageContext<ShellConfig>, command: string, which: string, tail: LineTail): Promise<void> {
  const child = spawn('sh', ['-e', '-c', command], {
    cwd: ctx.workspace,
    env: { ...process.env, ...ctx.config.env, MLPIPE_RUN_ID: ctx.runId, MLPIPE_STAGE: ctx.stage },
    // fd 3…: the workspace locks held, so that a command outliving a killed mlpipe keeps the lock until it ends
    stdio: ['ignore', 'pipe', 'pipe', ...lockDescriptors()],
    detached: true,
  });
  const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve([c, s]));
  });
  const onLine = (line: string) => {
    tail.push(line);
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
  throw new StageFailedError(ctx.stage, `${which} ${how}`, { commandExitCode: code ?? undefined, lastLines: tail.lines() });
}

/** Linux's limit on one argument or environment string (MAX_ARG_STRLEN): a longer command line fails to start with E2BIG. */
export const MAX_ARG_BYTES = 128 * 1024;

function checkSizes(config: ShellConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  commandsOf(config.run).forEach((command, i) => {
    const size = Buffer.byteLength(command);
    if (size < MAX_ARG_BYTES) return;
    issues.push({
      path: Array.isArray(config.run) ? ['run', i] : ['run'],
      message: `expected a command line under ${MAX_ARG_BYTES / 1024} KiB (the system's limit for one argument), got ${formatKiB(size)} after params were substituted`,
      hint: 'write large values to a file and pass its path (list it in deps)',
    });
  });
  for (const [name, value] of Object.entries(config.env)) {
    const bytes = Buffer.byteLength(name) + 1 + Buffer.byteLength(value);
    if (bytes >= MAX_ARG_BYTES) {
      issues.push({ path: ['env', name], message: `expected an environment value under ${MAX_ARG_BYTES / 1024} KiB, got ${formatKiB(bytes)}`, hint: 'write large values to a file and pass its path (list it in deps)' });
    }
  }
  return issues;
}

function checkWorkdir(config: ShellConfig): ConfigIssue[] {
  if (config.wdir === undefined || !isAbsolute(config.wdir)) return [];
  return [{ path: ['wdir'], message: `expected a folder relative to the spec folder, got the absolute path "${config.wdir}"`, hint: 'write it relative to the spec folder, e.g. wdir: .. for the folder above' }];
}

const formatKiB = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

export const shell: StageKind<ShellConfig> = {
  kind: 'shell',
  // 2: params and output paths spliced into `run` are shell-quoted (they were pasted in as raw text)
  // 3: commands run with `sh -e` (a multi-line `run` stops at its first failing line); `run` may be a list; `persist` outs
  version: 3,
  description: 'Runs a shell command; its deps are hashed and its outs cached.',
  config: shellConfig,
  commands: ['run'],
  check: (config) => [...checkSizes(config), ...checkWorkdir(config), ...checkPlots(config.plots ?? [])],
  workdir: (config) => config.wdir,
  codeEntries: (config) => (config.code_deps === false ? [] : commandsOf(config.run).flatMap(scriptsRunBy)),
  outputs: (config) =>
    Object.fromEntries(
      Object.entries(shellOutputs(config)).map(([name, o]) => [name, { path: o.path, location: 'workspace' as const, ...(o.persist ? { persist: true } : {}) }]),
    ),
  async recover(runsDir, opts) {
    const stopped = await stopOrphanedCommands(runsDir, { isAlive: isProcessRunning, deadRuns: opts?.deadRuns });
    return stopped.map((c) => `stopped the command of stage ${c.stage} that killed run ${c.runId} left running (process group ${c.pgid})`);
  },
  async run(ctx) {
    await runCommands(ctx);
    await logPlots(ctx);
    if (!ctx.config.metrics) return {};
    let text: string;
    try {
      text = await readFile(ctx.config.metrics, 'utf8');
    } catch (err) {
      throw new StageFailedError(ctx.stage, `metrics file ${ctx.config.metrics} was not written`, { cause: err });
    }
    try {
      return { metrics: flattenMetrics(JSON.parse(text)) };
    } catch (err) {
      throw new StageFailedError(ctx.stage, `metrics file ${ctx.config.metrics} is not valid JSON`, { cause: err });
    }
  },
};

/** Reads every `plots:` file the command wrote and logs its y columns as curves (a point per row, at its x step). */
async function logPlots(ctx: StageContext<ShellConfig>): Promise<void> {
  const declared = ctx.config.plots ?? [];
  const curves: [string, { step: number; value: number }[]][] = [];
  const seen = new Map<string, number>();
  for (const [i, entry] of declared.entries()) {
    const spec = plotSpecOf(entry);
    const shown = relative(ctx.workspace, spec.file) || spec.file;
    const fail = (problem: string, hint?: string, cause?: unknown, at: (string | number)[] = []) => {
      const node = ['plots', i, ...(typeof entry === 'string' ? [] : at[0] === 'y' && !Array.isArray(entry.y) ? ['y'] : at)];
      const where = ctx.specNode?.(node);
      return new StageFailedError(ctx.stage, `plots file ${shown} ${problem}${hint ? ` (${hint})` : ''}; ${formatPath(node)}${where ? ` at ${where}` : ''}`, { cause });
    };
    let text: string;
    try {
      text = await readFile(spec.file, 'utf8');
    } catch (err) {
      throw fail('was not written by the command', 'write the file in the command, or fix its path in plots', err);
    }
    let parsed;
    try {
      parsed = parsePlots(text, spec);
    } catch (err) {
      if (err instanceof PlotFileError) throw fail(err.message, err.hint, err, err.at);
      throw err;
    }
    for (const [name, points] of Object.entries(parsed)) {
      const other = seen.get(name);
      if (other !== undefined) throw fail(`has a column "${name}", and plots[${other}] plotted it already`, 'name the curves apart, or list the columns each file plots in y');
      seen.set(name, i);
      curves.push([name, points]);
    }
  }
  for (const [name, points] of curves) for (const p of points) ctx.logMetric(name, p.value, p.step);
}
