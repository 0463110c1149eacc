import { UserError } from '../../errors.js';

/** A bucket and the key prefix under which a remote lives (`''` or ending in `/`). */
export interface S3Location {
  bucket: string;
  prefix: string;
}

/** Parses `s3://BUCKET[/PREFIX]`; the prefix gets a trailing slash, so keys are `PREFIX/objects/…`. */
export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/\s]+)\/?(.*)$/i.exec(url);
  if (!match) {
    throw new UserError(`the remote ${url} is not an S3 URL: expected s3://BUCKET/PREFIX`, { hint: 'e.g. mlpipe remote add origin s3://team-bucket/mlpipe' });
  }
  const prefix = match[2]!.replace(/^\/+|\/+$/g, '');
  return { bucket: match[1]!, prefix: prefix ? `${prefix}/` : '' };
}
