#!/usr/bin/env node
// The import-graph check (README, Development; DESIGN.md section 9): `npm run check:imports`
// (`--json`: the problems as a JSON array on stdout).
// 1. dependency-cruiser with .dependency-cruiser.cjs: the layer rules and cycles between files.
// 2. Cycles between folders, a folder being the files directly in it (src/core's own files are
//    one folder, src/core/cache another): dependency-cruiser's folder scope counts a folder with
//    its subfolders, so it cannot see src/render ⇄ src/render/progress.
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Every problem of the import graph under `baseDir` (default: this repository), one line each.
 * The folder imports listed in the config's `knownFolderCycles` are left out of the folder-cycle
 * check; an entry whose import no longer closes a cycle is a problem too ("remove it").
 */
export async function checkImports({ baseDir = repoRoot, config = join(repoRoot, '.dependency-cruiser.cjs'), known = createRequire(import.meta.url)(config).knownFolderCycles ?? [] } = {}) {
  const options = await extractDepcruiseOptions(config);
  const tsConfig = extractTSConfig(join(baseDir, 'tsconfig.json'));
  const { output } = await cruise(['src'], { ...options, baseDir, outputType: 'json' }, {}, { tsConfig });
  const result = typeof output === 'string' ? JSON.parse(output) : output;
  const problems = result.summary.violations.map((v) => `${v.rule.name}: ${[v.from, ...(v.cycle?.map((c) => c.name ?? c) ?? [v.to])].join(' → ')}`);
  const imports = result.modules.flatMap((m) => m.dependencies.filter((d) => d.resolved.startsWith('src/')).map((d) => [m.source, d.resolved]));
  const graph = folderGraph(imports);
  for (const group of folderCycles(graph, known)) {
    const inside = [...graph.entries()].filter(([edge]) => group.includes(edge.split(' ')[0]) && group.includes(edge.split(' ')[1]));
    problems.push(`no-folder-cycle: ${group.join(', ')} import each other (${inside.map(([edge, via]) => `${edge.replace(' ', ' → ')} by ${via}`).join('; ')})`);
  }
  const cyclic = folderCycles(graph);
  for (const k of known) {
    if (!graph.has(`${k.from} ${k.to}`) || !cyclic.some((g) => g.includes(k.from) && g.includes(k.to))) {
      problems.push(`known-folder-cycle gone: ${k.from} → ${k.to} closes no cycle now; remove it from knownFolderCycles in .dependency-cruiser.cjs`);
    }
  }
  return problems;
}

/** Folder imports `"FROM TO"` (each folder holding the files directly in it) → one file import that makes it. */
export function folderGraph(imports) {
  const graph = new Map();
  for (const [from, to] of imports) {
    const edge = `${dirname(from)} ${dirname(to)}`;
    if (dirname(from) !== dirname(to) && !graph.has(edge)) graph.set(edge, `${from} → ${to}`);
  }
  return graph;
}

/** The groups of folders that import each other in a circle (strongly connected, Tarjan), the `ignore` imports left out. */
export function folderCycles(graph, ignore = []) {
  const next = new Map();
  const skip = new Set(ignore.map((k) => `${k.from} ${k.to}`));
  for (const edge of graph.keys()) {
    const [a, b] = edge.split(' ');
    if (!next.has(a)) next.set(a, []);
    if (!next.has(b)) next.set(b, []);
    if (!skip.has(edge)) next.get(a).push(b);
  }
  const index = new Map();
  const low = new Map();
  const stack = [];
  const groups = [];
  const visit = (v) => {
    index.set(v, index.size);
    low.set(v, index.get(v));
    stack.push(v);
    for (const w of next.get(v)) {
      if (!index.has(w)) visit(w);
      if (stack.includes(w)) low.set(v, Math.min(low.get(v), low.get(w)));
    }
    if (low.get(v) !== index.get(v)) return;
    const group = stack.splice(stack.indexOf(v));
    if (group.length > 1) groups.push(group.sort());
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return groups.sort((x, y) => x[0].localeCompare(y[0]));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const problems = await checkImports();
  if (process.argv.includes('--json')) console.log(JSON.stringify(problems));
  for (const p of problems) console.error(`error ${p}`);
  const known = createRequire(import.meta.url)(join(repoRoot, '.dependency-cruiser.cjs')).knownFolderCycles ?? [];
  for (const k of known) console.error(`known ${k.from} → ${k.to}: left to ${k.owner}`);
  console.error(problems.length ? `\n${problems.length} import-graph problem(s); the rules: README.md, Development` : `import graph ok (${relative(process.cwd(), repoRoot) || '.'}/src)`);
  process.exit(problems.length ? 1 : 0);
}
