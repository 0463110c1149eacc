import { useState } from 'preact/hooks';
import { confusionSpec, curveSpec } from '../../src/render/chart-specs.js';
import { artifactUrl, getJson, postJson, type RunPageResponse } from './api.js';
import { Chart } from './chart.js';
import { formatBytes, formatCell, formatDuration, formatTime } from './format.js';
import { useLiveVersion } from './live.js';
import { runHref } from './router.js';
import { ImportanceTable, SliceTables } from './run-insights.js';
import { useFetch } from './use-fetch.js';
import { ConfirmButton, ErrorBox } from './widgets.js';

/** One run: why it failed, its stages (cache status and reason, log tail), metrics, artifacts, spec and params. */
export function RunPage({ id }: { id: string }) {
  const live = useLiveVersion();
  const [bump, setBump] = useState(0);
  const res = useFetch(() => getJson<RunPageResponse>(`/api/runs/${encodeURIComponent(id)}`), [id, live, bump]);
  if (res.error) return <ErrorBox error={res.error} />;
  const d = res.data;
  if (!d) return <p class="note">Loading…</p>;
  const r = d.run;
  const metrics = Object.entries(r.metrics);
  return (
    <section class="run-page" data-run-id={r.id}>
      <h1>
        <span data-testid="run-name">{r.name ?? r.id}</span> <span class={`badge ${r.status}`} data-testid="run-status">{r.status}</span>
        {r.deletedAt !== null && <span class="badge deleted" data-testid="run-deleted">deleted</span>}{' '}
        <DeleteButton run={r} readOnly={d.readOnly} onDone={() => setBump((n) => n + 1)} />
      </h1>
      {r.deletedAt !== null && (
        <p class="note" data-testid="deleted-note">
          Deleted {formatTime(r.deletedAt)}: left out of lists, comparisons and reports, and mlpipe gc frees what only it used. Restore brings it back.
        </p>
      )}
      {r.note && (
        <p class="run-note" data-testid="run-note">
          {r.note}
        </p>
      )}
      <dl class="facts">
        <dt>run</dt>
        <dd>
          <code>{r.id}</code>
        </dd>
        <dt>pipeline</dt>
        <dd>{r.pipeline}</dd>
        <dt>started</dt>
        <dd>{formatTime(r.startedAt)}</dd>
        <dt>duration</dt>
        <dd>{formatDuration(r.durationMs)}</dd>
        {r.sweepId && (
          <>
            <dt>sweep</dt>
            <dd>
              <a href={`#/compare?sweep=${encodeURIComponent(r.sweepId)}`}>{r.sweepId}</a>
            </dd>
          </>
        )}
        {r.gitCommit && (
          <>
            <dt>git commit</dt>
            <dd>
              <code>{r.gitCommit}</code>
            </dd>
          </>
        )}
        <dt>backend</dt>
        <dd>{r.backend ?? '—'}</dd>
        <dt>host</dt>
        <dd>{r.host}</dd>
        {Object.keys(r.tags).length > 0 && (
          <>
            <dt>tags</dt>
            <dd data-testid="run-tags">
              {Object.entries(r.tags).map(([k, v]) => (
                <span key={k} class="badge tag" data-tag={k}>
                  {k}={v}
                </span>
              ))}
            </dd>
          </>
        )}
      </dl>
      {r.failure && (
        <div class="failure" data-testid="failure" role="alert">
          <strong>{r.failure.stage ? `stage ${r.failure.stage} failed: ` : ''}</strong>
          <span data-testid="failure-error">{r.failure.error}</span>
          {r.failure.lastLines.length > 0 && <pre data-testid="failure-lines">{r.failure.lastLines.join('\n')}</pre>}
        </div>
      )}
      <h2>Stages</h2>
      <table class="grid stages" data-testid="stages">
        <thead>
          <tr>
            <th>stage</th>
            <th>kind</th>
            <th>status</th>
            <th>cache</th>
            <th>reason</th>
            <th>duration</th>
          </tr>
        </thead>
        <tbody>
          {d.stages.map((s) => (
            <tr key={s.stage} data-stage={s.stage}>
              <th>{s.stage}</th>
              <td>{s.kind}</td>
              <td>
                <span class={`badge ${s.status}`}>{s.status}</span>
              </td>
              <td data-col="cache">
                {s.cached ? (
                  <>
                    restored from <a href={runHref(s.cachedFrom!)}>{s.cachedFrom!.slice(0, 10)}</a>
                  </>
                ) : s.status === 'completed' ? (
                  'ran'
                ) : (
                  '—'
                )}
              </td>
              <td data-col="reason">{s.reason ?? ''}</td>
              <td class="num">{formatDuration(s.durationMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Logs</h2>
      {d.stages.map((s) =>
        s.log.lines.length ? (
          <details key={s.stage} class="log" open={s.status === 'failed'} data-log={s.stage}>
            <summary>
              {s.stage} — last {s.log.lines.length} lines{s.log.truncated ? ' (earlier lines cut)' : ''} ({s.log.source})
            </summary>
            <pre>{s.log.lines.join('\n')}</pre>
          </details>
        ) : null,
      )}
      {d.stages.every((s) => !s.log.lines.length) && <p class="note">No output was recorded (restored stages print nothing).</p>}
      <h2>Metrics</h2>
      {metrics.length ? (
        <table class="grid" data-testid="run-metrics">
          <tbody>
            {metrics.map(([k, v]) => (
              <tr key={k} data-metric={k}>
                <th>{k}</th>
                <td class="num" data-value={v}>
                  {formatCell(v)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="note">No final metrics.</p>
      )}
      {(d.curves.length > 0 || d.confusion) && (
        <div class="charts">
          {d.curves.map((c) => (
            <Chart key={c.name} testId="curve" title={c.name} spec={curveSpec({ ...c, points: [c.points] }, [{ shortId: r.shortId }])} />
          ))}
          {d.confusion && <Chart testId="confusion" title="confusion" spec={confusionSpec(d.confusion.matrix, `confusion matrix · ${d.confusion.stage}`)} />}
        </div>
      )}
      {d.importance && (
        <>
          <h2>Feature importance</h2>
          <ImportanceTable importance={d.importance} />
        </>
      )}
      {d.slices && (
        <>
          <h2>Slices</h2>
          <SliceTables slices={d.slices} />
        </>
      )}
      <h2>Artifacts</h2>
      {d.artifacts.length ? (
        <table class="grid" data-testid="artifacts">
          <thead>
            <tr>
              <th>output</th>
              <th>size</th>
              <th>download</th>
            </tr>
          </thead>
          <tbody>
            {d.artifacts.map((a) => (
              <tr key={`${a.stage}/${a.name}`}>
                <th>
                  {a.stage}/{a.name}
                </th>
                <td class="num">{formatBytes(a.size)}</td>
                <td>
                  {!a.inCache ? (
                    <span class="note">not in the cache any more</span>
                  ) : a.type === 'file' ? (
                    <a href={artifactUrl(r.id, a.stage, a.name)} download data-testid="download">
                      download
                    </a>
                  ) : (
                    <details>
                      <summary>{a.files.length} files</summary>
                      <ul class="files">
                        {a.files.map((f) => (
                          <li key={f.path}>
                            <a href={artifactUrl(r.id, a.stage, a.name, f.path)} download>
                              {f.path}
                            </a>{' '}
                            <span class="note">{formatBytes(f.size)}</span>
                          </li>
                        ))}
                      </ul>
                    </details>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="note">No outputs recorded.</p>
      )}
      <h2>Params</h2>
      <pre class="code" data-testid="params">{JSON.stringify(d.params, null, 2)}</pre>
      <h2>Spec</h2>
      <p class="note">
        <code>{d.spec.path}</code>
        {d.spec.text === null ? ' — the file is gone' : d.spec.unchanged ? ' — the bytes this run read' : ' — changed since this run (shown as it is now)'}
      </p>
      {d.spec.text !== null && <pre class="code" data-testid="spec">{d.spec.text}</pre>}
    </section>
  );
}

/** Delete or restore (soft, as `mlpipe runs delete|restore`): asks first; off with --read-only and while the run runs. */
function DeleteButton({ run, readOnly, onDone }: { run: RunPageResponse['run']; readOnly: boolean; onDone: () => void }) {
  const deleted = run.deletedAt !== null;
  const action = deleted ? 'restore' : 'delete';
  const label = run.name ? `${run.name} (${run.shortId})` : run.shortId;
  return (
    <ConfirmButton
      label={deleted ? 'Restore' : 'Delete'}
      testId={`${action}-run`}
      disabled={readOnly || run.status === 'running'}
      title={readOnly ? 'the dashboard runs with --read-only' : run.status === 'running' ? 'a running run can be deleted once it ends' : undefined}
      question={
        deleted
          ? `Restore run ${label}? It comes back into lists, comparisons and reports.`
          : `Delete run ${label}? It leaves lists, comparisons and reports, and mlpipe gc may free what only it used; Restore (or mlpipe runs restore) brings it back.`
      }
      onConfirm={async () => {
        await postJson(`/api/runs/${encodeURIComponent(run.id)}/${action}`, {});
        onDone();
      }}
    />
  );
}
