// `mlpipe serve` as a child process for the serving benchmarks: resolves once it prints its address.
import { spawn } from 'node:child_process';

/** Starts `node CLI serve …args` in `cwd`; resolves to its URL and a stop function. */
export function startServe(cli, args, { cwd, env }) {
  const child = spawn(process.execPath, [cli, 'serve', ...args], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      err += d;
      const m = /serving .* at (http:\/\/[\d.:]+)/.exec(err);
      if (m) resolve({ url: m[1], stop: () => new Promise((r) => (child.on('close', r), child.kill('SIGTERM'))) });
    });
    child.on('close', (code) => reject(new Error(`serve ${args[0]} exited ${code}: ${err}`)));
  });
}
