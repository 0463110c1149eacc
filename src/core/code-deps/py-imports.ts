import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { PythonImport } from './import-cache.js';

const run = promisify(execFile);

/**
 * The helper python3 runs (`python3 -c`, no shell; file paths as arguments): Python's own parser
 * (`ast`) lists each file's `import` / `from … import` statements and `importlib.import_module` /
 * `__import__` calls with a literal name, as JSON. Nothing of the files is executed.
 */
const HELPER = String.raw`
import ast, json, sys
out = {}
for path in sys.argv[1:]:
    try:
        with open(path, 'rb') as fh:
            tree = ast.parse(fh.read(), filename=path)
    except (SyntaxError, ValueError, OSError) as err:
        out[path] = {'error': str(err)}
        continue
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend({'module': a.name, 'level': 0, 'names': []} for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append({'module': node.module or '', 'level': node.level or 0, 'names': [a.name for a in node.names if a.name != '*']})
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ''
            if name in ('import_module', '__import__'):
                found.append({'module': node.args[0].value.lstrip('.'), 'level': len(node.args[0].value) - len(node.args[0].value.lstrip('.')), 'names': []})
    out[path] = {'imports': found}
json.dump(out, sys.stdout)
`;

/** python3 is not on PATH: Python files are keyed by themselves only. */
export class NoPythonError extends Error {
  constructor(readonly command: string) {
    super(`${command} was not found on PATH`);
    this.name = 'NoPythonError';
  }
}

/** What each of `files` imports (a file Python cannot parse imports nothing), by path. */
export async function parsePyImports(files: string[], python = process.env.MLPIPE_PYTHON ?? 'python3'): Promise<Record<string, PythonImport[]>> {
  if (files.length === 0) return {};
  let stdout: string;
  try {
    ({ stdout } = await run(python, ['-c', HELPER, ...files], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } }));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NoPythonError(python);
    const failed = err as { code?: number | string; signal?: string; stderr?: string };
    const how = failed.signal ? `was killed by ${failed.signal}` : `exited with code ${failed.code}`;
    const said = failed.stderr?.trim().split('\n').at(-1);
    throw new Error(`${python} failed to list the imports (${how}${said ? `: ${said}` : ''})`, { cause: err });
  }
  const parsed = JSON.parse(stdout) as Record<string, { imports?: PythonImport[] }>;
  return Object.fromEntries(files.map((f) => [f, parsed[f]?.imports ?? []]));
}
