import { randomBytes } from 'node:crypto';

/** A new run's id: `r-` and 12 hex digits. */
export function newRunId(): string {
  return `r-${randomBytes(6).toString('hex')}`;
}
