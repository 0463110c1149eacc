import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * util-linux's flock(1). Node has no flock(2) in core; flock(1) given a descriptor number locks the open
 * file description it inherited, which mlpipe keeps open after flock(1) exits: the kernel lock is then
 * mlpipe's (and that of every child given the descriptor) until the last of them closes it or dies.
 */
const FLOCK = ['/usr/bin/flock', '/bin/flock'].find((p) => existsSync(p));

/** Whether kernel locks are available here (Linux with util-linux; not macOS by default). */
export const hasKernelLocks = FLOCK !== undefined;

const CONFLICT = 75;

/**
 * Takes an exclusive flock(2) on the open file description behind `fd`, waiting up to `waitSeconds`
 * (0: not at all). Resolves true when taken, false when another description holds it. Aborting the
 * signal stops the wait (false).
 */
export function flockFd(fd: number, waitSeconds: number, signal?: AbortSignal): Promise<boolean> {
  if (!FLOCK) return Promise.reject(new Error('flock(1) is not installed'));
  const args = ['-x', '-E', String(CONFLICT), ...(waitSeconds > 0 ? ['-w', String(waitSeconds)] : ['-n']), '3'];
  return new Promise((resolve, reject) => {
    const child = spawn(FLOCK, args, { stdio: ['ignore', 'ignore', 'pipe', fd] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const stop = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', stop, { once: true });
    child.on('error', reject);
    child.on('close', (code) => {
      signal?.removeEventListener('abort', stop);
      if (code === 0) resolve(true);
      else if (code === CONFLICT || signal?.aborted) resolve(false);
      else reject(new Error(`flock(1) failed (exit ${code}): ${stderr.trim()}`));
    });
  });
}
