import { useEffect, useRef, useState } from 'preact/hooks';
import type { TopLevelSpec } from 'vega-lite';

type Embed = typeof import('vega-embed').default;
let embedding: Promise<Embed> | undefined;
/** vega-embed (with vega and vega-lite) is its own chunk, fetched the first time a chart is drawn. */
const loadEmbed = (): Promise<Embed> => (embedding ??= import('vega-embed').then((m) => m.default));

/** A Vega-Lite chart (the same specs `mlpipe report` renders), drawn as SVG. */
export function Chart({ spec, testId, title }: { spec: TopLevelSpec; testId?: string; title?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string>();
  useEffect(() => {
    let finalize: (() => void) | undefined;
    let live = true;
    loadEmbed()
      .then((embed) => (live && ref.current ? embed(ref.current, spec, { renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } }) : undefined))
      .then((result) => {
        if (!result) return;
        if (!live) result.finalize();
        else finalize = () => result.finalize();
      })
      .catch((err: Error) => live && setError(err.message));
    return () => {
      live = false;
      finalize?.();
    };
  }, [JSON.stringify(spec)]);
  return (
    <figure class="chart" data-testid={testId} data-title={title}>
      {error ? <p class="error">chart failed: {error}</p> : <div ref={ref} />}
    </figure>
  );
}
