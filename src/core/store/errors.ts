/** A cache object's bytes do not match its digest or recorded size; it has been moved to quarantine. */
export class CacheCorruptError extends Error {
  constructor(
    readonly digest: string,
    readonly expected: string,
    readonly got: string,
    readonly quarantinedTo: string | undefined,
    options?: { cause?: unknown },
  ) {
    const where = quarantinedTo ? `It was moved to ${quarantinedTo} and is not used:` : 'It is not used:';
    super(
      `Cache object ${digest} is corrupt: expected ${expected}, got ${got}. ${where} the stage that produced it runs again ` +
        '(check the whole cache with: mlpipe cache verify)',
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
        'the stage that produced it runs again',
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

/** A file changed between being hashed and being copied into the store (`expected`/`got`: sizes or hashes, in words). */
export class SourceChangedError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(
      `${path} changed while it was being stored: expected ${expected}, got ${got}. ` +
        'Leave stage outputs alone until the stage has finished (is an earlier, killed run still writing them?), then run it again.',
    );
    this.name = 'SourceChangedError';
  }
}

const WRITE_PROBLEMS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
};

/**
 * Writing into the store failed for a reason of the machine (a full disk, a read-only or
 * unwritable folder). Whatever was being written has been removed again.
 */
export class StoreWriteError extends Error {
  constructor(
    /** The folder or file that could not be written. */
    readonly path: string,
    readonly code: string,
    options?: { cause?: unknown; what?: string },
  ) {
    const problem = WRITE_PROBLEMS[code] ?? `system error ${code || 'unknown'}`;
    const fix =
      code === 'ENOSPC' || code === 'EDQUOT'
        ? 'Free some space (mlpipe gc drops cache objects no run needs) or point --runs-dir at a bigger disk'
        : 'Make it writable or point --runs-dir (MLPIPE_RUNS_DIR) at a folder you can write';
    const what = options?.what ? `${options.what} into ` : '';
    super(`Cannot write ${what}${path}: ${problem} (${code}); nothing partial was kept. ${fix}, then run again: mlpipe run PIPELINE.yaml`, options);
    this.name = 'StoreWriteError';
  }

  /** Whether `error` is a write failure of the machine rather than a bug. */
  static isMachineProblem(error: unknown): error is NodeJS.ErrnoException & { code: string } {
    const code = (error as { code?: unknown } | undefined)?.code;
    return typeof code === 'string' && code in WRITE_PROBLEMS;
  }
}
