/** Options of {@link watchAlias}. */
export interface AliasWatcherOptions {
  /** How often the registry is read. */
  intervalMs: number;
  /** The version the followed alias points at now; undefined while it is unset. */
  lookup(): Promise<number | undefined>;
  /** The version being served. */
  current(): number;
  /** Loads `version` and swaps it in; rejects when it cannot be loaded (the old one keeps serving). */
  load(version: number): Promise<void>;
  onError(err: Error, version: number | undefined): void;
}

/** A running watcher. */
export interface AliasWatcher {
  /** Reads the registry now and swaps when the alias moved; resolves when done. */
  check(): Promise<void>;
  /** Stops polling; resolves once a load in progress has finished. */
  stop(): Promise<void>;
}

/**
 * Polls the registry for the version an alias points at and loads a new one when it moves. One
 * load at a time; a version that failed to load is not retried until the alias moves again.
 */
export function watchAlias(o: AliasWatcherOptions): AliasWatcher {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let failed: number | undefined;
  let running: Promise<void> | undefined;

  const tick = async (): Promise<void> => {
    let target: number | undefined;
    try {
      target = await o.lookup();
    } catch (err) {
      o.onError(err as Error, undefined);
      return;
    }
    if (target === undefined || target === o.current() || target === failed) return;
    failed = undefined;
    try {
      await o.load(target);
    } catch (err) {
      failed = target;
      o.onError(err as Error, target);
    }
  };
  const check = (): Promise<void> => {
    running ??= tick().finally(() => (running = undefined));
    return running;
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => void check().then(schedule), o.intervalMs);
    timer.unref();
  };
  schedule();
  return {
    check,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
