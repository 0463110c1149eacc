import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** What parsing one file found: its import specifiers (JS/TS) or imported modules (Python), as written. */
export type ParsedImports = { js: string[] } | { py: PythonImport[] };

/** One Python import statement: `import a.b` is `{ module: 'a.b', level: 0, names: [] }`, `from .. import y` is `{ module: '', level: 2, names: ['y'] }`. */
export interface PythonImport {
  module: string;
  level: number;
  names: string[];
}

/** The import cache keeps at most this many files' parses, dropping the oldest. */
export const MAX_PARSED_FILES = 20_000;

const VERSION = 1;

/**
 * What each code file imports, by its language and content digest, in `<runsDir>/cache/code-imports.json`:
 * a file whose digest is known is not parsed again (a no-op run parses nothing). Written atomically,
 * and only after something was added.
 */
export class ImportCache {
  private dirty = false;

  private constructor(
    readonly file: string,
    private readonly entries: Map<string, ParsedImports>,
  ) {}

  static async open(runsDir: string): Promise<ImportCache> {
    const file = join(runsDir, 'cache', 'code-imports.json');
    let entries = new Map<string, ParsedImports>();
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as { version?: number; files?: Record<string, ParsedImports> };
      if (parsed.version === VERSION && parsed.files && typeof parsed.files === 'object') entries = new Map(Object.entries(parsed.files));
    } catch {
      // absent or unreadable: a cache, so start empty
    }
    return new ImportCache(file, entries);
  }

  get(lang: 'js' | 'py', digest: string): ParsedImports | undefined {
    return this.entries.get(`${lang}:${digest}`);
  }

  set(lang: 'js' | 'py', digest: string, parsed: ParsedImports): void {
    const key = `${lang}:${digest}`;
    this.entries.delete(key);
    this.entries.set(key, parsed);
    while (this.entries.size > MAX_PARSED_FILES) this.entries.delete(this.entries.keys().next().value!);
    this.dirty = true;
  }

  /** Writes the file when something was added (a read-only runs folder only loses the speed-up). */
  async save(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const tmp = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(dirname(this.file), { recursive: true });
      await writeFile(tmp, JSON.stringify({ version: VERSION, files: Object.fromEntries(this.entries) }));
      await rename(tmp, this.file);
    } catch {
      await rm(tmp, { force: true }).catch(() => {});
    }
  }
}
