import { didYouMean } from '../schema/did-you-mean.js';

/** The part of a loaded pipeline the graph functions read: stages with their direct upstream stages, in spec or topological order. */
export interface DagSpec {
  order: string[];
  stages: Record<string, { needs: string[]; kind?: string }>;
}

/** A topological order, or a cycle as a closed path in data-flow direction: `['train', 'evaluate', 'train']`. */
export type TopoResult = { ok: true; order: string[] } | { ok: false; cycle: string[] };

/** A stage name that the pipeline does not have (e.g. from `--stage`). */
export class UnknownStageError extends Error {
  constructor(
    readonly stage: string,
    readonly known: string[],
  ) {
    const hint = didYouMean(stage, known);
    super(`unknown stage "${stage}" (stages: ${known.join(', ')})${hint ? `; ${hint}` : ''}`);
    this.name = 'UnknownStageError';
  }
}

/**
 * Orders `nodes` so each comes after the nodes it depends on. `edges` maps a node to its dependencies;
 * dependencies that are not in `nodes` are ignored. Among nodes ready at the same time, the one earlier
 * in `nodes` comes first, so the order is deterministic. A cycle is returned starting at its earliest node.
 */
export function topoOrder(nodes: string[], edges: Map<string, string[]>): TopoResult {
  const index = new Map(nodes.map((n, i) => [n, i]));
  const deps = new Map(nodes.map((n) => [n, [...new Set((edges.get(n) ?? []).filter((d) => index.has(d)))]]));
  const dependents = new Map<string, string[]>(nodes.map((n) => [n, []]));
  const waiting = new Map<string, number>();
  for (const n of nodes) {
    waiting.set(n, deps.get(n)!.length);
    for (const d of deps.get(n)!) dependents.get(d)!.push(n);
  }
  const ready = nodes.filter((n) => waiting.get(n) === 0);
  const order: string[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => index.get(a)! - index.get(b)!);
    const next = ready.shift()!;
    order.push(next);
    for (const m of dependents.get(next)!) {
      const left = waiting.get(m)! - 1;
      waiting.set(m, left);
      if (left === 0) ready.push(m);
    }
  }
  if (order.length === nodes.length) return { ok: true, order };
  const done = new Set(order);
  return { ok: false, cycle: findCycle(nodes.filter((n) => !done.has(n)), deps, index) };
}

function findCycle(remaining: string[], deps: Map<string, string[]>, index: Map<string, number>): string[] {
  const left = new Set(remaining);
  const path: string[] = [];
  const onPath = new Map<string, number>();
  let node = remaining[0];
  while (!onPath.has(node)) {
    onPath.set(node, path.length);
    path.push(node);
    node = deps.get(node)!.filter((d) => left.has(d)).sort((a, b) => index.get(a)! - index.get(b)!)[0];
  }
  const loop = path.slice(onPath.get(node)!).reverse();
  const start = loop.reduce((best, n, i) => (index.get(n)! < index.get(loop[best])! ? i : best), 0);
  const rotated = [...loop.slice(start), ...loop.slice(0, start)];
  return [...rotated, rotated[0]];
}

function checkStage(spec: DagSpec, stage: string): void {
  if (!(stage in spec.stages)) throw new UnknownStageError(stage, spec.order);
}

function byOrder(spec: DagSpec, set: Set<string>): string[] {
  return spec.order.filter((s) => set.has(s));
}

function closure(spec: DagSpec, start: string[], next: (s: string) => string[]): Set<string> {
  const seen = new Set<string>();
  const stack = start.flatMap(next);
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    stack.push(...next(s));
  }
  return seen;
}

function dependentsOf(spec: DagSpec): Map<string, string[]> {
  const out = new Map<string, string[]>(spec.order.map((s) => [s, []]));
  for (const s of spec.order) for (const d of spec.stages[s].needs) out.get(d)?.push(s);
  return out;
}

/** Every stage `stage` needs, directly or not, in the spec's order. */
export function ancestors(spec: DagSpec, stage: string): string[] {
  checkStage(spec, stage);
  return byOrder(spec, closure(spec, [stage], (s) => spec.stages[s]?.needs ?? []));
}

/** Every stage that needs `stage`, directly or not, in the spec's order. */
export function descendants(spec: DagSpec, stage: string): string[] {
  checkStage(spec, stage);
  const down = dependentsOf(spec);
  return byOrder(spec, closure(spec, [stage], (s) => down.get(s) ?? []));
}

/** The given stages plus everything they need, in the spec's order (what `run --stage X` runs). */
export function subgraphFor(spec: DagSpec, stages: string[]): string[] {
  stages.forEach((s) => checkStage(spec, s));
  const all = closure(spec, stages, (s) => spec.stages[s]?.needs ?? []);
  stages.forEach((s) => all.add(s));
  return byOrder(spec, all);
}

function label(spec: DagSpec, stage: string): string {
  const kind = spec.stages[stage].kind;
  return kind === undefined ? stage : `${stage} (${kind})`;
}

/**
 * The graph as an indented tree from the stages that need nothing. A stage with several upstream stages
 * appears under each; its own subtree is drawn the first time only, later as `… (see above)`.
 */
export function renderDagText(spec: DagSpec): string {
  const down = dependentsOf(spec);
  const expanded = new Set<string>();
  const lines: string[] = [];
  const draw = (stage: string, prefix: string, branch: string): void => {
    const children = down.get(stage) ?? [];
    const repeat = expanded.has(stage) && children.length > 0;
    lines.push(`${prefix}${branch}${label(spec, stage)}${repeat ? ' (see above)' : ''}`);
    if (repeat) return;
    expanded.add(stage);
    const childPrefix = prefix + (branch === '' ? '' : branch === '└── ' ? '    ' : '│   ');
    children.forEach((c, i) => draw(c, childPrefix, i === children.length - 1 ? '└── ' : '├── '));
  };
  for (const root of spec.order.filter((s) => spec.stages[s].needs.length === 0)) draw(root, '', '');
  return `${lines.join('\n')}\n`;
}

/** A Mermaid flowchart, edges from upstream to downstream stage. */
export function renderMermaid(spec: DagSpec): string {
  const id = new Map(spec.order.map((s, i) => [s, `s${i}`]));
  const lines = ['flowchart TD'];
  for (const s of spec.order) lines.push(`  ${id.get(s)}["${label(spec, s).replace(/"/g, '#quot;')}"]`);
  for (const s of spec.order) for (const d of spec.stages[s].needs) if (id.has(d)) lines.push(`  ${id.get(d)} --> ${id.get(s)}`);
  return `${lines.join('\n')}\n`;
}

/** A Graphviz DOT digraph, edges from upstream to downstream stage. */
export function renderDot(spec: DagSpec): string {
  const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const lines = ['digraph pipeline {', '  rankdir=LR;', '  node [shape=box];'];
  for (const s of spec.order) lines.push(`  ${quote(s)} [label=${quote(label(spec, s))}];`);
  for (const s of spec.order) for (const d of spec.stages[s].needs) if (d in spec.stages) lines.push(`  ${quote(d)} -> ${quote(s)};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
