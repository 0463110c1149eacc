import { promoteModel, rollbackModel, type AliasMove } from '../../app/models/aliases.js';
import { isConfusionKey } from '../../core/tracker/confusion-cells.js';
import type { ModelRegistry } from '../../core/tracker/types.js';
import type { ModelsResponse } from './api-types.js';
import { keyMetrics } from '../../app/models/model-views.js';

/** A version's metrics by their bare names (the gate's names), the headline ones (accuracy, f1 …) first. */
function headlineFirst(metrics: Record<string, number>): Record<string, number> {
  const bare = Object.keys(metrics).filter((k) => !k.includes('.') && !isConfusionKey(k)).sort();
  const head = Object.keys(keyMetrics(metrics));
  return Object.fromEntries([...head, ...bare.filter((k) => !head.includes(k))].map((k) => [k, metrics[k]!]));
}

/** Every registered model, its versions newest first, with aliases and metrics. */
export async function modelsView(registry: ModelRegistry, readOnly: boolean): Promise<ModelsResponse> {
  const byName = new Map<string, ModelsResponse['models'][number]>();
  for (const m of await registry.listModels()) {
    const entry = byName.get(m.name) ?? { name: m.name, versions: [] };
    entry.versions.push({
      version: m.version,
      aliases: [...m.aliases].sort(),
      runId: m.runId,
      stage: m.stage,
      metrics: headlineFirst(m.metrics),
      createdAt: m.createdAt,
    });
    byName.set(m.name, entry);
  }
  const models = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const m of models) m.versions.sort((a, b) => b.version - a.version);
  return { schemaVersion: 1, readOnly, models };
}

/** The promote button: the same core function as `mlpipe models promote NAME@VERSION --alias ALIAS`. */
export async function promoteFromUi(registry: ModelRegistry, name: string, version: number, alias: string): Promise<AliasMove> {
  return promoteModel(registry, { name, selector: { kind: 'version', version }, text: `${name}@${version}` }, alias);
}

/** The rollback button: the same core function as `mlpipe models rollback NAME --alias ALIAS`. */
export async function rollbackFromUi(registry: ModelRegistry, name: string, alias: string): Promise<AliasMove> {
  return rollbackModel(registry, name, alias);
}
