import { isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../../errors.js';
import { resolveConfig } from '../config/resolve-config.js';

/** Where a tracker lives: an SQLite file (the embedded default) or a PostgreSQL database. */
export type TrackerTarget = { kind: 'sqlite'; path: string } | { kind: 'postgresql'; url: string };

/** A tracker setting that names neither an SQLite file nor a PostgreSQL URL. */
export class TrackerUrlError extends UserError {
  constructor(value: string, reason: string) {
    super(`invalid tracker "${value}": ${reason}`, {
      hint: 'give a PostgreSQL URL (postgresql://USER@HOST:5432/DB), sqlite:PATH, or leave --tracker / MLPIPE_TRACKER / tracker: in mlpipe.yaml unset for runs/tracker.db',
    });
    this.name = 'TrackerUrlError';
  }
}

/** Where the tracker database of a runs folder lives when nothing else is said. */
export function trackerPath(runsDir: string): string {
  return join(runsDir, 'tracker.db');
}

/**
 * The tracker setting in force: `explicit`, else `--tracker` (the command sets MLPIPE_TRACKER from
 * it), else the MLPIPE_TRACKER variable, else `tracker:` in mlpipe.yaml (core/config).
 */
export function trackerSetting(explicit?: string): string | undefined {
  if (explicit?.trim()) return explicit.trim();
  return resolveConfig().tracker.value;
}

/**
 * Reads a tracker setting: `postgresql://…` / `postgres://…`, `sqlite:PATH` or a plain path
 * (relative to the current folder), or nothing for `<runsDir>/tracker.db`.
 */
export function resolveTracker(runsDir: string, setting: string | undefined = trackerSetting()): TrackerTarget {
  if (setting === undefined) return { kind: 'sqlite', path: trackerPath(runsDir) };
  if (/^postgres(ql)?:\/\//i.test(setting)) {
    try {
      const url = new URL(setting);
      if (!url.hostname && !url.searchParams.get('host')) throw new TrackerUrlError(setting, 'the URL names no host');
    } catch (err) {
      if (err instanceof TrackerUrlError) throw err;
      throw new TrackerUrlError(setting, 'it is not a valid URL');
    }
    return { kind: 'postgresql', url: setting };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(setting)?.[1]?.toLowerCase();
  if (scheme === 'sqlite' || scheme === 'file') {
    const path = setting.slice(scheme.length + 1).replace(/^\/\/(?=\/)/, '');
    if (!path) throw new TrackerUrlError(setting, 'no file path follows the scheme');
    return { kind: 'sqlite', path: resolve(path) };
  }
  if (scheme && scheme.length > 1) throw new TrackerUrlError(setting, `the scheme "${scheme}:" is not known (postgresql: or sqlite:)`);
  return { kind: 'sqlite', path: isAbsolute(setting) ? setting : resolve(setting) };
}

/** A tracker location for messages: the file path, or the URL without its password. */
export function describeTarget(target: TrackerTarget): string {
  if (target.kind === 'sqlite') return target.path;
  const url = new URL(target.url);
  if (url.password) url.password = '***';
  return url.toString();
}
