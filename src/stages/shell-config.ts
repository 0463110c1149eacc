import { f } from '../schema/fields.js';

/** The keys a `run:` stage may have besides `needs` and `cache`; the spec loader moves them into the stage's config. */
export const shellConfig = f.object(
  'A shell command run with `sh -c` in the spec folder, DVC style.',
  {
    run: f.string(
      'The command line, run with `sh -c` in the spec folder. A `${params.x}` in it arrives as one quoted word (escaped inside quotes), never as shell syntax; `${raw.params.x}` splices the text unquoted, on purpose.',
    ),
    deps: f.array('Files or folders the command reads; their contents are part of the cache key.', f.path('A file or folder the command reads.'), {
      default: [],
    }),
    outs: f.oneOf('Files or folders the command writes; cached and restored in place.', [
      f.array('Output paths; each is also its output name.', f.string('An output path.', { path: 'output' })),
      f.map('Output names mapped to paths.', f.string('An output path.', { path: 'output' })),
    ], { default: [] }),
    env: f.map('Extra environment variables for the command; part of the cache key.', f.string('A value.'), { default: {} }),
    metrics: f.string('A JSON file the command writes whose numbers are logged (nested keys joined with ".").', { path: 'output' }),
  },
  { required: ['run'] },
);

export interface ShellConfig {
  run: string;
  deps: string[];
  outs: string[] | Record<string, string>;
  env: Record<string, string>;
  metrics?: string;
}

/** Output name → workspace-relative path. A list's entries are their own names. */
export function shellOutputs(outs: ShellConfig['outs']): Record<string, string> {
  return Array.isArray(outs) ? Object.fromEntries(outs.map((p) => [p, p])) : { ...outs };
}
