import { openLocalStore } from '../../core/store/local-store.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';
import { UserError } from '../../errors.js';
import { defaultAssetsDir, loadAssets } from './static-assets.js';
import { buildUiServer } from './ui-server.js';
import { RunRowSource } from './run-rows.js';

/** Options of {@link startUi}. */
export interface StartUiOptions {
  runsDir: string;
  host: string;
  port: number;
  readOnly: boolean;
  pollMs: number;
  /** The built front end; default: the package's dist/ui. */
  assetsDir?: string;
  onInternalError?: (err: Error) => void;
}

/** Rows read before listening (the first page the table asks for), so the first load finds them built. */
const FIRST_PAGE = 200;

/** A listening dashboard. */
export interface RunningUi {
  url: string;
  runs: number;
  close(): Promise<void>;
}

/**
 * Opens the tracker and cache of a runs folder and serves the dashboard until closed. The runs
 * table is read once before listening, so the first page load does not wait for it.
 */
export async function startUi(o: StartUiOptions): Promise<RunningUi> {
  const assets = loadAssets(o.assetsDir ?? defaultAssetsDir());
  const tracker = await openExistingTracker(o.runsDir);
  const store = openLocalStore(o.runsDir);
  try {
    const rows = new RunRowSource(tracker);
    const runs = (await rows.page({ limit: FIRST_PAGE })).total;
    const app = buildUiServer({ tracker, store, rows, runsDir: o.runsDir, assets, readOnly: o.readOnly, pollMs: o.pollMs, onInternalError: o.onInternalError });
    try {
      await app.listen({ host: o.host, port: o.port });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        throw new UserError(`cannot listen on ${o.host}:${o.port} (${code})`, { hint: 'pick another --port (0 takes any free one) or --host', cause: err });
      }
      throw err;
    }
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : o.port;
    const host = o.host.includes(':') ? `[${o.host}]` : o.host;
    return {
      url: `http://${host}:${port}/`,
      runs,
      async close() {
        await app.close();
        await tracker.close();
      },
    };
  } catch (err) {
    await tracker.close();
    throw err;
  }
}
