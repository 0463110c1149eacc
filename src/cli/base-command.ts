import { Command, Flags, type Interfaces } from '@oclif/core';
import { DiagnosticsError, MlpipeError, exitCodeOf } from '../errors.js';
import type { Diagnostic } from '../schema/diagnostic.js';
import { resolveConfig, type ConfigFlags, type ProjectConfig } from '../core/config/resolve-config.js';
import { ExitCode } from '../exit-codes.js';
import { formatDiagnostics } from '../render/diagnostics.js';
import { resolveRunsDir } from '../core/workspace/workspace.js';
import { shouldColor } from '../render/ansi.js';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;

/** Shared flags, error rendering and exit codes for every mlpipe command. */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    'runs-dir': Flags.string({ description: 'State folder: tracker, cache and run outputs.', env: 'MLPIPE_RUNS_DIR', helpGroup: 'GLOBAL' }),
    verbose: Flags.boolean({ description: 'Show stack traces and debug details.', default: false, helpGroup: 'GLOBAL' }),
    tracker: Flags.string({
      description: 'The experiment tracker: postgresql://USER@HOST:5432/DB for a shared one, or an SQLite file (else MLPIPE_TRACKER, else tracker: in mlpipe.yaml, else RUNS_DIR/tracker.db).',
      helpGroup: 'GLOBAL',
    }),
  };

  /** `--tracker` is MLPIPE_TRACKER for this process (and the processes it starts): core resolves the tracker in one place. */
  override async init(): Promise<void> {
    await super.init();
    const value = this.trackerFlag();
    if (value !== undefined) process.env.MLPIPE_TRACKER = value;
  }

  /**
   * The project configuration in force (core/config): `flags` (what this command's flags said; a
   * setting without a flag value falls to its environment variable, then mlpipe.yaml, then its default).
   */
  protected projectConfig(flags: ConfigFlags = {}): ProjectConfig {
    return resolveConfig({ flags: { ...flags, tracker: flags.tracker ?? this.trackerFlag() } });
  }

  /** `--tracker VALUE` as given on the command line (MLPIPE_TRACKER is not a flag value). */
  private trackerFlag(): string | undefined {
    const i = this.argv.findIndex((a) => a === '--tracker' || a.startsWith('--tracker='));
    if (i < 0) return undefined;
    return this.argv[i].startsWith('--tracker=') ? this.argv[i].slice('--tracker='.length) : this.argv[i + 1];
  }

  protected runsDir(flag?: string): string {
    return resolveRunsDir(flag);
  }

  protected get verbose(): boolean {
    return this.argv.includes('--verbose');
  }

  /** Human output to stdout, suppressed in JSON mode. */
  protected out(text: string): void {
    if (!this.jsonEnabled()) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Messages for people, on stderr (never mixed into --json stdout). */
  protected note(text: string): void {
    process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  protected setExitCode(code: number): void {
    process.exitCode = code;
  }

  protected override async catch(err: Error): Promise<void> {
    const code = exitCodeOf(err);
    process.exitCode = code;
    const message = this.describe(err, code);
    if (this.jsonEnabled()) {
      const diagnostics = err instanceof DiagnosticsError ? err.diagnostics : undefined;
      process.stdout.write(`${JSON.stringify({ schemaVersion: 1, error: { message: err.message, exitCode: code, diagnostics } }, null, 2)}\n`);
    } else if (message) {
      process.stderr.write(`${message}\n`);
    }
    if (this.verbose && err.stack) process.stderr.write(`${err.stack}\n`);
  }

  /** What a person reads about `err`, which ends the command with `code`. */
  private describe(err: Error, code: number): string {
    if (err instanceof DiagnosticsError) return formatDiagnostics(err.diagnostics as Diagnostic[], { color: shouldColor(process.stderr), recheck: err.recheck });
    if (err instanceof MlpipeError) return `Error: ${err.message}${err.hint ? `\nHint: ${err.hint}` : ''}`;
    if (code === ExitCode.Success) return '';
    if (code === ExitCode.Usage) return `Error: ${err.message}\nSee: mlpipe ${this.id?.replaceAll(':', ' ') ?? ''} --help`;
    const report = 'this is a bug in mlpipe: please report it with the output of the same command run with --verbose';
    return `Error: ${err.message}\n${this.verbose ? report : `${report} (it shows the stack)`}`;
  }
}
