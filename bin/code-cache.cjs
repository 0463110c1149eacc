// Loads the bundled CLI (dist/bundle/cli/mlpipe.cjs, ~2 MB of JavaScript) with a V8 code cache, so a
// start does not parse and compile it again: node 22 has module.enableCompileCache() for that; node 20
// has it only for scripts compiled through node:vm, which is what this does there, the way
// `v8-compile-cache` does for CommonJS. CommonJS itself, so that bin/mlpipe.cjs starts without node's
// ES module loader.
'use strict';
const Module = require('node:module');
const { createRequire } = Module;
const { readFileSync, renameSync, statSync, unlinkSync, writeFileSync } = require('node:fs');
const { basename, dirname, join } = require('node:path');
const vm = require('node:vm');

/**
 * `require(file)` for a CommonJS file, its compiled code cached beside it (when that folder is
 * writable). A cache holds the functions compiled by the run that wrote it, so each `variant` (the
 * command) has its own: `mlpipe --version` writing first must not leave `run` compiling everything.
 */
function requireCached(file, variant = 'main') {
  if (typeof Module.enableCompileCache === 'function') {
    Module.enableCompileCache();
    return createRequire(file)(file);
  }
  const source = readFileSync(file, 'utf8');
  // V8 checks a cache against the source's length, not its bytes: the name carries the file's size
  // and mtime (a rebuild replaces the folder) and node's version and architecture.
  // V8 also rejects a cache made under other flags, so those get their own (no rewriting in turns).
  const { size, mtimeMs } = statSync(file);
  const flags = fnv1a([...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' '));
  const cacheFile = join(dirname(file), `.${basename(file)}-${variant}-${size}-${Math.round(mtimeMs)}-${process.version}-${process.arch}-${flags}.v8cache`);
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(source), {
    filename: file,
    cachedData,
  });
  // The bundle's `import()` of packages (scripts/bundle.mjs): node 20 has no dynamic import in a
  // script compiled from a code cache, but this file (loaded by `require`) has one. Packages resolve
  // from here as from the bundle (one node_modules).
  globalThis.__mlpipeImport ??= (specifier) => import(specifier);
  const mod = new Module(file, undefined);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(dirname(file));
  // oclif loads the same file again by path (commands, help class): it gets this instance.
  Module._cache[file] = mod;
  try {
    script.runInThisContext().call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  } catch (err) {
    delete Module._cache[file];
    throw err;
  }
  mod.loaded = true;
  // Written at exit, so the functions this run compiled are in it; a later run compiles only others.
  if (cachedData === undefined || script.cachedDataRejected) process.once('exit', () => writeCache(cacheFile, script));
  return mod.exports;
}

function writeCache(cacheFile, script) {
  const temp = `${cacheFile}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, script.createCachedData());
    renameSync(temp, cacheFile);
  } catch {
    // A read-only install (or a full disk) runs without a cache: slower to start, the same otherwise.
    try {
      unlinkSync(temp);
    } catch {
      // nothing was written
    }
  }
}

/** A short hash of a string (FNV-1a, 32 bits), in hex: no crypto module loaded to name a file. */
function fnv1a(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16);
}
module.exports = { requireCached };
