import { posix } from 'node:path';
import { f, type Infer } from '../schema/fields.js';
import { plotsField, plotSpecOf, type PlotEntry } from './shell-plots.js';

const outEntry = (what: string) =>
  f.oneOf(what, [
    f.string('An output path.', { path: 'output' }),
    f.object(
      'An output path with options.',
      {
        path: f.string('The output path.', { path: 'output' }),
        persist: f.bool(
          'Leave the file or folder from the last run in place while the command runs (a checkpoint it resumes from) instead of deleting it first; the cache key does not cover what it held.',
          { default: false },
        ),
      },
      { required: ['path'] },
    ),
  ]);

/** The keys a `run:` stage may have besides `needs` and `cache`; the spec loader moves them into the stage's config. */
export const shellConfig = f.object(
  'A shell command run with `sh -e -c` in the spec folder (or `wdir`), DVC style.',
  {
    run: f.oneOf('The command line, or a list of command lines run one after another; the stage stops at the first that fails.', [
      f.string(
        'The command line, run with `sh -e -c`: a multi-line command stops at its first failing line. A `${params.x}` in it arrives as one quoted word (escaped inside quotes), never as shell syntax; `${raw.params.x}` splices the text unquoted, on purpose.',
      ),
      f.array('Command lines run in order, each with `sh -e -c` in its own shell; the first that fails fails the stage and the rest do not run.', f.string('One command line.'), {
        minItems: 1,
      }),
    ]),
    deps: f.array('Files or folders the command reads; their contents are part of the cache key.', f.path('A file or folder the command reads.'), {
      default: [],
    }),
    outs: f.oneOf('Files or folders the command writes; cached and restored in place. Each is deleted before the command runs unless it has `persist: true`.', [
      f.array('Output paths; each is also its output name.', outEntry('An output path, or `{ path, persist }`.')),
      f.map('Output names mapped to paths.', outEntry('An output path, or `{ path, persist }`.')),
    ], { default: [] }),
    wdir: f.string(
      'The folder the commands run in, relative to the spec folder (DVC wdir); deps, outs and metrics are relative to it too. It may lead out of the spec folder (`..`) but not out of the project root.',
    ),
    env: f.map('Extra environment variables for the command; part of the cache key.', f.string('A value.'), { default: {} }),
    metrics: f.string(
      'A JSON file the command writes whose numbers are logged as final metrics (nested keys joined with ".", list items by index: `history.loss.0`); an output too, cached and restored with the others. For per-step values (curves) use `plots`.',
      { path: 'output' },
    ),
    plots: plotsField,
    code_deps: f.bool(
      'Key the stage on the local code its command runs: for `node a.mjs`, `tsx a.ts`, `python a.py` or `python -m pkg.mod` the script and every project module it imports, transitively, so editing one re-runs the stage (node_modules, site-packages and files outside the project root are left out). On unless set to false.',
    ),
  },
  { required: ['run'] },
);

/** An entry of `outs` with options (`persist` filled in: false). */
export type OutEntry = Exclude<Infer<ReturnType<typeof outEntry>>, string>;

/**
 * The resolved keys of a `run:` stage, derived from `shellConfig`. `code_deps` has no declared
 * default (absent means on, so that keys of stages without it stay as they were).
 */
export type ShellConfig = Infer<typeof shellConfig>;

/** A shell stage's output as declared: its workspace-relative path and whether it is kept while the command runs. */
export interface ShellOutput {
  path: string;
  persist: boolean;
}

const entryOf = (e: string | OutEntry): ShellOutput => (typeof e === 'string' ? { path: e, persist: false } : { path: e.path, persist: e.persist === true });

/**
 * Output name → declared output, its path relative to the spec folder (joined to `wdir`). A list's
 * entries are their own names (their paths as written); a metrics or plots file not among the outs
 * is an output too, named by its path, so restoring a run restores the numbers it logged.
 */
export function shellOutputs(config: Pick<ShellConfig, 'outs' | 'metrics' | 'wdir'> & { plots?: PlotEntry[] }): Record<string, ShellOutput> {
  const outs: Record<string, ShellOutput> = Array.isArray(config.outs)
    ? Object.fromEntries(config.outs.map((e) => [entryOf(e).path, entryOf(e)]))
    : Object.fromEntries(Object.entries(config.outs).map(([name, e]) => [name, entryOf(e)]));
  const extra = [
    ...(config.metrics === undefined ? [] : [{ prefix: 'metrics', path: config.metrics }]),
    ...(config.plots ?? []).map((p) => ({ prefix: 'plots', path: plotSpecOf(p).file })),
  ];
  for (const { prefix, path } of extra) {
    if (Object.values(outs).some((o) => o.path === path)) continue;
    outs[Object.hasOwn(outs, path) ? `${prefix}:${path}` : path] = { path, persist: false };
  }
  const wdir = config.wdir ?? '.';
  return Object.fromEntries(Object.entries(outs).map(([name, o]) => [name, { ...o, path: posix.isAbsolute(o.path) ? o.path : posix.join(wdir, o.path) }]));
}

/** The command lines of `run`, in order. */
export const commandsOf = (run: ShellConfig['run']): string[] => (Array.isArray(run) ? run : [run]);
