import { mkdirSync, symlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { workspaceLockPath } from '../../src/core/run/run-pipeline.js';
import { makeWorkspace, type Workspace } from '../helpers/workspace.js';

// Issue 14 item 4: the same workspace through a symlinked path took another lock.

let ws: Workspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

describe('the workspace lock name (issue 14.4)', () => {
  it('is the same for a workspace reached through a symlink or through ..', async () => {
    ws = await makeWorkspace();
    mkdirSync(ws.path('real/sub'), { recursive: true });
    symlinkSync(ws.path('real'), ws.path('link'));
    const direct = await workspaceLockPath(ws.path('runs'), ws.path('real'));
    expect(await workspaceLockPath(ws.path('runs'), ws.path('link'))).toBe(direct);
    expect(await workspaceLockPath(ws.path('runs'), `${ws.path('real/sub')}/..`)).toBe(direct);
    expect(await workspaceLockPath(ws.path('runs'), ws.path('real/sub'))).not.toBe(direct);
  });
});
