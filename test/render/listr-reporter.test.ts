import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/core/run/plan-run.js';
import type { RunEvent, StageSummary } from '../../src/core/run/events.js';
import { ListrReporter } from '../../src/render/progress/listr-reporter.js';

/** One JSON line of listr2's test renderer: a task event with the task's title and state flags. */
interface Logged {
  event: string;
  data: unknown;
  task?: { title?: string; path?: string[]; isCompleted?: boolean; isSkipped?: boolean; hasFailed?: boolean };
}

function capture(): { stream: NodeJS.WriteStream; lines: () => Logged[] } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  return { stream, lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Logged) };
}

const plan = (names: string[]): Plan => ({ pipeline: 'p', stages: names.map((name) => ({ name, kind: 'shell', action: 'run', reasons: [], needs: [] })) });
const summary = (name: string, s: Partial<StageSummary>): StageSummary => ({ name, kind: 'shell', status: 'completed', cached: false, reason: '', durationMs: 1500, metrics: {}, ...s });
const finished = (name: string, s: Partial<StageSummary>): RunEvent => ({ type: 'stage-finished', stage: name, summary: summary(name, s), record: {} });

/** Feeds a run of four stages (ran, restored, skipped, failed) to a reporter on listr2's test renderer. */
async function render(): Promise<Logged[]> {
  const out = capture();
  const reporter = new ListrReporter({ renderer: 'test', stream: out.stream });
  const events: RunEvent[] = [
    { type: 'run-started', runId: 'r-0123456789', pipeline: 'p', plan: plan(['prep', 'train', 'report', 'deploy']), runDir: '/tmp/r' },
    { type: 'stage-started', stage: 'prep', kind: 'shell', action: 'run', reason: 'input data.csv changed' },
    { type: 'stage-output', stage: 'prep', line: 'read 150 rows' },
    { type: 'stage-started', stage: 'train', kind: 'shell', action: 'restore', reason: 'upstream outputs identical' },
    finished('prep', { metrics: { rows: 150 } }),
    finished('train', { cached: true, cachedFrom: 'r-abcdef987654', metrics: { accuracy: 0.9333, loss: 0.21 } }),
    { type: 'stage-started', stage: 'deploy', kind: 'shell', action: 'run', reason: 'never run' },
    { type: 'stage-progress', stage: 'deploy', message: 'uploading' },
    finished('deploy', { status: 'failed', error: 'command exited with code 7', lastLines: ['about to fail', 'boom'] }),
    finished('report', { status: 'skipped', reason: 'upstream deploy failed' }),
  ];
  for (const e of events) {
    reporter.onEvent(e);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await reporter.close();
  return out.lines();
}

const of = (lines: Logged[], stage: string) => lines.filter((l) => l.task?.path?.[0]?.startsWith(`${stage} `) || l.task?.title?.startsWith(`${stage} `));
const titles = (lines: Logged[]) => lines.filter((l) => l.event === 'TITLE').map((l) => l.data as string);

describe('ListrReporter (listr2 test renderer)', () => {
  it('has one task per planned stage, titled while it waits, runs and finishes', async () => {
    const lines = await render();
    const prep = of(lines, 'prep');
    expect(prep[0]?.task?.path).toEqual(['prep · waiting']);
    expect(titles(prep)).toContainEqual(expect.stringMatching(/^prep running · input data\.csv changed · \d+(\.\d)?m?s$/));
    expect(titles(prep).at(-1)).toBe('prep · done in 1.5s · rows 150');
    expect(prep.filter((l) => l.event === 'OUTPUT').map((l) => l.data)).toEqual(['read 150 rows']);
    expect(prep.at(-1)?.task).toMatchObject({ isCompleted: true, hasFailed: false });
  });

  it('shows a restored stage with the run it came from and its headline metrics', async () => {
    const train = of(await render(), 'train');
    expect(titles(train)).toContainEqual(expect.stringMatching(/^train restoring · upstream outputs identical · /));
    expect(titles(train).at(-1)).toBe('train · cached from r-abcdef · accuracy 0.9333 loss 0.21');
    expect(train.at(-1)?.task).toMatchObject({ isCompleted: true });
  });

  it('skips a stage with its reason and fails a stage with its error and last output lines', async () => {
    const lines = await render();
    const skip = of(lines, 'report').find((l) => l.event === 'MESSAGE');
    expect(skip?.data).toEqual({ skip: 'report · skipped (upstream deploy failed)' });
    expect(of(lines, 'report').at(-1)?.task).toMatchObject({ isSkipped: true });
    const deploy = of(lines, 'deploy');
    expect(deploy.filter((l) => l.event === 'OUTPUT').map((l) => l.data)).toEqual(['uploading']);
    expect(deploy.find((l) => l.event === 'MESSAGE')?.data).toEqual({ error: 'deploy · failed: command exited with code 7\nabout to fail\nboom' });
    expect(deploy.at(-1)?.task).toMatchObject({ hasFailed: true });
  });

  it('close() waits for every stage task to end', async () => {
    const lines = await render();
    const ends = lines.filter((l) => l.event === 'STATE' && ['COMPLETED', 'SKIPPED', 'FAILED'].includes(l.data as string));
    expect(ends.map((l) => l.data).sort()).toEqual(['COMPLETED', 'COMPLETED', 'FAILED', 'SKIPPED']);
  });
});
