import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The e2e project's setup (vitest.config.ts): e2e tests spawn the built CLI, so the build must be
 * current. Runs once before any test starts. MLPIPE_SKIP_BUILD=1 reuses the build that is there.
 */
export default function setup(): void {
  if (process.env.MLPIPE_SKIP_BUILD === '1') return;
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
}
