/**
 * Stage executions under way, by cache key, shared by the runs of a sweep: a point whose stage has
 * the key of one another point is running waits for it and restores its result instead of running
 * it a second time (the stages all points share, e.g. preprocess, run once).
 */
export class InFlightStages {
  private readonly running = new Map<string, Promise<void>>();

  /** The execution of `key` under way, if any. */
  find(key: string): Promise<void> | undefined {
    return this.running.get(key);
  }

  /** Marks `key` as running until the returned function is called. */
  start(key: string): () => void {
    let done!: () => void;
    this.running.set(key, new Promise<void>((resolve) => (done = resolve)));
    return () => {
      this.running.delete(key);
      done();
    };
  }
}
