import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/**
 * A real S3-protocol server for one test file: s3rver (an npm package, so `npm ci` brings it and
 * CI needs no service) on a random loopback port, keeping its buckets in a temp folder.
 */
export interface S3TestServer {
  endpoint: string;
  bucket: string;
  /** Where s3rver keeps the objects (`DIR/BUCKET/KEY._S3rver_object`). */
  dir: string;
  /** What a process needs to reach it through the standard AWS chain (static test credentials, no instance metadata lookups). */
  env: Record<string, string>;
  /** Stops the server (a second call does nothing); `restart()` starts it again on the same port and folder. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  cleanup(): Promise<void>;
}

/** The environment for the AWS SDK in tests: static credentials, and never the EC2 metadata address. */
export const S3_TEST_ENV = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' };

export async function startS3Server(bucket = 'mlpipe-test'): Promise<S3TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'mlpipe-s3-'));
  let port = 0;
  let server: { close(): Promise<void> } | undefined;
  const start = async () => {
    const s = new S3rver({ port, address: '127.0.0.1', directory: dir, silent: true, configureBuckets: [{ name: bucket }] });
    const address = (await s.run()) as { port: number };
    port = address.port;
    server = s;
  };
  await start();
  const stop = async () => {
    const s = server;
    server = undefined;
    await s?.close();
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    dir,
    env: { ...S3_TEST_ENV },
    stop,
    restart: start,
    cleanup: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
