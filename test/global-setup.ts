import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** End-to-end tests spawn the built CLI, so the build must be current. Skip with MLPIPE_SKIP_BUILD=1 for unit-only runs. */
export default function setup(): void {
  if (process.env.MLPIPE_SKIP_BUILD === '1') return;
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
}
