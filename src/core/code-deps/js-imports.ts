import { readFile } from 'node:fs/promises';

type TypeScript = typeof import('typescript');
let loaded: Promise<TypeScript> | undefined;

/** The TypeScript compiler, loaded on the first file to parse (a no-op run, all cached, never loads it). */
function typescript(): Promise<TypeScript> {
  loaded ??= import('typescript').then((m) => ((m as { default?: TypeScript }).default ?? m) as TypeScript);
  return loaded;
}

/**
 * The module specifiers a JavaScript or TypeScript file imports, from the TypeScript compiler's
 * import scanner (`ts.preProcessFile`): static `import`/`export … from`, `import x = require()`,
 * `require('…')` and `import('…')` with a literal, and `/// <reference path>`. Nothing is run.
 */
export async function parseJsImports(file: string): Promise<string[]> {
  const ts = await typescript();
  const info = ts.preProcessFile(await readFile(file, 'utf8'), true, true);
  return [...new Set([...info.importedFiles, ...info.referencedFiles].map((f) => f.fileName))];
}
