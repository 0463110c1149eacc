import { BaseCommand } from '../cli/base-command.js';
import { loadSpecOrThrow, overrideFlags, specArg } from '../cli/spec-flags.js';

export default class Validate extends BaseCommand {
  static override summary = 'Check a spec: every error with file:line:col; nothing is run or written.';
  static override examples = ['<%= config.bin %> validate pipelines/iris/pipeline.yaml'];
  static override args = specArg;
  static override flags = { ...overrideFlags };

  async run(): Promise<{ schemaVersion: 1; valid: true; pipeline: string; stages: string[] }> {
    const { args, flags } = await this.parse(Validate);
    const spec = await loadSpecOrThrow(args.spec, flags);
    this.out(`${args.spec}: valid (${spec.order.length} stages: ${spec.order.join(' → ')})`);
    return { schemaVersion: 1, valid: true, pipeline: spec.name, stages: spec.order };
  }
}
