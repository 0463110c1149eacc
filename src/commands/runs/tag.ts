import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { parseTags, tagRun, type RunMeta } from '../../app/runs/run-meta.js';
import { renderRunMeta } from '../../render/runs.js';
import { openExistingTracker } from '../../core/tracker/open-tracker.js';

export default class RunsTag extends BaseCommand {
  static override summary = 'Set or remove tags of a run (KEY=VALUE; filter runs with tags.KEY).';
  static override strict = false;
  static override examples = ['<%= config.bin %> runs tag r-7f3a1b owner=ana data=march', '<%= config.bin %> runs tag r-7f3a1b --remove data', '<%= config.bin %> runs tag iris@production stage=prod'];
  static override args = {
    run: Args.string({ description: 'A run id, an unambiguous prefix of one, or MODEL@ALIAS.', required: true }),
    tags: Args.string({ description: 'KEY=VALUE tags to set (any number).' }),
  };
  static override flags = {
    remove: Flags.string({ description: 'Remove this tag (repeatable).', multiple: true, multipleNonGreedy: true }),
  };

  async run(): Promise<RunMeta> {
    const { args, argv, flags } = await this.parse(RunsTag);
    const set = parseTags((argv as string[]).slice(1));
    const tracker = await openExistingTracker(this.runsDir(flags['runs-dir']));
    try {
      const meta = await tagRun(tracker, args.run, set, flags.remove ?? []);
      this.out(renderRunMeta(meta, 'tags'));
      return meta;
    } finally {
      await tracker.close();
    }
  }
}
