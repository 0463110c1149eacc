import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { hashPath } from '../hash/hash-path.js';
import type { FileHasher } from '../hash/stat-cache.js';
import type { CodeEntry } from './entries.js';
import type { ImportCache, ParsedImports } from './import-cache.js';
import { parseJsImports } from './js-imports.js';
import { NoPythonError, parsePyImports } from './py-imports.js';
import { JS_MODULE, resolveJsSpecifier, resolvePythonImport } from './resolve-imports.js';

export interface DiscoverOptions {
  /** The folder the command runs in: script paths and `python -m` modules resolve against it. */
  cwd: string;
  /** The project root: files outside it are ignored. */
  root: string;
  hasher: FileHasher;
  cache: ImportCache;
  /**
   * `input`: the file is keyed already (a declared dep) — followed, not listed; `output`: a stage
   * writes it — neither listed nor followed (it may not exist yet, and the upstream output keys it).
   */
  covered(abs: string): 'input' | 'output' | undefined;
  /** Said once per problem (python3 missing). */
  onWarning?(message: string): void;
}

/** Folders of installed packages: what they hold is not the project's code. */
const PACKAGE_FOLDERS = new Set(['node_modules', 'site-packages', 'dist-packages', '__pycache__']);

interface Pending {
  abs: string;
  lang: 'js' | 'py';
  /** Python's `sys.path[0]` for absolute imports. */
  searchRoot: string;
}

/** Python problems already warned about in this process (a sweep plans many points). */
const warnedPython = new Set<string>();

/**
 * The project's code files the entries run, transitively through their local imports, with their
 * content digests (absolute path → digest, sorted): the entry files, the modules they import, the
 * modules those import… Packages (node_modules, site-packages), files outside the project root,
 * covered files and generated ones are left out. Each file's imports are read from `cache` by its
 * digest, else parsed (and remembered): an unchanged tree is not parsed again.
 */
export async function discoverCodeFiles(entries: readonly CodeEntry[], opts: DiscoverOptions): Promise<Record<string, string>> {
  const root = await realpath(opts.root).catch(() => resolve(opts.root));
  const found = new Map<string, string>();
  const seen = new Set<string>();
  let level: Pending[] = [];
  for (const e of entries) {
    if ('module' in e) level.push(...(await resolvePythonImport(opts.cwd, { module: e.module, level: 0, names: [] }, opts.cwd)).map((abs) => ({ abs, lang: 'py' as const, searchRoot: opts.cwd })));
    else {
      const abs = resolve(opts.cwd, e.path);
      level.push({ abs, lang: e.lang, searchRoot: dirname(abs) });
    }
  }
  while (level.length > 0) {
    const files: (Pending & { digest: string })[] = [];
    for (const p of level) {
      if (seen.has(p.abs)) continue;
      seen.add(p.abs);
      if (!(await isProjectFile(root, p.abs))) continue;
      const covered = opts.covered(p.abs);
      if (covered === 'output') continue;
      let digest: string;
      try {
        digest = (await hashPath(p.abs, opts.hasher)).digest;
      } catch {
        continue; // not there (the command will say so) or not a plain file
      }
      if (covered !== 'input') found.set(p.abs, digest);
      files.push({ ...p, digest });
    }
    await parseMissing(files, opts);
    const next: Pending[] = [];
    for (const f of files) {
      const parsed = opts.cache.get(f.lang, f.digest);
      if (!parsed) continue;
      if ('js' in parsed) {
        for (const s of parsed.js) {
          const abs = await resolveJsSpecifier(f.abs, s);
          if (abs) next.push({ abs, lang: 'js', searchRoot: f.searchRoot });
        }
      } else {
        for (const imp of parsed.py) next.push(...(await resolvePythonImport(f.abs, imp, f.searchRoot)).map((abs) => ({ abs, lang: 'py' as const, searchRoot: f.searchRoot })));
      }
    }
    level = next;
  }
  await opts.cache.save();
  return Object.fromEntries([...found].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Parses the files whose digest the cache does not know: JS/TS one by one in this process, Python all at once in one python3. */
async function parseMissing(files: (Pending & { digest: string })[], opts: DiscoverOptions): Promise<void> {
  const missing = files.filter((f) => !opts.cache.get(f.lang, f.digest));
  for (const f of missing.filter((m) => m.lang === 'js')) {
    const parsed: ParsedImports = { js: JS_MODULE.test(f.abs) ? await parseJsImports(f.abs).catch(() => []) : [] };
    opts.cache.set('js', f.digest, parsed);
  }
  const py = missing.filter((m) => m.lang === 'py');
  if (py.length === 0) return;
  try {
    const parsed = await parsePyImports(py.map((f) => f.abs));
    for (const f of py) opts.cache.set('py', f.digest, { py: parsed[f.abs] ?? [] });
  } catch (err) {
    // a fingerprint that cannot be taken never stops the run: the scripts themselves are still keyed
    const problem = err instanceof NoPythonError ? err.message : (err as Error).message.split('\n')[0]!;
    if (!warnedPython.has(problem)) {
      warnedPython.add(problem);
      opts.onWarning?.(`${problem}: the modules that ${py.map((f) => relative(opts.root, f.abs)).join(', ')} import${py.length === 1 ? 's' : ''} are not part of the cache key (only the script itself); install python3 (or set MLPIPE_PYTHON) so that changing them re-runs the stage`);
    }
  }
}

async function isProjectFile(root: string, abs: string): Promise<boolean> {
  const real = await realpath(abs).catch(() => undefined);
  if (real === undefined) return false;
  const rel = relative(root, real);
  if (rel === '' || isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) return false;
  return !rel.split(sep).some((part) => PACKAGE_FOLDERS.has(part));
}
