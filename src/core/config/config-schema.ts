import { f, type ObjectField } from '../../schema/fields.js';
import type { CacheLinkType } from '../store/types.js';

/** The project configuration file's name, found by walking up from the current folder. */
export const CONFIG_FILE = 'mlpipe.yaml';

/** Remote names: what `--remote NAME` and `default_remote` say. */
export const REMOTE_NAME_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.-]*$';

/** One remote cache under `remotes:`. */
export const remoteField: ObjectField = f.object(
  'A remote cache that `mlpipe push` / `pull`, `run --pull` / `--push` and queue workers use.',
  {
    url: f.string('Where the remote is: s3://BUCKET/PREFIX, a folder (a path relative to mlpipe.yaml, or absolute) or file://PATH.'),
    endpoint: f.string('The S3 endpoint for S3-compatible servers (MinIO, Ceph, …), e.g. http://127.0.0.1:9000; default: AWS.'),
    region: f.string('The S3 region; default: the AWS chain\'s (AWS_REGION, the profile), else us-east-1.'),
    path_style: f.bool('Address the bucket in the path (http://HOST/BUCKET/KEY) instead of the host name: most S3-compatible servers need it.'),
    profile: f.string('The AWS profile (~/.aws/credentials, ~/.aws/config) whose credentials are used; default: the standard AWS chain.'),
  },
  { required: ['url'] },
);

/**
 * `mlpipe.yaml`: the settings a team shares (committed to git). Secrets never go here — the loader
 * refuses keys such as `password` or `secret_access_key`; a URL names a variable as `${env.NAME}`.
 */
export const configField: ObjectField = f.object('mlpipe project configuration (mlpipe.yaml at the project root).', {
  tracker: f.string(
    'The experiment tracker: an SQLite file (relative to mlpipe.yaml) or postgresql://USER@HOST:5432/DB; a password comes from the environment, as ${env.NAME} in the URL or PGPASSWORD. Default: RUNS_DIR/tracker.db.',
  ),
  remotes: f.map('Remote caches by name.', remoteField, { keyPattern: REMOTE_NAME_PATTERN }),
  default_remote: f.string('The remote used when --remote / MLPIPE_REMOTE name none.', { pattern: REMOTE_NAME_PATTERN }),
  autopush: f.bool('Push the outputs of every run to the remote when it completes, as `run --push` does.', { default: false }),
  executor: f.enum('Where stages run: here, or on `mlpipe worker`s through the queue (needs a remote).', ['local', 'queue'], { default: 'local' }),
  queue: f.string('The Redis of the job queue (redis://HOST:6379); a password comes from the environment, as ${env.NAME}.', { default: 'redis://127.0.0.1:6379' }),
  queue_prefix: f.string('Key prefix of the queue in Redis: coordinators and workers that work together use the same one.', { default: 'mlpipe' }),
  cache: f.object('The local cache (runs/cache).', {
    type: f.array(
      'How outputs restored from the cache are placed in the workspace, in order of preference (DVC\'s cache.type): reflink (a copy-on-write clone, where the file system has it: btrfs, XFS, APFS), hardlink (a read-only hard link to the cache object: no copy, no extra disk; a stage removes its outs before it runs, so the object is never written through it; persist outs and executable files are always copied), copy. The first that works is used, a copy last.',
      f.enum('A way to place a file.', ['reflink', 'hardlink', 'copy']),
      { default: ['reflink', 'copy'], minItems: 1 },
    ),
  }),
});

/** Keys of mlpipe.yaml, as written. */
export const CONFIG_KEYS = Object.keys(configField.properties);

/** A remote as written in mlpipe.yaml. */
export interface RemoteEntry {
  url: string;
  endpoint?: string;
  region?: string;
  path_style?: boolean;
  profile?: string;
}

/** mlpipe.yaml's content after validation (keys as written; absent keys are absent). */
export interface ConfigFileValues {
  tracker?: string;
  remotes?: Record<string, RemoteEntry>;
  default_remote?: string;
  autopush?: boolean;
  executor?: 'local' | 'queue';
  queue?: string;
  queue_prefix?: string;
  cache?: { type?: CacheLinkType[] };
}
