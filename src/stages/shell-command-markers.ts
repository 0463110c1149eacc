import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';

/** What a running command leaves in `<runsDir>/tmp` so that the next run can stop it if mlpipe is killed. */
export interface CommandMarker {
  pid: number;
  host: string;
  pgid: number;
  runId: string;
  stage: string;
}

const markerPath = (runsDir: string, pgid: number) => join(runsDir, 'tmp', `shell-${pgid}.json`);

/** Signals a whole process group; a group that has gone is not an error. */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group has already gone
  }
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
export async function stopOrphanedCommands(
  runsDir: string,
  opts: { graceMs?: number; isAlive: (pid: number) => boolean; deadRuns?: ReadonlySet<string> },
): Promise<StoppedCommand[]> {
  const folder = join(runsDir, 'tmp');
  const names = (await readdir(folder).catch(() => [] as string[])).filter((n) => /^shell-\d+\.json$/.test(n));
  const stopped: StoppedCommand[] = [];
  for (const name of names) {
    const path = join(folder, name);
    const marker = await readMarker(path);
    const dead = marker !== undefined && opts.deadRuns?.has(marker.runId) === true;
    if (marker && !dead && (marker.host !== hostname() || opts.isAlive(marker.pid))) continue;
    if (marker && (await isOurGroup(marker))) {
      await stopGroup(marker.pgid, opts.graceMs ?? 2_000);
      stopped.push({ runId: marker.runId, stage: marker.stage, pgid: marker.pgid });
    }
    await rm(path, { force: true });
  }
  // A run killed between starting a command and writing its marker leaves no marker: on Linux, its
  // commands are found by the MLPIPE_RUN_ID every one of them (and what they start) carries.
  for (const found of unmarkedGroupsOf(opts.deadRuns ?? new Set(), new Set(stopped.map((c) => c.pgid)))) {
    await stopGroup(found.pgid, opts.graceMs ?? 2_000);
    stopped.push(found);
  }
  return stopped;
}

/**
 * Process groups (on Linux, through /proc) with a live member whose environment names one of
 * `runIds` as MLPIPE_RUN_ID, other than `known` and this process's own group.
 */
function unmarkedGroupsOf(runIds: ReadonlySet<string>, known: ReadonlySet<number>): StoppedCommand[] {
  if (runIds.size === 0 || !existsSync('/proc/self/environ')) return [];
  const own = ownGroup();
  const found = new Map<number, StoppedCommand>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      const runId = [...runIds].find((id) => environ.includes(`MLPIPE_RUN_ID=${id}`));
      if (!runId) continue;
      const { state, pgrp } = procStat(entry);
      if (state === 'Z' || pgrp === own || known.has(pgrp) || found.has(pgrp)) continue;
      const stage = environ.find((v) => v.startsWith('MLPIPE_STAGE='))?.slice('MLPIPE_STAGE='.length) ?? '?';
      found.set(pgrp, { runId, stage, pgid: pgrp });
    } catch {
      // gone meanwhile, or another user's
    }
  }
  return [...found.values()];
}

function procStat(pid: string): { state: string; pgrp: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: state!, pgrp: Number(pgrp) };
}

function ownGroup(): number {
  try {
    return procStat('self').pgrp;
  } catch {
    return -1;
  }
}

/** Records a running command in `<runsDir>/tmp/shell-PGID.json` (written whole); returns the path, or undefined when it could not be written. */
export async function writeMarker(runsDir: string, marker: CommandMarker): Promise<string | undefined> {
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
      const { state, pgrp } = procStat(entry);
      if (pgrp === pgid && state !== 'Z') return true;
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
