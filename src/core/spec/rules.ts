import { existsSync } from 'node:fs';
import { isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import type { StageKind } from '../stage-kind.js';
import { topoOrder } from '../graph.js';
import { didYouMean } from '../../schema/did-you-mean.js';
import { hasOutputRef } from './interpolate.js';
import type { OutputRef } from './types.js';
import type { PathUse } from '../../schema/validate-fields.js';
import type { PathSegment, Reporter } from '../../schema/yaml-source.js';

/** One stage while the spec loads: what the earlier phases learned about it. */
export interface StageDraft {
  name: string;
  /** Position in the spec, for deterministic orders. */
  index: number;
  kind: StageKind;
  /** Where the stage's config sits in the file: `stages.X.with`, or `stages.X` for `run:` stages. */
  base: PathSegment[];
  /** The folder its relative paths are relative to, relative to the spec folder (`wdir`); `.` by default. */
  wdir: string;
  /** The validated config with defaults; undefined when it did not validate. */
  config?: Record<string, unknown>;
  declaredNeeds: string[];
  /** Output references, at paths relative to `base`. */
  refs: Array<{ ref: OutputRef; path: PathSegment[] }>;
  /** Params the config used: dotted name → value. */
  used: Record<string, unknown>;
  /** Path fields of the config, at paths relative to `base`. */
  paths: PathUse[];
  /** Upstream stage → the file path of the node that made the edge (first one found). */
  upstream: Map<string, PathSegment[]>;
  /** Input paths (workspace-relative POSIX, or absolute) another stage produces; not hashed as inputs. */
  produced: Set<string>;
}

/** What the rules read and write. */
export interface RuleContext {
  /** The spec's folder. */
  dir: string;
  /** The project root: relative paths may leave `dir` but not it. */
  root: string;
  /** Every stage named in the spec, in spec order; `stages` holds those whose kind is known. */
  names: string[];
  /** Templates (`foreach`/`matrix`) by name → the stages they generated. */
  groups: Record<string, string[]>;
  stages: Map<string, StageDraft>;
  reporter: Reporter;
}

/** A named check over the loaded stages; appends to the reporter, may add edges. */
export type Rule = (ctx: RuleContext) => void;

/** A spec path as the workspace sees it. */
export interface WorkspacePath {
  /** POSIX path relative to the spec folder (`../data/x` when it is elsewhere in the project), or the absolute path when it lies outside the project root. */
  key: string;
  absolute: string;
  /** A relative path that leads out of the project root. */
  escapes: boolean;
}

const isOutside = (rel: string) => rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);

/** Where `p` (relative to the spec folder `dir`, or absolute) is; `root` is the project root, at or above `dir`. */
export function workspacePath(dir: string, root: string, p: string): WorkspacePath {
  const absolute = resolve(dir, p);
  const outside = isOutside(relative(root, absolute));
  return {
    key: outside ? absolute.split(sep).join('/') : relative(dir, absolute).split(sep).join('/') || '.',
    absolute,
    escapes: outside && !isAbsolute(p),
  };
}

/** A path as a stage wrote it, made relative to the spec folder: relative paths are relative to the stage's `wdir`. */
export function inWorkdir(wdir: string, p: string): string {
  return isAbsolute(p) || wdir === '.' ? p : posix.join(wdir, p);
}

/** {@link workspacePath} of a path a stage wrote (relative to its `wdir`). */
export function stagePath(ctx: Pick<RuleContext, 'dir' | 'root'>, stage: Pick<StageDraft, 'wdir'>, p: string): WorkspacePath {
  return workspacePath(ctx.dir, ctx.root, inWorkdir(stage.wdir, p));
}

/** The project root as a hint names it, relative to the spec folder. */
function rootNote(ctx: RuleContext): string {
  if (relative(ctx.root, ctx.dir) === '') return 'the spec folder itself (no mlpipe.yaml or .git above it)';
  const why = existsSync(join(ctx.root, 'mlpipe.yaml')) ? 'it holds mlpipe.yaml' : 'the git root';
  return `${relative(ctx.dir, ctx.root).split(sep).join('/')} from the spec folder (${why})`;
}

function isInside(inner: string, outer: string): boolean {
  return inner === outer || outer === '.' || inner.startsWith(`${outer}/`);
}

function addEdge(stage: StageDraft, upstream: string, at: PathSegment[]): void {
  if (!stage.upstream.has(upstream)) stage.upstream.set(upstream, at);
}

/** Every `needs:` entry names a stage of the spec, or a template (then it means all the template's stages). */
export const knownNeeds: Rule = (ctx) => {
  for (const stage of ctx.stages.values()) {
    stage.declaredNeeds.forEach((need, i) => {
      const at = ['stages', stage.name, 'needs', i];
      if (ctx.names.includes(need)) addEdge(stage, need, at);
      else if (ctx.groups[need]) ctx.groups[need].filter((n) => n !== stage.name).forEach((n) => addEdge(stage, n, at));
      else ctx.reporter.error(at, `expected a stage name (${ctx.names.join(', ')}), got "${need}"`, hintFor(need, [...ctx.names, ...Object.keys(ctx.groups)]));
    });
  }
};

/** Every `${stages.X.outputs.Y}` names a stage of the spec and an output that stage's kind declares. */
export const knownOutputs: Rule = (ctx) => {
  for (const stage of ctx.stages.values()) {
    for (const { ref, path } of stage.refs) {
      const at = [...stage.base, ...path];
      const needle = `\${stages.${ref.stage}.outputs.${ref.output}}`;
      if (!ctx.names.includes(ref.stage)) {
        ctx.reporter.error(at, `expected a stage name (${ctx.names.join(', ')}), got "${ref.stage}" in ${needle}`, { needle, ...hintFor(ref.stage, ctx.names) });
        continue;
      }
      addEdge(stage, ref.stage, at);
      const target = ctx.stages.get(ref.stage);
      if (!target?.config) continue;
      const outputs = Object.keys(target.kind.outputs(target.config));
      if (!outputs.includes(ref.output)) {
        const close = hintFor(ref.output, outputs).hint;
        const hint = close ?? (target.kind.kind === 'shell' ? `the outputs of a run: stage are its outs` : `a ${target.kind.kind} stage declares ${outputs.join(', ') || 'no outputs'}`);
        ctx.reporter.error(at, `expected an output of stage "${ref.stage}" (${outputs.join(', ') || 'none'}), got "${ref.output}" in ${needle}`, { needle, hint });
      }
    }
  }
};

/** Relative paths (and a stage's `wdir`) stay inside the project root; an absolute path is taken as meant. */
export const noEscapingPaths: Rule = (ctx) => {
  const hint = `relative paths may reach anywhere inside the project root, here ${rootNote(ctx)}; write an absolute path to use a file outside it on purpose, or put an mlpipe.yaml in a folder above both`;
  for (const stage of ctx.stages.values()) {
    if (stage.wdir !== '.' && workspacePath(ctx.dir, ctx.root, stage.wdir).escapes) {
      ctx.reporter.error([...stage.base, 'wdir'], `expected a folder inside the project root, got "${stage.wdir}"`, { hint });
      continue;
    }
    for (const use of literalPaths(stage)) {
      if (!stagePath(ctx, stage, use.value).escapes) continue;
      const where = stage.wdir === '.' ? '' : ` (relative to wdir ${stage.wdir})`;
      ctx.reporter.error([...stage.base, ...use.path], `expected a path inside the project root, got "${use.value}"${where}`, { hint });
    }
  }
};

/**
 * Outputs are written in the workspace and restored there from the cache: an absolute output path
 * would be silently rebased under the spec folder, so it is refused.
 */
export const outputsInsideWorkspace: Rule = (ctx) => {
  for (const stage of ctx.stages.values()) {
    for (const use of literalPaths(stage)) {
      if (use.mode !== 'output' || !isAbsolute(use.value)) continue;
      ctx.reporter.error([...stage.base, ...use.path], `expected an output path relative to the spec folder, got the absolute path "${use.value}"`, {
        hint: 'outputs are cached and restored inside the workspace; write the path relative to the spec folder and copy the file elsewhere in a later step if you need it there',
      });
    }
  }
};

/** Each input exists on disk, or another stage writes it (which makes that stage upstream of this one). */
export const inputsExistOrAreProduced: Rule = (ctx) => {
  const writers = workspaceOutputs(ctx);
  for (const stage of ctx.stages.values()) {
    for (const use of literalPaths(stage)) {
      if (use.mode !== 'input') continue;
      const p = stagePath(ctx, stage, use.value);
      if (p.escapes) continue;
      const writer = writers.find((w) => w.stage !== stage.name && isInside(p.key, w.key));
      if (writer) {
        addEdge(stage, writer.stage, [...stage.base, ...use.path]);
        stage.produced.add(p.key);
      } else if (!existsSync(p.absolute)) {
        ctx.reporter.error([...stage.base, ...use.path], `expected an existing file or folder, got "${use.value}" (not found at ${p.absolute})`, {
          hint: `create it, correct the path (relative to ${stage.wdir === '.' ? 'the spec folder' : `the stage's wdir ${stage.wdir}`}), or list it in the outs of the stage that writes it`,
        });
      }
    }
  }
};

/** No two stages write the same workspace path, or one inside the other's. */
export const noDuplicateOutputs: Rule = (ctx) => {
  const seen: WorkspaceOutput[] = [];
  for (const out of workspaceOutputs(ctx)) {
    const clash = seen.find((s) => isInside(out.key, s.key) || isInside(s.key, out.key));
    if (clash && (clash.stage !== out.stage || clash.key === out.key)) {
      const who = clash.stage === out.stage ? 'listed twice in this stage' : `also written by stage "${clash.stage}"`;
      ctx.reporter.error(out.at, `expected an output path no other output uses, got "${out.value}" (${who}${clash.key === out.key ? '' : ` as "${clash.value}"`})`, {
        hint: 'give each stage its own output paths; a stage that reads another one\'s output lists it in deps',
      });
    }
    seen.push(out);
  }
};

/** A stage whose kind waits for other kinds (deploy for evaluate) starts after those that do not depend on it. */
export const waitForKinds: Rule = (ctx) => {
  const dependsOn = (stage: StageDraft, target: string, seen = new Set<string>()): boolean =>
    [...stage.upstream.keys()].some((u) => {
      if (u === target) return true;
      const up = ctx.stages.get(u);
      if (!up || seen.has(u)) return false;
      seen.add(u);
      return dependsOn(up, target, seen);
    });
  for (const stage of ctx.stages.values()) {
    const kinds = stage.config && stage.kind.waitsFor ? stage.kind.waitsFor(stage.config) : [];
    if (kinds.length === 0) continue;
    for (const other of ctx.stages.values()) {
      if (other !== stage && kinds.includes(other.kind.kind) && !dependsOn(other, stage.name)) addEdge(stage, other.name, ['stages', stage.name]);
    }
  }
};

/** Each kind's {@link StageKind.checkUpstream}, given the stages whose outputs its config keys name. */
export const upstreamChecks: Rule = (ctx) => {
  for (const stage of ctx.stages.values()) {
    if (!stage.config || !stage.kind.checkUpstream) continue;
    const upstreamOf = (key: string) => {
      const found = stage.refs.find((r) => r.path[0] === key);
      const target = found ? ctx.stages.get(found.ref.stage) : undefined;
      return found && target?.config ? { name: target.name, kind: target.kind.kind, config: target.config, output: found.ref.output } : undefined;
    };
    for (const issue of stage.kind.checkUpstream(stage.config, upstreamOf)) ctx.reporter.error([...stage.base, ...issue.path], issue.message, issue.hint ? { hint: issue.hint } : {});
  }
};

/** The stages and their edges form no cycle. */
export const noCycles: Rule = (ctx) => {
  const edges = new Map([...ctx.stages.values()].map((s) => [s.name, [...s.upstream.keys()]]));
  const result = topoOrder(ctx.names, edges);
  if (result.ok) return;
  const { cycle } = result;
  const first = ctx.stages.get(cycle[0])!;
  const at = first.upstream.get(cycle[cycle.length - 2]) ?? ['stages', first.name];
  ctx.reporter.error(at, `expected stages without a dependency cycle, got ${cycle.join(' → ')}`, {
    side: at.length === 2 ? 'key' : 'value',
    hint: 'a stage cannot use, directly or through other stages, what it produces; remove one of these references or needs entries',
  });
};

/** Every rule, in the order they run. */
export const rules: Rule[] = [knownNeeds, knownOutputs, noEscapingPaths, outputsInsideWorkspace, inputsExistOrAreProduced, noDuplicateOutputs, waitForKinds, upstreamChecks, noCycles];

interface WorkspaceOutput extends WorkspacePath {
  stage: string;
  value: string;
  at: PathSegment[];
}

function literalPaths(stage: StageDraft): PathUse[] {
  return stage.paths.filter((u) => !hasOutputRef(u.value) && !u.value.includes('${'));
}

function workspaceOutputs(ctx: RuleContext): WorkspaceOutput[] {
  const out: WorkspaceOutput[] = [];
  for (const stage of ctx.stages.values()) {
    if (!stage.config) continue;
    const outputUses = literalPaths(stage).filter((u) => u.mode === 'output');
    const keyOf = (u: PathUse) => stagePath(ctx, stage, u.value).key;
    const isMetricsAlsoInOuts = (u: PathUse) => u.path.at(-1) === 'metrics' && outputUses.some((o) => o !== u && keyOf(o) === keyOf(u));
    const uses = outputUses.filter((u) => !isMetricsAlsoInOuts(u));
    const declared = Object.values(stage.kind.outputs(stage.config))
      .filter((o) => o.location === 'workspace')
      .map((o) => workspacePath(ctx.dir, ctx.root, o.path))
      .filter((d) => !uses.some((u) => keyOf(u) === d.key));
    for (const use of uses) {
      const p = stagePath(ctx, stage, use.value);
      if (!p.escapes) out.push({ ...p, stage: stage.name, value: use.value, at: [...stage.base, ...use.path] });
    }
    for (const p of declared) {
      if (!hasOutputRef(p.key) && !p.escapes) out.push({ ...p, stage: stage.name, value: p.key, at: ['stages', stage.name] });
    }
  }
  return out;
}

function hintFor(input: string, candidates: string[]): { hint?: string } {
  const hint = didYouMean(input, candidates);
  return hint ? { hint } : {};
}
