import { useEffect, useState } from 'preact/hooks';

/** The page a hash names: `#/`, `#/runs/ID`, `#/compare?runs=a,b`, `#/models`. */
export interface Route {
  page: 'runs' | 'run' | 'compare' | 'models';
  id?: string;
  query: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const [path = '', qs = ''] = hash.replace(/^#/, '').split('?');
  const query = new URLSearchParams(qs);
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'runs' && parts[1]) return { page: 'run', id: decodeURIComponent(parts[1]), query };
  if (parts[0] === 'compare') return { page: 'compare', query };
  if (parts[0] === 'models') return { page: 'models', query };
  return { page: 'runs', query };
}

/** The current route, following `hashchange`. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

export const runHref = (id: string) => `#/runs/${encodeURIComponent(id)}`;
export const compareHref = (ids: string[], baseline?: string) => `#/compare?runs=${ids.map(encodeURIComponent).join(',')}${baseline ? `&baseline=${encodeURIComponent(baseline)}` : ''}`;
