/** A cache object's bytes do not match its digest or recorded size; it has been moved to quarantine. */
export class CacheCorruptError extends Error {
  constructor(
    readonly digest: string,
    readonly expected: string,
    readonly got: string,
    readonly quarantinedTo: string | undefined,
    options?: { cause?: unknown },
  ) {
    const where = quarantinedTo ? `It was moved to ${quarantinedTo}, so` : 'Delete it:';
    super(
      `Cache object ${digest} is corrupt: expected ${expected}, got ${got}. ${where} the stage becomes a cache miss ` +
        'and is rebuilt on the next run: mlpipe run PIPELINE.yaml',
      options,
    );
    this.name = 'CacheCorruptError';
  }
}

/** A cache object named by a manifest is not in the store. */
export class MissingObjectError extends Error {
  constructor(
    readonly digest: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Cache object ${digest} is missing (expected at ${path}). The cache entry cannot be restored; ` +
        'rerun the stage to rebuild it: mlpipe run PIPELINE.yaml',
      options,
    );
    this.name = 'MissingObjectError';
  }
}

/** A digest or cache key that is not lowercase hex (and so could not name a file in the store). */
export class InvalidDigestError extends Error {
  constructor(readonly value: string) {
    super(`Invalid digest or cache key ${JSON.stringify(value)}: expected lowercase hex of at least 3 characters.`);
    this.name = 'InvalidDigestError';
  }
}

/** A file changed between being hashed and being copied into the store. */
export class SourceChangedError extends Error {
  constructor(
    readonly path: string,
    readonly expectedSize: number,
    readonly gotSize: number,
  ) {
    super(
      `${path} changed while it was being stored: expected ${expectedSize} bytes, got ${gotSize}. ` +
        'Leave stage outputs alone until the stage has finished, then run it again.',
    );
    this.name = 'SourceChangedError';
  }
}
