import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, posix, resolve } from 'node:path';
import { topoOrder } from '../graph.js';
import { didYouMean } from '../../schema/did-you-mean.js';
import { hasOutputRef, interpolateParams } from './interpolate.js';
import { MAX_PARAM_BYTES, mergeParams, paramSizeProblem, parseSetItem, setConfigValue, setParam, type OverrideIssue, type SetItem } from './overrides.js';
import { expandTemplates, ITEM_RE, type ExpandedStages } from './templates.js';
import { pipelineField, stageForms, type StageForms } from './pipeline-schema.js';
import type { StageKinds } from '../stage-kind.js';
import { inWorkdir, rules, workspacePath, type RuleContext, type StageDraft } from './rules.js';
import { findProjectRoot } from '../config/find-config.js';
import type { LoadOptions, LoadResult, PipelineSpec, StageSpec } from './types.js';
import type { Diagnostic } from '../../schema/diagnostic.js';
import { isPlainObject, validateField, type FieldIssue, type PathUse } from '../../schema/validate-fields.js';
import { parseYamlFile, Reporter, type PathSegment } from '../../schema/yaml-source.js';
import { textAnchor, type TextAnchor } from './text-anchor.js';

/** Where a stage's config comes from before params are substituted. */
interface RawStage {
  draft: StageDraft;
  config: Record<string, unknown>;
}

/**
 * Loads a pipeline file in named phases, each reporting every problem it finds: (1) read and parse the
 * YAML, (2) check the shape of the top level and each stage, (3) resolve params (spec < `--params` file
 * < `--set`) and apply `--set` stage overrides, (4) substitute `${params.x}` and collect
 * `${stages.X.outputs.Y}` references, (5) validate each stage's config against its kind's schema,
 * defaults applied, (6) run the rules (see rules.ts). Never throws for a user's mistake: the result
 * carries the diagnostics instead.
 */
export async function loadSpec(file: string, opts: LoadOptions): Promise<LoadResult> {
  const absolute = resolve(file);
  const dir = dirname(absolute);
  const root = resolve(opts.root ?? findProjectRoot(dir));
  const bytes = await readSpecBytes(file, absolute);
  if ('diagnostic' in bytes) return { ok: false, diagnostics: [bytes.diagnostic] };

  const parsed = parseYamlFile(file, bytes.data);
  const reporter = parsed.reporter;
  if (reporter.errorCount > 0 || !parsed.source) return { ok: false, diagnostics: sortDiagnostics(reporter.diagnostics, file) };

  const forms = stageForms(opts.kinds);
  const top = checkShape(parsed.value, forms, reporter);
  if (!top) return { ok: false, diagnostics: sortDiagnostics(reporter.diagnostics, file) };

  const params = structuredClone(isPlainObject(top.params) ? top.params : {});
  checkParamSizes(params, (name, problem) => reporter.error(['params', name], problem.message, { hint: problem.hint }));
  const stageSets = await applyParamOverrides(params, opts, reporter);
  const expanded = expandTemplates(top.stages, params, reporter, opts.kinds);
  checkGeneratedStages(expanded, forms, reporter);
  const names = Object.keys(expanded.stages);
  const raws = draftStages(expanded.stages, opts.kinds, forms, reporter);
  for (const item of stageSets) {
    const issue = applyStageSetItem(item, raws, names, reporter);
    if (issue) reporter.plain(`--set ${item.key.join('.')}`, issue.message, issue.hint);
  }

  const used = new Set<string>(expanded.usedParams);
  for (const raw of raws.values()) resolveStage(raw, params, reporter, used);

  const ctx: RuleContext = { dir, root, names, groups: expanded.groups, stages: new Map([...raws].map(([name, raw]) => [name, raw.draft])), reporter };
  for (const rule of rules) rule(ctx);
  if (reporter.errorCount > 0) return { ok: false, diagnostics: sortDiagnostics(reporter.diagnostics, file) };
  warnUnusedParams(top.params, used, reporter);

  const stages = Object.fromEntries([...raws.values()].map(({ draft }) => [draft.name, toStageSpec(draft, expanded.stages[draft.name], names, ctx, reporter)]));
  const order = topoOrder(names, new Map(Object.values(stages).map((s) => [s.name, s.needs])));
  const spec: PipelineSpec = {
    name: typeof top.name === 'string' ? top.name : basename(dir),
    file: absolute,
    dir,
    root,
    params,
    stages,
    order: order.ok ? order.order : names,
    specHash: createHash('sha256').update(bytes.data).digest('hex'),
    kinds: opts.kinds,
    groups: expanded.groups,
  };
  return { ok: true, spec, warnings: sortDiagnostics(reporter.diagnostics, file) };
}

/** Errors before warnings; within each, the spec file before a params file, then by position (those without one first). */
function sortDiagnostics(diagnostics: Diagnostic[], specFile?: string): Diagnostic[] {
  const files = [...new Set([specFile, ...diagnostics.map((d) => d.file)])];
  const rank = (d: Diagnostic): number[] => [d.severity === 'error' ? 0 : 1, files.indexOf(d.file), d.pos?.line ?? 0, d.pos?.col ?? 0];
  return [...diagnostics].sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    const i = ra.findIndex((v, k) => v !== rb[k]);
    return i < 0 ? 0 : ra[i] - rb[i];
  });
}

async function readSpecBytes(file: string, absolute: string): Promise<{ data: Buffer } | { diagnostic: Diagnostic }> {
  try {
    return { data: await readFile(absolute) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const siblings = await readdir(dirname(absolute)).catch(() => [] as string[]);
      const close = didYouMean(basename(absolute), siblings);
      return {
        diagnostic: { severity: 'error', path: '', file, message: 'expected a pipeline file, found none at this path', hint: close ?? 'check the path; pipeline files are usually named pipeline.yaml' },
      };
    }
    if (code === 'EISDIR') {
      return { diagnostic: { severity: 'error', path: '', file, message: `expected a pipeline file, got a folder`, hint: `pass the file itself, e.g. ${file.replace(/\/$/, '')}/pipeline.yaml` } };
    }
    return { diagnostic: { severity: 'error', path: '', file, message: `cannot read the spec: ${(err as Error).message}` } };
  }
}

interface TopLevel {
  name?: unknown;
  params?: unknown;
  stages: Record<string, unknown>;
}

function checkShape(value: unknown, forms: StageForms, reporter: Reporter): TopLevel | undefined {
  if (!isPlainObject(value)) {
    const got = value === null || value === undefined ? 'nothing (the file is empty)' : Array.isArray(value) ? 'a list' : JSON.stringify(value);
    reporter.error([], `expected a mapping with "name", "params" and "stages", got ${got}`, { hint: 'start from the example in README.md: a name, params and stages' });
    return undefined;
  }
  const issues: FieldIssue[] = [];
  validateField(value, pipelineField(forms.written), issues);
  report(reporter, [], issues);
  if (!isPlainObject(value.stages)) return undefined;
  if (Object.keys(value.stages).length === 0) {
    reporter.error(['stages'], 'expected at least one stage, got none', { hint: 'add a stage with "uses: KIND" or "run: COMMAND"' });
    return undefined;
  }
  return value as unknown as TopLevel;
}

function checkParamSizes(params: Record<string, unknown>, onProblem: (name: string, problem: { message: string; hint: string }) => void): void {
  for (const [name, value] of Object.entries(params)) {
    const problem = paramSizeProblem(value);
    if (problem) onProblem(name, problem);
  }
}

function report(reporter: Reporter, base: PathSegment[], issues: FieldIssue[]): void {
  for (const issue of issues) {
    reporter.error([...base, ...issue.path], issue.message, { side: issue.side, ...(issue.hint ? { hint: issue.hint } : {}) });
  }
}

function draftStages(stages: Record<string, unknown>, registry: StageKinds, forms: StageForms, reporter: Reporter): Map<string, RawStage> {
  const out = new Map<string, RawStage>();
  const kinds = usableKindNames(registry);
  const SHELL_KEYS = forms.shellKeys;
  Object.entries(stages).forEach(([name, value], index) => {
    const at: PathSegment[] = ['stages', name];
    if (!isPlainObject(value)) return;
    const hasUses = Object.hasOwn(value, 'uses');
    const hasRun = Object.hasOwn(value, 'run');
    if (hasUses && hasRun) {
      reporter.error(at, 'expected either "uses" or "run", got both', {
        side: 'key',
        hint: 'a stage either uses a built-in kind (uses + with) or runs a shell command (run + deps/outs); split it into two stages',
      });
      return;
    }
    if (!hasUses && !hasRun) {
      reporter.error(at, 'expected "uses" (a built-in kind) or "run" (a shell command), got neither', {
        side: 'key',
        hint: `add "uses: KIND" (${kinds.join(', ') || 'no kinds registered'}) or "run: COMMAND"`,
      });
      return;
    }
    const misplaced = hasUses ? SHELL_KEYS.filter((k) => Object.hasOwn(value, k)) : Object.hasOwn(value, 'with') ? ['with'] : [];
    for (const key of misplaced) {
      const allowed = Object.keys((hasUses ? forms.uses : forms.run).properties).join(', ');
      reporter.error([...at, key], `expected a key of a "${hasUses ? 'uses' : 'run'}:" stage (${allowed}), got "${key}"`, {
        side: 'key',
        hint: hasUses
          ? `"${key}" belongs to run: stages; a "uses: ${String(value.uses)}" stage takes its settings under "with:"`
          : `a run: stage takes ${SHELL_KEYS.join(', ')} directly, without "with:"`,
      });
    }
    const kind = hasUses ? (typeof value.uses === 'string' && kinds.includes(value.uses) ? registry.get(value.uses) : undefined) : registry.get('shell');
    if (!kind) {
      if (typeof value.uses === 'string') {
        const close = didYouMean(value.uses, kinds);
        reporter.error([...at, 'uses'], `expected a known stage kind (${kinds.join(', ') || 'none registered'}), got "${value.uses}"`, {
          hint: value.uses === 'shell' ? 'write shell stages with "run: COMMAND" instead of "uses:"' : (close ?? 'a new kind is added as a file in src/stages/ and listed in src/stages/index.ts'),
        });
      }
      return;
    }
    const rawWith = value.with ?? {};
    if (misplaced.length > 0 || (hasUses && !isPlainObject(rawWith))) return;
    const config = hasUses ? structuredClone(rawWith as Record<string, unknown>) : Object.fromEntries(SHELL_KEYS.filter((k) => Object.hasOwn(value, k)).map((k) => [k, structuredClone(value[k])]));
    const needs = Array.isArray(value.needs) ? value.needs.filter((n): n is string => typeof n === 'string') : [];
    out.set(name, {
      config,
      draft: { name, index, kind, base: hasUses ? [...at, 'with'] : at, wdir: '.', declaredNeeds: needs, refs: [], paths: [], used: {}, upstream: new Map(), produced: new Set() },
    });
  });
  return out;
}

/** Applies `--params FILE` and `--set params.…` (templates may use params); returns the `--set STAGE.…` items for later. */
async function applyParamOverrides(params: Record<string, unknown>, opts: LoadOptions, reporter: Reporter): Promise<SetItem[]> {
  if (opts.paramsFile !== undefined) await mergeParamsFile(params, opts.paramsFile, reporter);
  const stageItems: SetItem[] = [];
  for (const text of opts.set ?? []) {
    const item = parseSetItem(text);
    const label = `--set ${item.key.join('.')}`;
    if ('message' in item) {
      reporter.plain(label, item.message, item.hint);
      continue;
    }
    const [head, ...rest] = item.key;
    if (head !== 'params') {
      stageItems.push(item);
      continue;
    }
    const issue = rest.length === 0 ? { key: item.key, message: `expected params.NAME=VALUE, got "${item.text}"`, hint: 'e.g. --set params.lr=0.01' } : setParam(params, rest, item.value);
    if (issue) reporter.plain(label, issue.message, issue.hint);
  }
  return stageItems;
}

/** The stage a `--set` key starts with: the longest run of its segments that names a stage (generated names may hold dots). */
function stageOfKey(key: string[], names: string[]): number {
  for (let n = key.length; n >= 1; n--) if (names.includes(key.slice(0, n).join('.'))) return n;
  return 0;
}

function applyStageSetItem(item: SetItem, raws: Map<string, RawStage>, names: string[], reporter: Reporter): OverrideIssue | undefined {
  const label = `--set ${item.key.join('.')}`;
  const length = stageOfKey(item.key, names);
  const head = length === 0 ? item.key[0] : item.key.slice(0, length).join('.');
  const rest = item.key.slice(Math.max(length, 1));
  if (length === 0) {
    const close = didYouMean(head, names);
    return {
      key: item.key,
      message: `expected "params" or a stage name (${names.join(', ')}), got "${head}"`,
      hint: close ?? 'write --set params.NAME=VALUE or --set STAGE.KEY=VALUE (a key of the stage\'s with: block, or of a run: stage)',
    };
  }
  const raw = raws.get(head);
  if (!raw) return undefined;
  if (rest.length === 0) return { key: item.key, message: `expected ${head}.KEY=VALUE, got "${item.text}"`, hint: `e.g. --set ${head}.KEY=VALUE for a key of its settings` };
  const issue = setConfigValue(raw.config, rest, item.value);
  if (!issue) reporter.markOverride([...raw.draft.base, ...rest], label);
  return issue;
}

/** Stages a template generated have the shape of a stage, and are not templates themselves. */
function checkGeneratedStages(expanded: ExpandedStages, forms: StageForms, reporter: Reporter): void {
  for (const name of Object.values(expanded.groups).flat()) {
    const value = expanded.stages[name];
    const at: PathSegment[] = ['stages', name];
    if (!isPlainObject(value)) continue;
    for (const key of ['foreach', 'do', 'matrix'].filter((k) => Object.hasOwn(value, k))) {
      reporter.error([...at, key], `expected a stage inside a template, got another template ("${key}")`, { side: 'key', hint: 'templates do not nest: use one matrix with several lists instead' });
      delete value[key];
    }
    const issues: FieldIssue[] = [];
    validateField(value, forms.shape, issues);
    report(reporter, at, issues);
  }
}

/** A params file is read whole and parsed as YAML; params are small (see MAX_PARAM_BYTES). */
const MAX_PARAMS_FILE_BYTES = 1024 * 1024;

async function mergeParamsFile(params: Record<string, unknown>, file: string, reporter: Reporter): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = await readFile(resolve(file));
  } catch (err) {
    reporter.diagnostics.push({ severity: 'error', path: '--params', file, message: `expected a readable params file, got ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'nothing at that path' : (err as Error).message}` });
    return;
  }
  if (bytes.length > MAX_PARAMS_FILE_BYTES) {
    reporter.diagnostics.push({
      severity: 'error',
      path: '--params',
      file,
      message: `expected a params file of at most ${MAX_PARAMS_FILE_BYTES / 1024 / 1024} MiB, got ${(bytes.length / 1024 / 1024).toFixed(1)} MiB`,
      hint: `a param holds at most ${MAX_PARAM_BYTES / 1024} KiB: write large values to a file and pass its path as the param`,
    });
    return;
  }
  const parsed = parseYamlFile(file, bytes);
  reporter.diagnostics.push(...parsed.reporter.diagnostics);
  if (parsed.reporter.errorCount > 0) return;
  if (!isPlainObject(parsed.value)) {
    parsed.reporter.diagnostics.length = 0;
    parsed.reporter.error([], `expected a mapping of param names to values, got ${Array.isArray(parsed.value) ? 'a list' : 'a scalar or nothing'}`);
    reporter.diagnostics.push(...parsed.reporter.diagnostics);
    return;
  }
  const issues: OverrideIssue[] = [];
  checkParamSizes(parsed.value, (name, problem) => issues.push({ key: [name], ...problem }));
  if (issues.length === 0) mergeParams(params, parsed.value, issues);
  const fileReporter = new Reporter(file, parsed.source);
  for (const issue of issues) fileReporter.error(issue.key, issue.message, { side: 'key', ...(issue.hint ? { hint: issue.hint } : {}) });
  reporter.diagnostics.push(...fileReporter.diagnostics);
}

function resolveStage(raw: RawStage, params: Record<string, unknown>, reporter: Reporter, used: Set<string>): void {
  const { draft } = raw;
  const interpolated = interpolateParams(raw.config, params, [], { commands: new Set(draft.kind.commands ?? []), sql: new Set(draft.kind.sql ?? []) });
  const generated = draft.name.includes('@');
  for (const issue of interpolated.issues) {
    if (generated && new RegExp(ITEM_RE.source).test(issue.placeholder)) continue;
    reporter.error([...draft.base, ...issue.path], issue.message, { needle: issue.placeholder, ...(issue.hint ? { hint: issue.hint } : {}) });
  }
  [...Object.keys(interpolated.used), ...interpolated.mentioned].forEach((name) => used.add(name.split('.')[0]));
  draft.refs = interpolated.refs;
  const value = draft.kind.kind === 'shell' ? envAsStrings(interpolated.value) : interpolated.value;
  const issues: FieldIssue[] = [];
  const paths: PathUse[] = [];
  const config = validateField(value, draft.kind.config, issues, {
    isDeferred: hasOutputRef,
    isReported: (s) => interpolated.reported.has(s),
    onPath: (use) => paths.push(use),
  });
  report(reporter, draft.base, issues);
  if (issues.length === 0 && draft.kind.check) {
    for (const issue of draft.kind.check(config)) reporter.error([...draft.base, ...issue.path], issue.message, issue.hint ? { hint: issue.hint } : {});
  }
  draft.paths = paths;
  if (issues.length === 0 && interpolated.issues.length === 0) {
    draft.config = config as Record<string, unknown>;
    const wdir = draft.kind.workdir?.(draft.config);
    draft.wdir = wdir === undefined || posix.isAbsolute(wdir) ? '.' : posix.normalize(wdir).replace(/\/$/, '') || '.';
  }
  draft.used = interpolated.used;
}

function envAsStrings(config: unknown): unknown {
  if (!isPlainObject(config) || !isPlainObject(config.env)) return config;
  const env = Object.fromEntries(Object.entries(config.env).map(([k, v]) => [k, typeof v === 'number' || typeof v === 'boolean' ? String(v) : v]));
  return { ...config, env };
}

function warnUnusedParams(declared: unknown, used: Set<string>, reporter: Reporter): void {
  if (!isPlainObject(declared)) return;
  for (const name of Object.keys(declared)) {
    if (!used.has(name)) reporter.warning(['params', name], `param "${name}" is not used by any stage`, { side: 'key', hint: `use it as \${params.${name}} in a stage, or remove it` });
  }
}

function toStageSpec(draft: StageDraft, raw: unknown, names: string[], ctx: RuleContext, reporter: Reporter): StageSpec {
  const stage = raw as Record<string, unknown>;
  const seen = new Set<string>();
  const refs = draft.refs.map((r) => r.ref).filter((r) => !seen.has(`${r.stage}\0${r.output}`) && seen.add(`${r.stage}\0${r.output}`));
  const inputs = draft.paths
    .filter((u) => u.mode === 'input' && !u.value.includes('${'))
    .map((u) => workspacePath(ctx.dir, ctx.root, inWorkdir(draft.wdir, u.value)).key)
    .filter((key) => !draft.produced.has(key));
  return {
    name: draft.name,
    kind: draft.kind.kind,
    impl: draft.kind,
    config: draft.config!,
    needs: names.filter((n) => draft.upstream.has(n)),
    refs,
    inputs: [...new Set(inputs)].sort(),
    params: draft.used,
    cache: stage.cache !== false && draft.kind.cache !== false,
    frozen: stage.frozen === true,
    retries: typeof stage.retries === 'number' ? stage.retries : 0,
    labels: labelsOf(stage.resources),
    pos: reporter.posOf(['stages', draft.name], 'key')!,
    ...anchorsOf(draft, reporter),
  };
}

function anchorsOf(draft: StageDraft, reporter: Reporter): { anchors?: Record<string, TextAnchor> } {
  const anchors: Record<string, TextAnchor> = {};
  for (const key of draft.kind.sql ?? []) {
    const pos = reporter.posOf([...draft.base, key]);
    const anchor = pos && reporter.source && textAnchor(reporter.source.lines, pos);
    if (anchor) anchors[key] = anchor;
  }
  return Object.keys(anchors).length ? { anchors } : {};
}

function labelsOf(resources: unknown): string[] {
  const labels = isPlainObject(resources) && Array.isArray(resources.labels) ? resources.labels : [];
  return [...new Set(labels.filter((l): l is string => typeof l === 'string'))].sort();
}

/** Kinds a user may name in `uses:` (shell stages are written with `run:`). */
export function usableKindNames(kinds: StageKinds): string[] {
  return [...kinds.keys()].filter((k) => k !== 'shell').sort();
}
