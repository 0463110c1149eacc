// The import graph of src/ (DESIGN.md section 9; README, Development). `npm run check:imports`
// (scripts/check-imports.mjs, also run by test/tooling/import-graph.test.ts in `npm run test:unit`)
// applies these rules and adds the folder-cycle check; `npx depcruise src` applies these rules alone.
//
//   commands → cli → render → app → core → schema
//                    stages → ml → schema          (the stage registry is passed into core)
//   serve → app/ml/core/render
//
// Type-only imports count (tsPreCompilationDeps), and so does a cycle between two files or two folders.

/** Each layer (a folder under src/) and the layers it may import besides itself and the base. */
const layers = {
  schema: [],
  ml: ['schema'],
  core: ['schema'],
  stages: ['core', 'ml', 'schema'],
  app: ['core', 'ml', 'schema'],
  render: ['app', 'core', 'schema'],
  serve: ['app', 'ml', 'core', 'render', 'schema'],
  cli: ['schema', 'ml', 'core', 'stages', 'app', 'render', 'serve'],
  commands: ['schema', 'ml', 'core', 'stages', 'app', 'render', 'serve', 'cli'],
};

/** The base: a leaf every layer but schema may import (schema imports nothing of mlpipe). */
const base = '^src/(errors|exit-codes|seeded-random)\\.ts$';

/**
 * Folder cycles (a folder = the files directly in it) known today, each with who is removing it.
 * scripts/check-imports.mjs fails on any other folder cycle and on an entry here that no longer
 * occurs, so an entry goes with its fix. Nothing is added here without the lead's word.
 */
const knownFolderCycles = [
  // { from: 'src/a', to: 'src/a/b', owner: 'who removes it, in which issue' },
];

const layerRules = Object.entries(layers).map(([layer, allowed]) => ({
  name: `layer-${layer}`,
  comment: `src/${layer}/ may import ${[...allowed, layer === 'schema' ? null : 'the base'].filter(Boolean).join(', ') || 'nothing of mlpipe'} (DESIGN.md section 9)`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: {
    path: '^src/',
    pathNot: [`^src/(${[layer, ...allowed].join('|')})/`, ...(layer === 'schema' ? [] : [base])],
  },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'base-is-a-leaf',
      comment: 'src/errors.ts, src/exit-codes.ts and src/seeded-random.ts import nothing of mlpipe but each other',
      severity: 'error',
      from: { path: base },
      to: { path: '^src/', pathNot: base },
    },
    {
      name: 'src-root-is-the-base',
      comment: 'a file directly in src/ is part of the base, or it belongs in a layer folder',
      severity: 'error',
      from: { path: '^src/[^/]+$', pathNot: base },
      to: {},
    },
    {
      name: 'no-file-cycle',
      comment: 'no import cycle between files',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    combinedDependencies: false,
    reporterOptions: { text: { highlightFocused: true } },
  },
};

// For test/tooling/import-graph.test.ts (not enumerable: dependency-cruiser refuses unknown keys).
Object.defineProperty(module.exports, 'knownFolderCycles', { value: knownFolderCycles, enumerable: false });
