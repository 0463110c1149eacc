// The no-op benchmarks' project: a 10-stage chain of shell stages, each reading one input file
// (`gib` GiB over all of them), written into a fresh temporary folder.
import { closeSync, mkdirSync, mkdtempSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';

/**
 * Creates the project in a new folder under the system's temporary folder; returns that folder.
 * `code`: each stage runs `node stage.mjs …`, a script importing 20 local modules (code fingerprints).
 */
export function makeNoopProject({ stages = 10, gib = 1, prefix = 'mlpipe-bench-noop-', code = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const perFile = Math.floor((gib * 1024 ** 3) / stages);
  const chunk = Buffer.alloc(Math.min(4 * 1024 * 1024, Math.max(1, perFile)));
  let spec = 'name: noop-bench\nstages:\n';
  for (let i = 0; i < stages; i++) {
    const fd = openSync(join(dir, `in${i}.bin`), 'w');
    for (let w = 0; w < perFile; w += chunk.length) {
      randomFillSync(chunk);
      writeSync(fd, chunk, 0, Math.min(chunk.length, perFile - w));
    }
    closeSync(fd);
    const prev = i > 0 ? ` \${stages.s${i - 1}.outputs.out/s${i - 1}.txt}` : '';
    const command = code ? `node stage.mjs in${i}.bin${prev}` : `wc -c in${i}.bin${prev}`;
    spec += `  s${i}:\n    run: ${command} > out/s${i}.txt\n    deps: [in${i}.bin]\n    outs: [out/s${i}.txt]\n`;
  }
  if (code) {
    mkdirSync(join(dir, 'lib'));
    const mods = Array.from({ length: 20 }, (_, i) => `m${i}`);
    mods.forEach((m, i) => writeFileSync(join(dir, 'lib', `${m}.mjs`), `${i > 0 ? `import './m${i - 1}.mjs';\n` : ''}export const ${m} = ${i};\n`));
    writeFileSync(join(dir, 'stage.mjs'), `import { statSync } from 'node:fs';\n${mods.map((m) => `import { ${m} } from './lib/${m}.mjs';`).join('\n')}\nfor (const f of process.argv.slice(2)) console.log(statSync(f).size, f);\n`);
  }
  writeFileSync(join(dir, 'pipeline.yaml'), spec);
  mkdirSync(join(dir, 'out'));
  return dir;
}
