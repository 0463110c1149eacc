/** Runs `run` over `items`, `limit` at once; after a failure no new item starts, and it throws the first error once every started one has settled. */
export async function forEachLimit<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && errors.length === 0) {
      try {
        await run(items[next++]!);
      } catch (error) {
        errors.push(error);
      }
    }
  });
  await Promise.all(lanes);
  if (errors.length > 0) throw errors[0];
}
