import { afterEach } from 'vitest';
import { makeWorkspace, type Workspace } from '../../helpers/workspace.js';

/** Temporary project folders for a test file, removed after each test. */
export function tempProjects(): (files: Record<string, string>) => Promise<Workspace> {
  const made: Workspace[] = [];
  afterEach(async () => {
    for (const ws of made.splice(0)) await ws.cleanup();
  });
  return async (files) => {
    const ws = await makeWorkspace(files);
    made.push(ws);
    return ws;
  };
}
