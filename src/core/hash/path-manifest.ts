/** One regular file of a hashed path. */
export interface ManifestFile {
  /** Relative path inside the output ('' when the output is a single file). POSIX separators. */
  path: string;
  hash: string;
  size: number;
  mode: number;
}

/** What hashing a file or folder gives: its digest and every file in it (see `hashPath`). */
export interface OutputManifest {
  type: 'file' | 'dir';
  /** Digest of the whole output: a file's hash, or the hash of a folder's sorted listing. */
  digest: string;
  files: ManifestFile[];
}
