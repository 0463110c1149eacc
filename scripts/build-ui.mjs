// Builds the dashboard (ui/) into dist/ui with Vite, unless its inputs are unchanged since the last
// build: the stamp lists every module the bundle was made from (Rollup's own module list) with a
// digest over their bytes and the lock file, so an unrelated edit does not cost a rebuild.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const outDir = join(root, 'dist', 'ui');
const stampPath = join(outDir, '.inputs.json');

const digest = (files) => {
  const h = createHash('sha256');
  for (const f of [...files, 'package-lock.json', 'ui/vite.config.ts', 'ui/index.html']) {
    h.update(f);
    h.update(existsSync(join(root, f)) ? readFileSync(join(root, f)) : 'missing');
  }
  return h.digest('hex');
};

if (existsSync(stampPath) && existsSync(join(outDir, 'index.html'))) {
  try {
    const stamp = JSON.parse(readFileSync(stampPath, 'utf8'));
    if (stamp.digest === digest(stamp.files)) {
      console.log('dashboard (dist/ui) up to date');
      process.exit(0);
    }
  } catch {
    // rebuild
  }
}

const { build } = await import('vite');
let files = [];
await build({
  configFile: join(root, 'ui', 'vite.config.ts'),
  plugins: [
    {
      name: 'mlpipe-record-inputs',
      generateBundle() {
        files = [...this.getModuleIds()]
          .filter((id) => !id.startsWith('\0') && id.startsWith(root))
          .map((id) => relative(root, id.split('?')[0]))
          .sort();
      },
    },
  ],
});
files = [...new Set(files)];
writeFileSync(stampPath, `${JSON.stringify({ files, digest: digest(files) })}\n`);
console.log(`built the dashboard into dist/ui (${files.length} modules)`);
