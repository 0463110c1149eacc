import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { irisRegistry, type IrisRegistry } from '../e2e/iris-models.js';

// Issue 14 item 8, end to end: 500 connections that sent headers and then trickled their bodies were
// all still open after 45 s. The built `mlpipe serve` now closes a request that has not arrived whole
// within its request timeout (30 s), and answers others meanwhile.

let reg: IrisRegistry;
let server: ChildProcess | undefined;
beforeAll(async () => {
  reg = await irisRegistry();
});
afterAll(async () => {
  server?.kill('SIGKILL');
  await reg?.cleanup();
});

const SLOW = 50;

describe('mlpipe serve and slow bodies (issue 14.8)', () => {
  it('closes connections whose body never finishes, and keeps answering', async () => {
    server = spawn(process.execPath, [cliPath, 'serve', 'iris@1', '--port', '0'], { cwd: reg.dir, env: { ...process.env, ...reg.env, CI: 'true', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    server.stderr!.on('data', (d) => (err += d));
    const exited = new Promise((resolve) => server!.on('close', resolve));
    const watched = { exited, stdout: () => '', stderr: () => err };
    await waitFor('serve to listen', () => /serving .* at http:\/\/127\.0\.0\.1:\d+/.test(err), watched);
    const port = Number(/at http:\/\/127\.0\.0\.1:(\d+)/.exec(err)![1]);

    const sockets: Socket[] = [];
    const closed = new Set<number>();
    const started = Date.now();
    for (let i = 0; i < SLOW; i++) {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => {});
      socket.on('close', () => closed.add(i));
      socket.write(`POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"instances":[`);
      sockets.push(socket);
    }
    const trickle = setInterval(() => sockets.forEach((s) => !s.destroyed && s.write(' ')), 1000);
    try {
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(health.status).toBe(200);
      await waitFor(`all ${SLOW} slow connections to be closed by the server`, () => closed.size === SLOW, watched, 180_000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(25_000);
      const after = await fetch(`http://127.0.0.1:${port}/health`);
      expect(after.status).toBe(200);
    } finally {
      clearInterval(trickle);
      sockets.forEach((s) => s.destroy());
    }
  });
});
