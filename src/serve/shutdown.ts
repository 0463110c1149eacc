/**
 * Resolves with the first of `signals` the process receives. Each later one calls `onRepeat`
 * (the command exits at once there). The listeners are removed by calling the returned `dispose`.
 */
export function untilSignal(
  signals: readonly NodeJS.Signals[],
  onRepeat: (signal: NodeJS.Signals) => void,
): { received: Promise<NodeJS.Signals>; dispose(): void } {
  let first = true;
  let resolve!: (s: NodeJS.Signals) => void;
  const received = new Promise<NodeJS.Signals>((r) => (resolve = r));
  const handler = (signal: NodeJS.Signals): void => {
    if (first) {
      first = false;
      resolve(signal);
    } else onRepeat(signal);
  };
  for (const s of signals) process.on(s, handler);
  return {
    received,
    dispose() {
      for (const s of signals) process.off(s, handler);
    },
  };
}
