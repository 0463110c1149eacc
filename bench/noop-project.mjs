// The no-op benchmarks' project: a 10-stage chain of shell stages, each reading one input file
// (`gib` GiB over all of them), written into a fresh temporary folder.
import { closeSync, mkdirSync, mkdtempSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';

/** Creates the project in a new folder under the system's temporary folder; returns that folder. */
export function makeNoopProject({ stages = 10, gib = 1, prefix = 'mlpipe-bench-noop-' } = {}) {
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
    spec += `  s${i}:\n    run: wc -c in${i}.bin${prev} > out/s${i}.txt\n    deps: [in${i}.bin]\n    outs: [out/s${i}.txt]\n`;
  }
  writeFileSync(join(dir, 'pipeline.yaml'), spec);
  mkdirSync(join(dir, 'out'));
  return dir;
}
