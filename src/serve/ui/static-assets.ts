import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../errors.js';

/** A built file of the dashboard, held in memory. */
export interface Asset {
  body: Buffer;
  type: string;
  /** Content-hashed file names (under /assets/) may be cached for good. */
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** The dashboard's built files are missing: the package was not built. */
export class UiAssetsMissingError extends UserError {
  constructor(dir: string) {
    super(`the dashboard's files are missing (${dir})`, { hint: 'build them with: npm run build (npm install runs it)' });
    this.name = 'UiAssetsMissingError';
  }
}

/** `dist/ui` of the installed package: found by walking up from this module to the package root. */
export function defaultAssetsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'dist'))) return join(dir, 'dist', 'ui');
    const up = dirname(dir);
    if (up === dir) return join(dirname(fileURLToPath(import.meta.url)), 'ui');
    dir = up;
  }
}

/**
 * Every file of the built dashboard by URL path (`/index.html`, `/assets/index-3f2a.js`). Served
 * from memory by exact path, so no request can name a file outside the folder.
 */
export function loadAssets(dir: string): Map<string, Asset> {
  if (!existsSync(join(dir, 'index.html'))) throw new UiAssetsMissingError(dir);
  const out = new Map<string, Asset>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        const url = `/${relative(dir, path).split(sep).join('/')}`;
        out.set(url, { body: readFileSync(path), type: TYPES[extname(name)] ?? 'application/octet-stream', immutable: url.startsWith('/assets/') });
      }
    }
  };
  walk(dir);
  return out;
}
