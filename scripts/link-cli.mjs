// `npm run link-cli`: puts `mlpipe` on the PATH without root, as a symbolic link to this checkout's
// bin/mlpipe.cjs (package.json `bin`) in ~/.local/bin (or MLPIPE_BIN_DIR). Typing `mlpipe` then starts
// node on it directly; `npx mlpipe` first has npm resolve the dependency tree, seconds on every call.
import { lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const target = fileURLToPath(new URL('../bin/mlpipe.cjs', import.meta.url));
const dir = resolve(process.env.MLPIPE_BIN_DIR ?? join(homedir(), '.local', 'bin'));
const link = join(dir, 'mlpipe');

mkdirSync(dir, { recursive: true });
/** Where the link points now: undefined when there is none, null when something else is there. */
let current;
try {
  current = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : null;
} catch {
  current = undefined;
}
if (current === null) {
  console.error(`${link} exists and is not a link; remove it, or set MLPIPE_BIN_DIR to another folder`);
  process.exit(1);
}
if (current !== target) {
  if (current !== undefined) rmSync(link);
  symlinkSync(target, link);
}
console.log(`${link} -> ${target}`);
const onPath = (process.env.PATH ?? '').split(delimiter).some((p) => p && resolve(p) === dir);
if (!onPath) console.log(`${dir} is not on your PATH; add it (e.g. in ~/.profile):\n  export PATH="${dir}:$PATH"`);
