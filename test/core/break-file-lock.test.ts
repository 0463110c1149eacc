import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { breakFileLock } from '../../src/core/workspace-lock.js';

// Issue 14.3 where there are no kernel locks (flock(1) missing): `mlpipe unlock` removes a lock file
// only when its holder cannot be alive; one taken on another host needs --force.

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function lockFile(holder: { pid: number; host: string; label: string }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlpipe-lock-'));
  dirs.push(dir);
  const path = join(dir, 'w.lock');
  writeFileSync(path, JSON.stringify(holder));
  return path;
}

describe('breakFileLock', () => {
  it('refuses a live holder on this host', async () => {
    const path = lockFile({ pid: process.pid, host: hostname(), label: 'p' });
    await expect(breakFileLock(path, { force: true })).rejects.toThrowError(`the workspace lock ${path} is held by pid ${process.pid} (p), which is alive: a live lock is not broken`);
    expect(existsSync(path)).toBe(true);
  });

  it('refuses a holder on another host without --force, and removes it with', async () => {
    const path = lockFile({ pid: 4242, host: 'elsewhere', label: 'p' });
    await expect(breakFileLock(path)).rejects.toThrowError(`the workspace lock ${path} was taken on elsewhere (pid 4242, p); mlpipe cannot tell from ${hostname()} whether that process is alive`);
    expect(existsSync(path)).toBe(true);
    await expect(breakFileLock(path, { force: true })).resolves.toEqual({ pid: 4242, host: 'elsewhere', label: 'p' });
    expect(existsSync(path)).toBe(false);
  });

  it('removes a dead holder on this host', async () => {
    const path = lockFile({ pid: 2 ** 22 + 1, host: hostname(), label: 'p' });
    await expect(breakFileLock(path)).resolves.toMatchObject({ label: 'p' });
    expect(existsSync(path)).toBe(false);
  });
});
