import { spawn, type ChildProcess } from 'node:child_process';
import { cliPath } from '../helpers/cli.js';

/** A `mlpipe serve` process listening on a free port. */
export interface ServeProcess {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `mlpipe serve ARGS --port 0` in `cwd` and waits (bounded by the process's life) for its "serving … at URL" line. */
export function startServe(cwd: string, env: Record<string, string>, ...args: string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, [cliPath, 'serve', ...args, '--port', '0'], { cwd, env: { ...process.env, ...env, CI: 'true', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /serving .* at (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) resolve({ child, url: m[1]!, stderr: () => err, exited });
    });
    void exited.then((code) => reject(new Error(`serve exited ${code} before listening:\n${err}`)));
  });
}
