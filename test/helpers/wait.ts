/** A process a wait can watch: once it has exited, the condition can no longer come true. */
export interface Watched {
  exited: Promise<unknown>;
  stdout(): string;
  stderr(): string;
}

/**
 * Polls `check` every 25 ms until it holds. Fails at once (with the output) when `watched` exits first,
 * and otherwise only after `timeoutMs`: a limit for a hung process, well above what a busy machine
 * needs, and below the e2e test timeout (vitest.config.ts) so the failure says what it waited for.
 */
export async function waitFor(what: string, check: () => boolean, watched?: Watched, timeoutMs = 240_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let exited = false;
  void watched?.exited.then(() => (exited = true));
  while (!check()) {
    if (exited && !check()) throw new Error(`the process exited before ${what}:\n${watched!.stdout()}\n--- stderr ---\n${watched!.stderr()}`);
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${watched ? `; stderr so far:\n${watched.stderr()}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
