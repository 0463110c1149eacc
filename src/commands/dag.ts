import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { loadSpecOrThrow, overrideFlags, specArg } from '../cli/spec-flags.js';
import { renderDagText, renderDot, renderMermaid } from '../core/graph.js';

export default class Dag extends BaseCommand {
  static override summary = 'Print the stage graph as a text tree, Mermaid or Graphviz dot.';
  static override examples = ['<%= config.bin %> dag pipelines/iris/pipeline.yaml', '<%= config.bin %> dag pipeline.yaml --format mermaid'];
  static override args = specArg;
  static override flags = {
    ...overrideFlags,
    format: Flags.string({ description: 'Output format.', options: ['text', 'mermaid', 'dot'], default: 'text' }),
  };

  async run(): Promise<{ schemaVersion: 1; pipeline: string; stages: { name: string; kind: string; needs: string[] }[] }> {
    const { args, flags } = await this.parse(Dag);
    const spec = await loadSpecOrThrow(args.spec, flags);
    const render = { text: renderDagText, mermaid: renderMermaid, dot: renderDot }[flags.format as 'text' | 'mermaid' | 'dot'];
    this.out(render(spec));
    return { schemaVersion: 1, pipeline: spec.name, stages: spec.order.map((n) => ({ name: n, kind: spec.stages[n].kind, needs: spec.stages[n].needs })) };
  }
}
