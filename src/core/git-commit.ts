import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The commit checked out in the repository containing `dir`, read from .git without spawning git; null outside a repository. */
export function gitCommit(dir: string): string | null {
  for (let d = dir; ; d = dirname(d)) {
    try {
      const head = readFileSync(join(d, '.git', 'HEAD'), 'utf8').trim();
      if (!head.startsWith('ref: ')) return head;
      const ref = head.slice(5);
      try {
        return readFileSync(join(d, '.git', ref), 'utf8').trim();
      } catch {
        const packed = readFileSync(join(d, '.git', 'packed-refs'), 'utf8');
        const line = packed.split('\n').find((l) => l.endsWith(` ${ref}`));
        return line ? line.split(' ')[0] : null;
      }
    } catch {
      if (dirname(d) === d) return null;
    }
  }
}
