import { useEffect, useState } from 'preact/hooks';
import { ApiFailure } from './api.js';

/** State of a request: the last good data stays while a refetch runs. */
export interface Fetched<T> {
  data: T | undefined;
  error: ApiFailure | undefined;
  loading: boolean;
}

/** Runs `load` whenever a dependency changes; a stale answer never overwrites a newer one. */
export function useFetch<T>(load: () => Promise<T>, deps: unknown[]): Fetched<T> {
  const [state, setState] = useState<Fetched<T>>({ data: undefined, error: undefined, loading: true });
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => current && setState({ data, error: undefined, loading: false }),
      (err: unknown) => current && setState((s) => ({ data: s.data, error: err instanceof ApiFailure ? err : new ApiFailure(0, String((err as Error)?.message ?? err)), loading: false })),
    );
    return () => {
      current = false;
    };
  }, deps);
  return state;
}
