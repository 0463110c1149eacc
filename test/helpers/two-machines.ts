import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { makeWorkspace, type Workspace } from './workspace.js';

/** Two machines' folders, a folder both reach (the remote, counters), and the PostgreSQL database they share. */
export interface TwoMachines {
  db: TestDatabase;
  shared: Workspace;
  machineA: Workspace;
  machineB: Workspace;
  /** A machine's environment: its own HOME, the shared tracker (as CI sets it), the cpu backend, and `extra`. */
  envOf(ws: Workspace, extra?: Record<string, string>): Record<string, string>;
}

/** Creates them before the file's tests (when PostgreSQL is `available`) and removes them after; read the fields inside tests only. */
export function useTwoMachines(available: boolean): TwoMachines {
  const m = {
    envOf: (ws: Workspace, extra: Record<string, string> = {}) => ({ HOME: ws.path('home'), MLPIPE_TRACKER: m.db.url, MLPIPE_BACKEND: 'cpu', ...extra }),
  } as TwoMachines;
  beforeAll(async () => {
    if (!available) return;
    m.db = await createTestDatabase();
    [m.shared, m.machineA, m.machineB] = await Promise.all([makeWorkspace(), makeWorkspace(), makeWorkspace()]);
  });
  afterAll(async () => {
    if (!available) return;
    await m.db.drop();
    await Promise.all([m.shared, m.machineA, m.machineB].map((w) => w.cleanup()));
  });
  return m;
}
