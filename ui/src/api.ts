import type { ApiError } from '../../src/serve/ui/api-types.js';

export type * from '../../src/serve/ui/api-types.js';

/** An API answer that was not 2xx; `message` is the server's. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

async function answer<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiFailure(res.status, `the server answered ${res.status} with something that is not JSON`);
  }
  if (!res.ok) {
    const e = body as Partial<ApiError>;
    throw new ApiFailure(res.status, e.message ?? `HTTP ${res.status}`, e.hint);
  }
  return body as T;
}

/** GET a JSON API path with query parameters (empty values are left out). */
export async function getJson<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
  const qs = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => Boolean(e[1])));
  const res = await fetch(`${path}${qs.size ? `?${qs}` : ''}`, { headers: { accept: 'application/json' } });
  return answer<T>(res);
}

/** POST JSON to an API path. */
export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) });
  return answer<T>(res);
}

/** The download link of a file of a run's output. */
export function artifactUrl(runId: string, stage: string, name: string, file?: string): string {
  const base = `/api/runs/${encodeURIComponent(runId)}/artifacts/${encodeURIComponent(stage)}/${encodeURIComponent(name)}`;
  return file ? `${base}?file=${encodeURIComponent(file)}` : base;
}
