import { stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PythonImport } from './import-cache.js';

/** Files node, tsx and ts-node load as modules (their imports are followed); other imported files (`.json`) are keyed, not parsed. */
export const JS_MODULE = /\.(?:[cm]?[jt]s|[jt]sx)$/;
const EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs', '.jsx', '.json'];
/** TypeScript's ESM convention: `import './b.js'` in a .ts file means b.ts. */
const TS_FOR_JS: Record<string, string[]> = { '.js': ['.ts', '.tsx'], '.mjs': ['.mts'], '.cjs': ['.cts'], '.jsx': ['.tsx'] };

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function firstFile(paths: string[]): Promise<string | undefined> {
  for (const p of paths) if (await isFile(p)) return p;
  return undefined;
}

/**
 * The file a relative or absolute JS/TS specifier of `from` loads (node's and TypeScript's rules:
 * the exact file, a TypeScript twin of a `.js` name, added extensions, `index.*` of a folder);
 * undefined for a package name (`lodash`, `node:fs`, `#internal`) or a file that is not there.
 */
export async function resolveJsSpecifier(from: string, specifier: string): Promise<string | undefined> {
  let target: string;
  if (specifier.startsWith('file:')) {
    try {
      target = fileURLToPath(specifier);
    } catch {
      return undefined;
    }
  } else if (specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || specifier === '..' || isAbsolute(specifier)) {
    target = resolve(dirname(from), specifier.replace(/[?#].*$/, ''));
  } else return undefined;
  const ext = extname(target);
  const twins = (TS_FOR_JS[ext] ?? []).map((e) => target.slice(0, -ext.length) + e);
  return firstFile([target, ...twins, ...EXTENSIONS.map((e) => target + e), ...EXTENSIONS.map((e) => join(target, `index${e}`))]);
}

/**
 * The local files a Python import statement of `from` loads: the module's file (`a/b.py` or
 * `a/b/__init__.py`), the `__init__.py` of each package on the way, and for `from X import n` the
 * submodule `X/n.py` where there is one. Absolute imports resolve against `searchRoot` (the script's
 * folder for `python a.py`, the working folder for `python -m`, as `sys.path[0]`); relative ones
 * against the importing file's package. A module found nowhere there (the standard library, an
 * installed package) adds nothing.
 */
export async function resolvePythonImport(from: string, imp: PythonImport, searchRoot: string): Promise<string[]> {
  let base = imp.level > 0 ? dirname(from) : searchRoot;
  for (let i = 1; i < imp.level; i++) base = dirname(base);
  const parts = imp.module ? imp.module.split('.') : [];
  const found = await moduleFiles(base, parts);
  for (const name of imp.names) found.push(...(await moduleFiles(base, [...parts, name])).filter((f) => !found.includes(f)));
  return found;
}

async function moduleFiles(base: string, parts: string[]): Promise<string[]> {
  const files: string[] = [];
  if (parts.length === 0) {
    const init = join(base, '__init__.py');
    if (await isFile(init)) files.push(init);
    return files;
  }
  let dir = base;
  for (const [i, part] of parts.entries()) {
    const next = join(dir, part);
    if (i === parts.length - 1) {
      const file = await firstFile([`${next}.py`, join(next, '__init__.py')]);
      if (file) files.push(file);
      return files;
    }
    const init = join(next, '__init__.py');
    if (await isFile(init)) files.push(init);
    else if (!(await stat(next).then((s) => s.isDirectory(), () => false))) return [];
    dir = next;
  }
  return files;
}
