import { readFileSync } from 'node:fs';

/**
 * Whether `pid` is a running process on this host: `kill(pid, 0)` succeeds (or is refused with
 * EPERM: it exists, under another user), and on Linux /proc does not show it as a zombie (a parent
 * that SIGKILLs mlpipe and never wait()s leaves one that still answers signals).
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT' || !process.platform.startsWith('linux');
  }
}
