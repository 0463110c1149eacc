import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { loadSpecOrThrow, overrideFlags, specArg } from '../cli/spec-flags.js';
import { planPipeline } from '../core/run/run-pipeline.js';
import { planJson, renderPlan } from '../render/plan-text.js';

export default class Status extends BaseCommand {
  static override summary = 'Show which stages would run, and exactly why; which would be restored from cache.';
  static override examples = ['<%= config.bin %> status pipelines/iris/pipeline.yaml', '<%= config.bin %> status pipeline.yaml --set params.lr=0.01 --json'];
  static override args = specArg;
  static override flags = {
    ...overrideFlags,
    stage: Flags.string({ description: 'Only this stage and what it needs (repeatable).', multiple: true }),
  };

  async run(): Promise<ReturnType<typeof planJson>> {
    const { args, flags } = await this.parse(Status);
    const spec = await loadSpecOrThrow(args.spec, flags);
    const plan = await planPipeline(spec, this.runsDir(flags['runs-dir']), { only: flags.stage, onWarning: (m) => this.note(`warning: ${m}`) });
    this.out(renderPlan(plan));
    return planJson(plan);
  }
}
