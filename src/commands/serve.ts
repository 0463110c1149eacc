import { Args, Flags } from '@oclif/core';
import { backendFlag } from '../cli/backend-flag.js';
import { BaseCommand } from '../cli/base-command.js';
import { durationFlag } from '../cli/duration-flag.js';
import { thresholdFlag } from '../cli/threshold-flag.js';
import { remoteNameFlag, remoteOpener } from '../cli/remote-flags.js';
import { ExitCode } from '../exit-codes.js';
import { formatModelRef, parseModelRef } from '../app/models/model-ref.js';
import type { ServeSummary } from '../serve/serve-model.js';
import type { BackendChoice } from '../ml/backend-choice.js';

export default class Serve extends BaseCommand {
  static override summary = 'Serve a registered model over HTTP: POST /predict, POST /feedback, GET /health, GET /metrics (Prometheus).';
  static override description = [
    'Serving NAME@ALIAS (or NAME, the newest version) follows it: when the alias is promoted or rolled back, the new',
    'version is loaded and swapped in without failing a request. SIGTERM or Ctrl-C stops accepting connections, lets',
    'the requests in flight finish, and exits 0.',
    '',
    'Every prediction is logged to RUNS_DIR/monitor/NAME.sqlite (written in batches, off the request path) with the',
    'request id the answer carries (its "id" field and the x-request-id header). POST /feedback {"id": ID, "label": L}',
    '(or an array of them) attaches the true label; `mlpipe monitor NAME@ALIAS` reads the log. --no-log turns it off.',
  ].join('\n');
  static override examples = [
    '<%= config.bin %> serve iris@production',
    '<%= config.bin %> serve iris@3 --host 0.0.0.0 --port 9000',
    `curl -s localhost:8080/predict -H 'content-type: application/json' -d '{"instances":[{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}]}'`,
    `curl -s localhost:8080/feedback -H 'content-type: application/json' -d '{"id":"ID-FROM-THE-ANSWER","label":"setosa"}'`,
    '<%= config.bin %> serve iris@production --log-retention 30d',
  ];
  static override args = {
    model: Args.string({ description: 'NAME@ALIAS (followed), NAME@VERSION (fixed), or NAME (the newest version, followed).', required: true }),
  };
  static override flags = {
    host: Flags.string({ description: 'Address to bind.', default: '127.0.0.1' }),
    port: Flags.integer({ description: 'Port to listen on (0: any free port).', default: 8080, min: 0, max: 65535 }),
    backend: backendFlag('Compute backend.'),
    threshold: thresholdFlag(),
    'watch-interval': Flags.integer({ description: 'Milliseconds between checks of the followed alias (0: never).', default: 2000, min: 0 }),
    'body-limit': Flags.integer({ description: 'Largest request body in bytes (larger: 413).', default: 1_048_576, min: 1024 }),
    'max-instances': Flags.integer({ description: 'Most rows in one request (more: 413).', default: 10_000, min: 1 }),
    token: Flags.string({ description: 'Require Authorization: Bearer TOKEN on /predict and /metrics (set it when binding beyond localhost).', env: 'MLPIPE_SERVE_TOKEN' }),
    'max-connections': Flags.integer({ description: 'Most connections open at once (more are refused).', default: 1000, min: 1 }),
    remote: remoteNameFlag,
    'drain-timeout': Flags.integer({ description: 'Milliseconds in-flight requests get to finish on shutdown.', default: 10_000, min: 0 }),
    log: Flags.boolean({ description: 'Log every prediction to RUNS_DIR/monitor/NAME.sqlite for `mlpipe monitor` and POST /feedback (--no-log: neither).', default: true, allowNo: true }),
    'log-retention': durationFlag('How long logged predictions are kept (30m, 12h, 7d, 4w).', '7d'),
  };

  async run(): Promise<ServeSummary> {
    const { args, flags } = await this.parse(Serve);
    const ref = parseModelRef(args.model);
    const [{ startServing }, { untilSignal }] = await Promise.all([import('../serve/serve-model.js'), import('../serve/shutdown.js')]);
    const signals = untilSignal(['SIGTERM', 'SIGINT'], (sig) => {
      this.note(`${sig} again: exiting without draining`);
      process.exit(ExitCode.Interrupted);
    });
    try {
      const server = await startServing({
        runsDir: this.runsDir(flags['runs-dir']),
        ref,
        host: flags.host,
        port: flags.port,
        backend: flags.backend as BackendChoice,
        threshold: flags.threshold,
        remote: remoteOpener(() => this.projectConfig({ remote: flags.remote })),
        watchIntervalMs: flags['watch-interval'],
        bodyLimit: flags['body-limit'],
        maxInstances: flags['max-instances'],
        token: flags.token,
        maxConnections: flags['max-connections'],
        predictionLog: flags.log ? { retentionMs: flags['log-retention'] } : false,
        log: (line) => this.note(line),
        requestLog: flags.verbose ? (line) => this.note(line) : undefined,
      });
      const m = server.current();
      const follows = ref.selector.kind === 'version' ? '' : `, following ${formatModelRef(ref)}`;
      if (server.predictionLogPath) this.note(`logging predictions to ${server.predictionLogPath}`);
      this.note(`serving ${m.name} v${m.version} (backend ${m.predictor.backend}${follows}) at ${server.url}`);
      const sig = await signals.received;
      this.note(`${sig}: draining in-flight requests`);
      const summary = await server.close(flags['drain-timeout']);
      this.note('stopped');
      return summary;
    } finally {
      signals.dispose();
    }
  }
}
