export interface Job {
  id: string;
  /** Ids of jobs that must finish first (ids not in the list are ignored). */
  needs: string[];
  run(): Promise<void>;
}

/**
 * Runs jobs as soon as their needs have finished, at most `limit` at once, in list order among
 * the ready ones. A job's promise must not reject (callers record their own failures).
 */
export async function runWithConcurrency(jobs: Job[], limit: number): Promise<void> {
  const ids = new Set(jobs.map((j) => j.id));
  const done = new Set<string>();
  const started = new Set<string>();
  let active = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      if (done.size === jobs.length) return resolve();
      for (const job of jobs) {
        if (active >= Math.max(1, limit)) break;
        if (started.has(job.id) || !job.needs.every((n) => !ids.has(n) || done.has(n))) continue;
        started.add(job.id);
        active++;
        job.run().then(
          () => {
            active--;
            done.add(job.id);
            pump();
          },
          reject,
        );
      }
    };
    pump();
  });
}
