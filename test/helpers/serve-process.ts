import { spawn, type ChildProcess } from 'node:child_process';
import { cliPath } from './cli.js';

/** A `mlpipe serve` process started by a test. */
export interface ServeProcess {
  child: ChildProcess;
  /** Resolves with the URL once the server prints its "serving … at URL" line; rejects when it exits first. */
  url: Promise<string>;
  exited: Promise<number | null>;
  stderr(): string;
}

/** Starts `mlpipe serve ARGS --port 0` in `cwd` like a user (CI=true, no colour). */
export function startServe(cwd: string, env: Record<string, string>, ...args: string[]): ServeProcess {
  const child = spawn(process.execPath, [cliPath, 'serve', ...args, '--port', '0'], { cwd, env: { ...process.env, ...env, CI: 'true', NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let err = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /serving .* at (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`serve exited ${code} before listening:\n${err}`)));
  });
  return { child, url, exited, stderr: () => err };
}

/** Starts `mlpipe serve REF`, POSTs `instances` to /predict once, stops it (SIGTERM); gives the answer and the server's exit code. */
export async function serveAndPredictOnce(cwd: string, env: Record<string, string>, ref: string, instances: unknown[]): Promise<{ status: number; body: any; exitCode: number | null }> {
  const server = startServe(cwd, env, ref);
  let answer: { status: number; body: any };
  try {
    const res = await fetch(`${await server.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances }) });
    answer = { status: res.status, body: await res.json() };
  } finally {
    server.child.kill('SIGTERM');
  }
  return { ...answer, exitCode: await server.exited };
}
