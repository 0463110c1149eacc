/** Exit codes of every mlpipe command; shown in `--help` and tested. */
export const ExitCode = {
  Success: 0,
  /** A stage failed. */
  StageFailed: 1,
  /** Bad usage or an invalid spec: nothing was run or written. */
  Usage: 2,
  /** A gate failed: a deploy gate or a `compare --fail-if` condition. */
  GateFailed: 3,
  /** Interrupted by SIGINT/SIGTERM. */
  Interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export const exitCodeHelp = [
  '0 success',
  '1 a stage failed',
  '2 bad usage or invalid spec (nothing run or written)',
  '3 a gate failed (deploy gate or compare --fail-if)',
  '130 interrupted',
].join('\n');
