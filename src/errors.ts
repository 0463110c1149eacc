import { ExitCode, type ExitCodeValue } from './exit-codes.js';

/**
 * The base of every error mlpipe expects: it carries the exit code it ends a command with and,
 * optionally, a hint. Anything else that reaches a command is a bug (exit 70, "this is a bug").
 */
export class MlpipeError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly hint?: string;
  constructor(message: string, opts: { exitCode: ExitCodeValue; hint?: string; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = 'MlpipeError';
    this.exitCode = opts.exitCode;
    this.hint = opts.hint;
  }
}

/**
 * A mistake the user can fix, or an environment that is not ready (a tracker, remote or queue
 * that cannot be reached): shown without a stack trace (unless --verbose), exit 2 unless told.
 */
export class UserError extends MlpipeError {
  constructor(message: string, opts: { exitCode?: ExitCodeValue; hint?: string; cause?: unknown } = {}) {
    super(message, { ...opts, exitCode: opts.exitCode ?? ExitCode.Usage });
    this.name = 'UserError';
  }
}

/**
 * A YAML file of the user's did not load (a spec, mlpipe.yaml): `diagnostics` has every problem
 * found, each with file:line:col, and `recheck` the command that checks the file again. `D` is
 * schema/diagnostic's Diagnostic (the base imports nothing of mlpipe, so it is a type parameter).
 */
export class DiagnosticsError<D extends { severity: string; file: string } = { severity: string; file: string }> extends UserError {
  readonly diagnostics: D[];
  readonly recheck?: string;
  constructor(diagnostics: D[], opts: { file: string; recheck?: string }) {
    super(`${diagnostics.filter((d) => d.severity === 'error').length} error(s) in ${diagnostics[0]?.file ?? opts.file}`);
    this.name = 'DiagnosticsError';
    this.diagnostics = diagnostics;
    this.recheck = opts.recheck;
  }
}

/**
 * A stage's own failure; the runner records it and goes on with unrelated stages. `commandExitCode`
 * is the exit status of the stage's command, when it had one.
 */
export class StageFailedError extends MlpipeError {
  readonly stage: string;
  readonly commandExitCode?: number;
  readonly lastLines: string[];
  constructor(stage: string, message: string, opts: { commandExitCode?: number; lastLines?: string[]; cause?: unknown } = {}) {
    super(message, { exitCode: ExitCode.StageFailed, cause: opts.cause });
    this.name = 'StageFailedError';
    this.stage = stage;
    this.commandExitCode = opts.commandExitCode;
    this.lastLines = opts.lastLines ?? [];
  }
}

/** A gate expression did not hold (deploy gate); the run exits 3 and nothing is registered. */
export class GateFailedError extends MlpipeError {
  readonly gate: string;
  readonly values: Record<string, number>;
  constructor(gate: string, values: Record<string, number>, message?: string) {
    super(message ?? `gate failed: ${gate} (${Object.entries(values).map(([k, v]) => `${k} = ${v}`).join(', ')})`, { exitCode: ExitCode.GateFailed });
    this.name = 'GateFailedError';
    this.gate = gate;
    this.values = values;
  }
}

/** What a command's work came to, when it ran to its end. */
export interface Outcome {
  interrupted?: boolean;
  /** Stages (or sweep points) that failed other than by a gate. */
  stagesFailed?: number;
  /** Gates that did not hold: deploy gates, `--fail-if` conditions, sweep points stopped by a gate. */
  gatesFailed?: number;
}

/**
 * The one place an exit code is decided. For an outcome: interrupted, else a failure, else a
 * failed gate, else success. For an error: its own code when it is an {@link MlpipeError}, 2 for
 * oclif's usage errors (bad flags or arguments), else {@link ExitCode.Internal}: a bug.
 */
export function exitCodeOf(what: Outcome | Error): ExitCodeValue {
  if (!(what instanceof Error)) {
    if (what.interrupted) return ExitCode.Interrupted;
    if (what.stagesFailed) return ExitCode.StageFailed;
    if (what.gatesFailed) return ExitCode.GateFailed;
    return ExitCode.Success;
  }
  if (what instanceof MlpipeError) return what.exitCode;
  const oclifExit = (what as { oclif?: { exit?: unknown } }).oclif?.exit;
  if (typeof oclifExit === 'number') return oclifExit === 0 ? ExitCode.Success : ExitCode.Usage;
  return ExitCode.Internal;
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
