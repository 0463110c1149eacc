import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { forEachLimit } from '../async/for-each-limit.js';
import { hashFile } from '../hash/hash-file.js';
import { CacheCorruptError, InvalidDigestError, MissingObjectError, SourceChangedError } from './errors.js';
import { httpStatusOf, isNotFound, remoteProblem, RemoteUnavailableError } from './remote-errors.js';
import { parseS3Url, type S3Location } from './s3-url.js';
import type { GetOptions, MaintainableStore, RemoteSettings } from './types.js';

const HEX = /^[0-9a-f]{3,}$/;
/** Parallel requests of one store call (existence checks of a batch, listings of shards). */
const PARALLEL_REQUESTS = 16;
/** A shard (`objects/ab/`) with at least this many digests asked about is listed instead of asked object by object. */
const LIST_SHARD_FROM = 3;
/** Whole-transfer attempts of an object (a body stream cannot be rewound, so the SDK's own retries do not cover it). */
const TRANSFER_ATTEMPTS = 4;
const RETRY_BASE_MS = 200;
/** Multipart uploads left by a push that died are aborted by `gc --remote` after this long. */
const STALE_UPLOAD_MS = 24 * 3600_000;

/** Tuning of {@link S3ObjectStore}; the defaults suit AWS and MinIO alike. */
export interface S3StoreOptions {
  /** Objects of at least this many bytes are uploaded in parts (default 64 MiB). */
  multipartThresholdBytes?: number;
  /** Size of one part (default 16 MiB; S3's minimum is 5 MiB). */
  partSizeBytes?: number;
  /** Parts of one object in flight at once (default 4). */
  partsInFlight?: number;
  /** Attempts of one request for the SDK's retry strategy (default 5: throttling, 5xx and dropped connections). */
  maxAttempts?: number;
}

/**
 * A remote cache in an S3 bucket (AWS or any S3-compatible server), laid out as the folder store:
 * ```
 * PREFIX/objects/ab/cdef…          file contents, named by digest
 * PREFIX/manifests/ab/abcd….json   StageManifest per cache key
 * PREFIX/quarantine/…              objects found corrupt by `mlpipe cache verify`-style checks
 * ```
 * A PUT is atomic in S3, so an object or manifest appears whole or not at all; big objects go up
 * in parts (`@aws-sdk/lib-storage`) and appear when the upload completes. Every download is
 * written to a temp file, checked (size, and the hash when asked) and renamed into place.
 * Credentials come from the standard AWS chain (environment, profile, SSO, instance role), never
 * from mlpipe.yaml. Requests are retried by the SDK (exponential backoff); a server that does not
 * answer, a missing bucket or missing credentials is a {@link RemoteUnavailableError} (exit 2).
 */
export class S3ObjectStore implements MaintainableStore {
  readonly location: string;
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly endpoint: string | undefined;
  private readonly opts: Required<S3StoreOptions>;
  private connected: Promise<void> | undefined;

  constructor(settings: RemoteSettings, options: S3StoreOptions = {}) {
    const where: S3Location = parseS3Url(settings.url);
    this.bucket = where.bucket;
    this.prefix = where.prefix;
    this.location = `s3://${where.bucket}/${where.prefix}`;
    this.endpoint = settings.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
    this.opts = { multipartThresholdBytes: 64 << 20, partSizeBytes: 16 << 20, partsInFlight: 4, maxAttempts: 5, ...options };
    // The SDK's notice about future Node versions would land in every command's stderr.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new S3Client({
      endpoint: settings.endpoint,
      region: settings.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      forcePathStyle: settings.pathStyle ?? this.endpoint !== undefined,
      profile: settings.profile,
      maxAttempts: this.opts.maxAttempts,
      // mlpipe checks every object against its own digest (BLAKE3); S3-compatible servers often reject the SDK's default CRC trailers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 120_000 },
    });
  }

  /** The key of an object in the bucket. */
  objectKey(digest: string): string {
    checkHex(digest);
    return `${this.prefix}objects/${digest.slice(0, 2)}/${digest.slice(2)}`;
  }

  /** The key of a manifest in the bucket. */
  manifestKey(key: string): string {
    checkHex(key);
    return `${this.prefix}manifests/${key.slice(0, 2)}/${key}.json`;
  }

  /** Checks once that the bucket answers (HeadBucket): an unreachable server, a missing bucket or missing credentials fail here, clearly. */
  connect(): Promise<void> {
    this.connected ??= this.client.send(new HeadBucketCommand({ Bucket: this.bucket })).then(
      () => undefined,
      (error: unknown) => {
        this.connected = undefined;
        if (httpStatusOf(error) === 404) throw remoteProblem(Object.assign(new Error('no such bucket'), { name: 'NoSuchBucket' }), this.described())!;
        throw remoteProblem(error, this.described()) ?? error;
      },
    );
    return this.connected;
  }

  async has(digest: string): Promise<boolean> {
    return (await this.head(this.objectKey(digest))) !== undefined;
  }

  async hasMany(digests: readonly string[]): Promise<Set<string>> {
    const shards = new Map<string, string[]>();
    for (const digest of new Set(digests)) {
      checkHex(digest);
      const shard = digest.slice(0, 2);
      shards.set(shard, [...(shards.get(shard) ?? []), digest]);
    }
    const found = new Set<string>();
    const listed = [...shards].filter(([, ds]) => ds.length >= LIST_SHARD_FROM);
    const asked = [...shards].filter(([, ds]) => ds.length < LIST_SHARD_FROM).flatMap(([, ds]) => ds);
    await forEachLimit(listed, PARALLEL_REQUESTS, async ([shard, ds]) => {
      const wanted = new Set(ds);
      for await (const key of this.keys(`${this.prefix}objects/${shard}/`)) {
        const digest = shard + key.slice(key.lastIndexOf('/') + 1);
        if (wanted.has(digest)) found.add(digest);
      }
    });
    await forEachLimit(asked, PARALLEL_REQUESTS, async (digest) => {
      if (await this.has(digest)) found.add(digest);
    });
    return found;
  }

  async put(digest: string, src: string, opts: { size: number; move?: boolean }): Promise<void> {
    const key = this.objectKey(digest);
    const { size } = await stat(src);
    if (size !== opts.size) throw new SourceChangedError(src, `${opts.size} bytes`, `${size} bytes`);
    await this.transfer(async () => {
      if (size >= this.opts.multipartThresholdBytes) {
        const upload = new Upload({
          client: this.client,
          params: { Bucket: this.bucket, Key: key, Body: createReadStream(src) },
          partSize: this.opts.partSizeBytes,
          queueSize: this.opts.partsInFlight,
          leavePartsOnError: false,
        });
        await upload.done();
      } else {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: createReadStream(src), ContentLength: size }));
      }
    });
  }

  async get(digest: string, dest: string, opts: GetOptions = {}): Promise<void> {
    const key = this.objectKey(digest);
    await mkdir(dirname(dest), { recursive: true });
    const temp = join(dirname(dest), `.${process.pid}-${randomBytes(6).toString('hex')}.part`);
    try {
      const got = await this.transfer(() => this.download(key, temp));
      if (got === undefined) throw new MissingObjectError(digest, `s3://${this.bucket}/${key}`);
      if (opts.size !== undefined && got !== opts.size) throw new CacheCorruptError(digest, `${opts.size} bytes`, `${got} bytes`, undefined);
      if (opts.verify) {
        const actual = await hashFile(temp);
        if (actual !== digest) throw new CacheCorruptError(digest, 'bytes with that hash', `bytes hashing to ${actual}`, undefined);
      }
      await chmod(temp, opts.mode ?? 0o644);
      await rm(dest, { force: true });
      await rename(temp, dest);
    } finally {
      await rm(temp, { force: true });
    }
  }

  list(): AsyncIterable<string> {
    return this.digestsUnder('objects/', (name) => name);
  }

  async delete(digest: string): Promise<void> {
    await this.call(() => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(digest) })));
  }

  async getManifest(key: string): Promise<string | undefined> {
    return this.transfer(async () => {
      try {
        const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.manifestKey(key) }));
        return await response.Body!.transformToString('utf8');
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    });
  }

  async putManifest(key: string, text: string): Promise<void> {
    await this.call(() => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.manifestKey(key), Body: text, ContentType: 'application/json' })));
  }

  listManifests(): AsyncIterable<string> {
    return this.digestsUnder('manifests/', (name) => (name.endsWith('.json') ? name.slice(0, -'.json'.length) : undefined));
  }

  async deleteManifest(key: string): Promise<void> {
    await this.call(() => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.manifestKey(key) })));
  }

  async stat(digest: string): Promise<{ size: number; mtimeMs: number } | undefined> {
    return this.head(this.objectKey(digest));
  }

  async manifestMtime(key: string): Promise<number | undefined> {
    return (await this.head(this.manifestKey(key)))?.mtimeMs;
  }

  /** Downloads and hashes the object; a mismatch moves it under `quarantine/` and is returned. */
  async verify(digest: string): Promise<CacheCorruptError | undefined> {
    const folder = join(tmpdir(), 'mlpipe-verify');
    await mkdir(folder, { recursive: true });
    const temp = join(folder, `${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      if ((await this.transfer(() => this.download(this.objectKey(digest), temp))) === undefined) return undefined;
      const actual = await hashFile(temp);
      if (actual === digest) return undefined;
      return new CacheCorruptError(digest, 'bytes with that hash', `bytes hashing to ${actual}`, await this.quarantineKey(this.objectKey(digest), digest));
    } finally {
      await rm(temp, { force: true });
    }
  }

  async quarantineManifest(key: string): Promise<string | undefined> {
    return this.quarantineKey(this.manifestKey(key), `manifest-${key}.json`);
  }

  /**
   * Deletes an object pushed before `cutoffMs`. S3 has no rename to check the time again after, so a
   * push that skips this object (it is there) while gc deletes it leaves an entry whose object is
   * gone: that entry is then a cache miss (never used), and the next push sends the object again.
   */
  async removeIfOlderThan(digest: string, cutoffMs: number): Promise<number | undefined> {
    const found = await this.stat(digest);
    if (!found || found.mtimeMs >= cutoffMs) return undefined;
    await this.delete(digest);
    return found.size;
  }

  async removeManifestIfOlderThan(key: string, cutoffMs: number): Promise<boolean> {
    const at = await this.manifestMtime(key);
    if (at === undefined || at >= cutoffMs) return false;
    await this.deleteManifest(key);
    return true;
  }

  /**
   * Aborts the multipart uploads under the prefix that a push which died left more than a day ago
   * (their parts are billed but never visible). Returns how many; 0 where the server cannot list them.
   */
  async removeStaleTemps(): Promise<number> {
    let removed = 0;
    try {
      const response = await this.call(() => this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: this.prefix })));
      for (const upload of response.Uploads ?? []) {
        if (!upload.Key || !upload.UploadId || (upload.Initiated?.getTime() ?? Date.now()) > Date.now() - STALE_UPLOAD_MS) continue;
        await this.call(() => this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId })));
        removed++;
      }
    } catch (error) {
      if (httpStatusOf(error) === 501 || (error as { name?: string }).name === 'NotImplemented') return 0;
      throw error;
    }
    return removed;
  }

  /** Size and time of a key, undefined when absent. */
  private async head(key: string): Promise<{ size: number; mtimeMs: number } | undefined> {
    try {
      const response = await this.call(() => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })));
      return { size: response.ContentLength ?? 0, mtimeMs: response.LastModified?.getTime() ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Streams `key` into `path`; returns the bytes written, or undefined when the key is absent. */
  private async download(key: string, path: string): Promise<number | undefined> {
    let response;
    try {
      response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    await pipeline(response.Body as Readable, createWriteStream(path));
    return (await stat(path)).size;
  }

  private async *keys(prefix: string): AsyncIterable<string> {
    let token: string | undefined;
    do {
      const page = await this.call(() => this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })));
      for (const item of page.Contents ?? []) if (item.Key) yield item.Key;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** The digests (or keys) under `PREFIX/folder/ab/…`, whose file name `name` turns into the rest after the shard. */
  private async *digestsUnder(folder: string, name: (file: string) => string | undefined): AsyncIterable<string> {
    const root = `${this.prefix}${folder}`;
    for await (const key of this.keys(root)) {
      const [shard, file, ...more] = key.slice(root.length).split('/');
      const rest = file === undefined || more.length > 0 ? undefined : name(file);
      if (shard?.length !== 2 || rest === undefined) continue;
      const id = folder === 'objects/' ? shard + rest : rest;
      if (HEX.test(id) && id.startsWith(shard)) yield id;
    }
  }

  private async quarantineKey(key: string, name: string): Promise<string | undefined> {
    const target = `${this.prefix}quarantine/${name}.${Date.now()}.${randomBytes(3).toString('hex')}`;
    try {
      await this.call(() => this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: target, CopySource: `${this.bucket}/${key}` })));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    await this.call(() => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
    return `s3://${this.bucket}/${target}`;
  }

  /** One request after {@link connect}, its SDK failure turned into a RemoteUnavailableError where the user must act. */
  private async call<T>(request: () => Promise<T>): Promise<T> {
    await this.connect();
    try {
      return await request();
    } catch (error) {
      throw remoteProblem(error, this.described()) ?? error;
    }
  }

  /** {@link call} for a whole transfer, attempted again (with backoff) when the connection dropped midway. */
  private async transfer<T>(run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.call(run);
      } catch (error) {
        if (attempt >= TRANSFER_ATTEMPTS || !(error instanceof RemoteUnavailableError) || !isTransient(error.cause)) throw error;
        await new Promise((r) => setTimeout(r, RETRY_BASE_MS * 2 ** (attempt - 1)));
      }
    }
  }

  private described() {
    return { url: this.location, endpoint: this.endpoint };
  }
}

function isTransient(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code ?? '';
  return ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED'].includes(code) || (error as { name?: string } | undefined)?.name === 'TimeoutError';
}

function checkHex(value: string): void {
  if (!HEX.test(value)) throw new InvalidDigestError(value);
}
