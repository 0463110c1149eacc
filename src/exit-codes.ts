/**
 * Every exit code of mlpipe, one row each. The constants below, the EXIT CODES section of every
 * command's `--help` and the README's table are all made from this table (a test compares them).
 */
export const EXIT_CODES = {
  Success: { code: 0, meaning: 'success' },
  StageFailed: { code: 1, meaning: 'a stage failed (its last output lines are shown), or a check found problems (status --exit-code: a stage is stale)' },
  Usage: {
    code: 2,
    meaning: 'bad usage, an invalid spec or config, or a tracker, remote or queue that cannot be used (nothing run or written; a hint says what to do)',
  },
  GateFailed: { code: 3, meaning: 'a gate failed (deploy gate or compare --fail-if)' },
  Retrain: { code: 4, meaning: 'monitor: input drift or live accuracy crossed a threshold (a "retrain: …" line names the reason)' },
  Internal: { code: 70, meaning: 'a bug in mlpipe ("this is a bug" is printed; --verbose shows the stack)' },
  Interrupted: { code: 130, meaning: 'interrupted (SIGINT/SIGTERM)' },
} as const;

type Table = typeof EXIT_CODES;

/** The exit codes by name: `ExitCode.Usage` is 2. */
export const ExitCode = Object.fromEntries(Object.entries(EXIT_CODES).map(([name, row]) => [name, row.code])) as {
  readonly [K in keyof Table]: Table[K]['code'];
};

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** The table as `--help` shows it: one `CODE meaning` line each. */
export const exitCodeHelp = Object.values(EXIT_CODES)
  .map((row) => `${row.code} ${row.meaning}`)
  .join('\n');
