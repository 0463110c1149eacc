import { ExitCode, type ExitCodeValue } from './exit-codes.js';

/** A mistake the user can fix; shown without a stack trace (unless --verbose). */
export class UserError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly hint?: string;
  constructor(message: string, opts: { exitCode?: ExitCodeValue; hint?: string; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'UserError';
    this.exitCode = opts.exitCode ?? ExitCode.Usage;
    this.hint = opts.hint;
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

/** A stage's own failure; the runner records it and goes on with unrelated stages. */
export class StageFailedError extends Error {
  readonly stage: string;
  readonly exitCode?: number;
  readonly lastLines: string[];
  constructor(stage: string, message: string, opts: { exitCode?: number; lastLines?: string[]; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'StageFailedError';
    this.stage = stage;
    this.exitCode = opts.exitCode;
    this.lastLines = opts.lastLines ?? [];
  }
}

/** A gate expression did not hold (deploy gate); the run exits 3 and nothing is registered. */
export class GateFailedError extends Error {
  readonly gate: string;
  readonly values: Record<string, number>;
  constructor(gate: string, values: Record<string, number>, message?: string) {
    super(message ?? `gate failed: ${gate} (${Object.entries(values).map(([k, v]) => `${k} = ${v}`).join(', ')})`);
    this.name = 'GateFailedError';
    this.gate = gate;
    this.values = values;
  }
}

export class InterruptedError extends Error {
  constructor(signal: string) {
    super(`interrupted by ${signal}`);
    this.name = 'InterruptedError';
  }
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
