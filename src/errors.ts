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
