import { useEffect, useState } from 'preact/hooks';

let version = 0;
const listeners = new Set<(v: number) => void>();
let source: EventSource | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;

function connect(): void {
  if (source) return;
  source = new EventSource('/api/events');
  source.addEventListener('change', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      version++;
      for (const l of listeners) l(version);
    }, 150);
  });
}

/**
 * A number that goes up whenever the server says the tracker changed (server-sent events; the
 * browser reconnects by itself). Pages put it in their effects' dependencies to refetch.
 */
export function useLiveVersion(): number {
  const [v, setV] = useState(version);
  useEffect(() => {
    connect();
    listeners.add(setV);
    return () => listeners.delete(setV);
  }, []);
  return v;
}
