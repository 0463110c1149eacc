import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { listRunSummaries, type RunListItem } from '../../app/compare/run-summaries.js';
import { shouldColor } from '../../render/ansi.js';
import { LIST_COLUMN_NAMES, listColumn, renderRunList } from '../../render/runs.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';
import type { RunStatus } from '../../core/tracker/types.js';
import { UserError } from '../../errors.js';

export default class RunsList extends BaseCommand {
  static override summary = 'List recorded runs, newest first, with stage counts and headline metrics; search them with --filter.';
  static override description =
    "--filter takes the run-search language, run as SQL by the tracker: params.NAME, metrics.STAGE.KEY (final values), tags.KEY and id, name, pipeline, status, sweep, commit, backend, host, note, error, started_at, ended_at, duration_ms, deleted_at; numbers, quoted strings, + - * /, < <= > >= = != (== <>), in (…), not in (…), like '%…' (case-insensitive), is [not] null, and/or/not. A run lacking a field a comparison reads is not matched.";
  static override examples = [
    '<%= config.bin %> runs list',
    '<%= config.bin %> runs list --pipeline iris --status failed --limit 5',
    `<%= config.bin %> runs list --filter "params.lr < 0.01 and (metrics.evaluate.accuracy >= 0.9 or tags.owner = 'ana')"`,
    '<%= config.bin %> runs list --order-by "metrics.evaluate.accuracy desc" --columns id,params.lr,metrics.evaluate.accuracy',
    '<%= config.bin %> runs list --deleted --filter "deleted_at is not null"',
    '<%= config.bin %> runs list --json',
  ];
  static override flags = {
    pipeline: Flags.string({ description: 'Only runs of this pipeline.' }),
    status: Flags.string({ description: 'Only runs with this status.', options: ['running', 'completed', 'failed', 'interrupted'] }),
    filter: Flags.string({ char: 'f', description: "Only runs matching this condition, e.g. \"params.lr < 0.01 and tags.owner = 'ana'\" (see the description)." }),
    search: Flags.string({ description: 'Only runs whose id, name, pipeline, status, tags, params or errors contain every word of this text.' }),
    'order-by': Flags.string({ description: 'Order by fields of the filter language, e.g. "metrics.evaluate.accuracy desc, started_at" (missing values last).' }),
    columns: Flags.string({ description: `Columns of the table, comma-separated: ${LIST_COLUMN_NAMES.join(', ')}, params.NAME, metrics.STAGE.KEY, tags.KEY.` }),
    limit: Flags.integer({ description: 'At most this many runs.', default: 20, min: 1 }),
    offset: Flags.integer({ description: 'Skip this many runs first (pages with --limit).', default: 0, min: 0 }),
    deleted: Flags.boolean({ description: 'List deleted runs too (runs delete), marked as such; --filter "deleted_at is not null" lists only them.', default: false }),
  };

  async run(): Promise<{ schemaVersion: 1; runs: RunListItem[]; total: number }> {
    const { flags } = await this.parse(RunsList);
    const columns = flags.columns?.split(',').map((c) => c.trim()).filter(Boolean);
    const bad = columns?.find((c) => !listColumn(c));
    if (bad !== undefined) throw new UserError(`--columns: unknown column "${bad}"`, { hint: `columns: ${LIST_COLUMN_NAMES.join(', ')}, params.NAME, metrics.STAGE.KEY, tags.KEY` });
    const tracker = await openExistingTracker(this.runsDir(flags['runs-dir']));
    try {
      const filter = { pipeline: flags.pipeline, status: flags.status as RunStatus | undefined, where: flags.filter, search: flags.search, orderBy: flags['order-by'], deleted: flags.deleted ? ('include' as const) : ('exclude' as const) };
      const runs = await listRunSummaries(tracker, { ...filter, limit: flags.limit, offset: flags.offset });
      const total = await tracker.countRuns(filter);
      const hiddenDeleted = runs.length === 0 && !flags.deleted ? await tracker.countRuns({ ...filter, deleted: 'only' }) : 0;
      this.out(renderRunList(runs, { color: shouldColor(process.stdout), columns, filtered: Boolean(flags.filter || flags.search || flags.pipeline || flags.status), hiddenDeleted }));
      if (total > flags.offset + runs.length) this.out(`${runs.length} of ${total} runs shown; --offset ${flags.offset + runs.length} for more`);
      return { schemaVersion: 1, runs, total };
    } finally {
      await tracker.close();
    }
  }
}
