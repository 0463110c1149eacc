import { defineConfig } from 'vitest/config';

/**
 * The split rule (README, Development): a test file under one of these folders spawns the built CLI
 * (`test/helpers/cli.ts`, bin/run.js → dist/) and belongs to the `e2e` project, which builds first.
 * Every other `test/**\/*.test.ts` is a `unit` test: no build, never dist/ or bin/run.js
 * (test/tooling/test-split.test.ts enforces it). A new e2e folder is added here.
 */
export const e2eFolders = ['test/e2e', 'test/reliability'];

export default defineConfig({
  test: {
    // Forks, at most one per core here: each e2e test also spawns CLI processes, and the main
    // process must keep the CPU time to answer its workers (vitest 3's worker RPC gives up after 60 s).
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    teardownTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: e2eFolders.map((f) => `${f}/**`),
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: e2eFolders.map((f) => `${f}/**/*.test.ts`),
          globalSetup: ['test/global-setup.ts'],
          // A limit for a hung CLI, not a speed requirement: a test spawns up to ~20 CLI processes,
          // each of them a few seconds on a busy 2-core machine.
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
