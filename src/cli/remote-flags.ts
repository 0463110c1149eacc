import { existsSync } from 'node:fs';
import { Args, Flags } from '@oclif/core';
import { UserError } from '../errors.js';
import type { ProjectConfig } from '../core/config/resolve-config.js';
import { LocalObjectStore } from '../core/store/local-store.js';
import type { MaintainableStore } from '../core/store/types.js';
import type { RemoteOpener } from '../app/models/fetch-model-files.js';
import type { TransferSelection } from '../app/remote/transfer.js';
import { transferProgress } from '../render/transfer.js';
import { openRemote } from './queue-flags.js';
import { isInteractive } from './reporters.js';
import { loadSpecOrThrow } from './spec-flags.js';

/** `--remote`: a configured remote's name or a URL / folder, for push, pull, run --pull/--push and gc --remote. */
export const remoteNameFlag = Flags.string({
  description: 'The remote cache: a name from mlpipe.yaml (mlpipe remote list), s3://BUCKET/PREFIX or a folder (else MLPIPE_REMOTE, else default_remote: in mlpipe.yaml).',
});

/** The arguments and flags `push` and `pull` share. */
export const transferArgs = { spec: Args.string({ description: 'The pipeline spec whose current outputs are sent or fetched (default: pipeline.yaml).', required: false }) };
export const transferFlags = {
  remote: remoteNameFlag,
  run: Flags.string({ description: 'The entries of this run (an id or unambiguous prefix) instead of a pipeline.', exclusive: ['all'] }),
  all: Flags.boolean({ description: 'Every entry of the cache it copies from.', default: false, exclusive: ['run'] }),
  jobs: Flags.integer({ description: 'Objects transferred at once.', default: 8, min: 1 }),
  set: Flags.string({ description: 'Override a param or a stage key, as with mlpipe run (the pipeline\'s keys depend on them).', multiple: true }),
  params: Flags.string({ description: 'A YAML/JSON file of params, as with mlpipe run.' }),
};

/**
 * The remote in force (flag > MLPIPE_REMOTE > default_remote), opened and checked: an S3 server
 * that does not answer (or a missing bucket, missing credentials) fails here with exit 2; a
 * folder remote must exist to be read from.
 */
export async function connectRemote(config: ProjectConfig, purpose: 'read' | 'write'): Promise<MaintainableStore> {
  const target = config.remote.value;
  if (!target) {
    throw new UserError('no remote cache is set', {
      hint: 'add one (mlpipe remote add origin s3://BUCKET/PREFIX, or a folder every machine reaches), or pass --remote URL, or set MLPIPE_REMOTE',
    });
  }
  const store = await openRemote(target);
  if (store instanceof LocalObjectStore && purpose === 'read' && !existsSync(store.root)) {
    throw new UserError(`the remote folder ${store.root} does not exist`, { hint: 'check the path (mlpipe remote list), or mount the share; a teammate creates it with mlpipe push' });
  }
  const connect = (store as { connect?: () => Promise<void> }).connect;
  if (connect) await connect.call(store);
  return store;
}

/**
 * The remote in force, its config read and the remote opened the first time it is needed (serve and
 * predict fetch a version's files only when they are not here); undefined when none is configured.
 */
export function remoteOpener(configOf: () => ProjectConfig): RemoteOpener {
  let opened: Promise<MaintainableStore | undefined> | undefined;
  return async () => {
    opened ??= (async () => {
      const config = configOf();
      return config.remote.value ? connectRemote(config, 'read') : undefined;
    })();
    return opened;
  };
}

/** What `push` / `pull` copy: `--run`, `--all`, else the pipeline (default pipeline.yaml). */
export async function transferSelection(spec: string | undefined, flags: { run?: string; all: boolean; set?: string[]; params?: string }): Promise<TransferSelection> {
  if (flags.run) return { run: flags.run };
  if (flags.all) return { all: true };
  return { spec: await loadSpecOrThrow(spec ?? 'pipeline.yaml', flags) };
}

/** A progress line on stderr that rewrites itself, at a terminal only (nothing in CI, pipes or --json). */
export function progressLine(direction: 'push' | 'pull', json: boolean): { onProgress?: (p: { done: number; total: number; bytes: number; totalBytes: number }) => void; done(): void } {
  if (json || !isInteractive()) return { done() {} };
  let shown = false;
  let last = 0;
  return {
    onProgress(p) {
      const now = Date.now();
      if (now - last < 100 && p.done < p.total) return;
      last = now;
      shown = true;
      process.stderr.write(`\r\x1b[2K${transferProgress(direction, p)}`);
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[2K');
    },
  };
}
