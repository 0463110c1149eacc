import { Config } from '@oclif/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BaseCommand } from '../../src/cli/base-command.js';
import { GateFailedError, StageFailedError, UserError, exitCodeOf } from '../../src/errors.js';
import { EXIT_CODES, ExitCode, exitCodeHelp } from '../../src/exit-codes.js';
import { TrackerBusyError } from '../../src/core/tracker/errors.js';
import { DataError } from '../../src/ml/errors.js';
import { repoRoot } from '../helpers/paths.js';

describe('exitCodeOf', () => {
  it('an outcome: interrupted, else a stage failure, else a failed gate, else success', () => {
    expect(exitCodeOf({})).toBe(0);
    expect(exitCodeOf({ gatesFailed: 1 })).toBe(3);
    expect(exitCodeOf({ stagesFailed: 1, gatesFailed: 2 })).toBe(1);
    expect(exitCodeOf({ interrupted: true, stagesFailed: 1 })).toBe(130);
  });

  it('an error: its own code when mlpipe raised it, 2 for a usage error from oclif, 70 for anything else', () => {
    expect(exitCodeOf(new UserError('bad'))).toBe(2);
    expect(exitCodeOf(new StageFailedError('train', 'boom', { commandExitCode: 7 }))).toBe(1);
    expect(exitCodeOf(new GateFailedError('accuracy > 0.9', { accuracy: 0.5 }))).toBe(3);
    expect(exitCodeOf(new TrackerBusyError(5, { cause: new Error('SQLITE_BUSY') }))).toBe(2);
    expect(exitCodeOf(new DataError('not a number', { file: 'd.csv', row: 3 }))).toBe(2);
    expect(exitCodeOf(Object.assign(new Error('Nonexistent flag: --x'), { oclif: { exit: 2 } }))).toBe(2);
    expect(exitCodeOf(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(70);
  });

  it('--help shows the one table, every code once', () => {
    const lines = exitCodeHelp.split('\n');
    expect(lines.map((l) => Number(l.split(' ')[0]))).toEqual(Object.values(EXIT_CODES).map((r) => r.code));
    expect(ExitCode).toMatchObject({ Success: 0, StageFailed: 1, Usage: 2, GateFailed: 3, Internal: 70, Interrupted: 130 });
  });
});

class Throws extends BaseCommand {
  static override flags = {};
  static error: Error = new Error('unset');
  async run(): Promise<void> {
    await this.parse(Throws);
    throw Throws.error;
  }
}

async function runThrowing(error: Error, argv: string[] = []): Promise<{ code: number | undefined; stderr: string }> {
  Throws.error = error;
  const config = await Config.load(repoRoot);
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    await new Throws(argv, config)._run();
    return { code: process.exitCode as number | undefined, stderr };
  } finally {
    spy.mockRestore();
  }
}

describe('BaseCommand.catch', () => {
  afterEach(() => {
    process.exitCode = undefined;
  });

  it('an unexpected error is a bug (exit 70): it does not claim a stage failed, and --verbose adds the stack', async () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'name')");
    const plain = await runThrowing(bug);
    expect(plain.code).toBe(70);
    expect(plain.stderr).toContain("Error: Cannot read properties of undefined (reading 'name')");
    expect(plain.stderr).toContain('this is a bug in mlpipe');
    expect(plain.stderr).not.toMatch(/stage/i);
    expect(plain.stderr).not.toContain('    at ');
    const verbose = await runThrowing(bug, ['--verbose']);
    expect(verbose.code).toBe(70);
    expect(verbose.stderr).toContain('    at ');
  });

  it('an error the user can act on: its code, the message and the hint, no stack', async () => {
    const r = await runThrowing(new TrackerBusyError(5, { cause: new Error('SQLITE_BUSY') }));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Error: the tracker database stayed locked by another process after 5 attempts\nHint: retry when the other mlpipe command has finished');
    expect(r.stderr).not.toContain('bug');
    expect(r.stderr).not.toContain('    at ');
  });
});
