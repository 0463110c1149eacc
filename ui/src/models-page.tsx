import { useState } from 'preact/hooks';
import { getJson, postJson, type ModelsResponse } from './api.js';
import { formatCell, formatTime } from './format.js';
import { useLiveVersion } from './live.js';
import { runHref } from './router.js';
import { useFetch } from './use-fetch.js';
import { ConfirmButton, ErrorBox } from './widgets.js';

/** The registry: versions, aliases and metrics; promote and roll back (asking first; off with --read-only). */
export function ModelsPage() {
  const live = useLiveVersion();
  const [bump, setBump] = useState(0);
  const res = useFetch(() => getJson<ModelsResponse>('/api/models'), [live, bump]);
  const [alias, setAlias] = useState('production');
  if (res.error) return <ErrorBox error={res.error} />;
  const d = res.data;
  if (!d) return <p class="note">Loading…</p>;
  const ro = d.readOnly;
  const why = ro ? 'the dashboard runs with --read-only' : undefined;
  const refresh = () => setBump((n) => n + 1);
  return (
    <section class="models-page">
      <h1>Models</h1>
      <div class="toolbar">
        <label>
          alias to move{' '}
          <input data-testid="alias" value={alias} onInput={(e) => setAlias(e.currentTarget.value)} size={14} disabled={ro} />
        </label>
        {ro && <span class="note">read-only: promote and rollback are off</span>}
      </div>
      {d.models.length === 0 && <p class="note">No registered models: a pipeline with a deploy stage registers one.</p>}
      {d.models.map((m) => {
        const aliases = [...new Set(m.versions.flatMap((v) => v.aliases))].sort();
        const metricNames = [...new Set(m.versions.flatMap((v) => Object.keys(v.metrics)))].slice(0, 6);
        return (
          <div key={m.name} class="model" data-model={m.name}>
            <h2>{m.name}</h2>
            <table class="grid">
              <thead>
                <tr>
                  <th>version</th>
                  <th>aliases</th>
                  <th>run</th>
                  <th>registered</th>
                  {metricNames.map((k) => (
                    <th key={k}>{k}</th>
                  ))}
                  <th />
                </tr>
              </thead>
              <tbody>
                {m.versions.map((v) => (
                  <tr key={v.version} data-version={v.version}>
                    <th>v{v.version}</th>
                    <td data-col="aliases">
                      {v.aliases.map((a) => (
                        <span key={a} class="badge alias" data-alias={a}>
                          {a}
                        </span>
                      ))}
                    </td>
                    <td>
                      <a href={runHref(v.runId)}>{v.runId.slice(0, 10)}</a>
                    </td>
                    <td>{formatTime(v.createdAt)}</td>
                    {metricNames.map((k) => (
                      <td key={k} class="num">
                        {formatCell(v.metrics[k])}
                      </td>
                    ))}
                    <td>
                      <ConfirmButton
                        label={`Promote to ${alias}`}
                        testId="promote"
                        disabled={ro || !alias || v.aliases.includes(alias)}
                        title={why}
                        question={`Point ${m.name}@${alias} at v${v.version}? Servers that follow ${m.name}@${alias} switch to it.`}
                        onConfirm={async () => {
                          await postJson(`/api/models/${encodeURIComponent(m.name)}/promote`, { version: v.version, alias });
                          refresh();
                        }}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {aliases.length > 0 && (
              <div class="rollbacks">
                {aliases.map((a) => (
                  <ConfirmButton
                    key={a}
                    label={`Roll back ${a}`}
                    testId={`rollback-${a}`}
                    disabled={ro}
                    title={why}
                    question={`Move ${m.name}@${a} back to the version that held it before?`}
                    onConfirm={async () => {
                      await postJson(`/api/models/${encodeURIComponent(m.name)}/rollback`, { alias: a });
                      refresh();
                    }}
                  />
                ))}
              </div>
            )}
          </div>
        );
      })}
    </section>
  );
}
