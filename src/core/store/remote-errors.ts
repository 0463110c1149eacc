import { UserError } from '../../errors.js';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);
const REFUSED_CREDENTIALS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'InvalidToken', 'ExpiredToken', 'Forbidden']);

/** Where a remote is, for messages: its URL and, for an S3-compatible server, the endpoint. */
export interface RemoteDescription {
  url: string;
  endpoint?: string;
}

/**
 * The remote cache cannot be used: it does not answer, its bucket is missing, or the credentials
 * are missing or refused. A user's problem (exit 2), with a hint naming what to check.
 */
export class RemoteUnavailableError extends UserError {
  readonly remote: string;
  constructor(remote: RemoteDescription, problem: string, opts: { hint: string; cause?: unknown }) {
    super(`cannot use the remote ${remote.url}${remote.endpoint ? ` (endpoint ${remote.endpoint})` : ''}: ${problem}`, { hint: opts.hint, cause: opts.cause });
    this.name = 'RemoteUnavailableError';
    this.remote = remote.url;
  }
}

/** The error's HTTP status from the AWS SDK, if it has one. */
export function httpStatusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** Whether an SDK error says the key is not there (404 / NoSuchKey / NotFound). */
export function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || (httpStatusOf(error) === 404 && name !== 'NoSuchBucket');
}

/**
 * A {@link RemoteUnavailableError} for an SDK failure that a user has to fix (the server is not
 * reachable, the bucket is missing, no or refused credentials); undefined for any other error.
 */
export function remoteProblem(error: unknown, remote: RemoteDescription): RemoteUnavailableError | undefined {
  const e = error as { name?: string; code?: string; message?: string; $metadata?: unknown } | undefined;
  const name = e?.name ?? '';
  const code = e?.code ?? (e as { cause?: { code?: string } } | undefined)?.cause?.code ?? '';
  const message = e?.message ?? String(error);
  const where = remote.endpoint ? `the endpoint ${remote.endpoint}` : 'the S3 endpoint';
  if (NETWORK_CODES.has(code) || name === 'TimeoutError' || name === 'RequestTimeout' || /ECONNREFUSED|ENOTFOUND|socket hang up/.test(message)) {
    return new RemoteUnavailableError(remote, `the server does not answer (${message})`, {
      hint: `check that the S3 server at ${where} is running and reachable from here, and the endpoint in mlpipe.yaml (mlpipe remote list shows it); then run the command again`,
      cause: error,
    });
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials|credential/i.test(name)) {
    return new RemoteUnavailableError(remote, `no AWS credentials were found (${message})`, {
      hint: 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or profile: in the remote\'s entry of mlpipe.yaml); credentials never go into mlpipe.yaml',
      cause: error,
    });
  }
  if (name === 'NoSuchBucket') {
    return new RemoteUnavailableError(remote, 'the bucket does not exist', { hint: `create the bucket at ${where}, or fix the URL: mlpipe remote add NAME s3://BUCKET/PREFIX --force`, cause: error });
  }
  if (REFUSED_CREDENTIALS.has(name) || httpStatusOf(error) === 403) {
    return new RemoteUnavailableError(remote, `the server refused the credentials (${name || 'HTTP 403'}: ${message})`, {
      hint: 'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the profile, and that they may read and write this bucket and prefix',
      cause: error,
    });
  }
  return undefined;
}
