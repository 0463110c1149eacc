import { ExitCode } from '../exit-codes.js';

/**
 * Runs `work` with an AbortSignal that SIGINT/SIGTERM trigger, so running stages are stopped and
 * the run is recorded as interrupted. A second signal exits at once with 130.
 */
export async function withInterrupts<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(ExitCode.Interrupted);
    process.stderr.write(`\n${sig}: stopping running stages (again to quit at once)\n`);
    controller.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
