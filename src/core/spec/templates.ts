import { isPlainObject } from '../../schema/validate-fields.js';
import type { PathSegment, Reporter } from '../../schema/yaml-source.js';
import { formatInto, mapCommands } from './interpolate.js';
import { spliceIntoCommand } from './shell-quote.js';
import { spliceIntoSql } from './sql-quote.js';
import type { StageKinds } from '../stage-kind.js';

/** What a generated stage's `@` suffix may hold: it names a run folder and is typed in `--stage`. */
const SUFFIX_RE = /^[A-Za-z0-9_.+=,-]+$/;
/** `${item}`, `${item.a.b}` or `${key}`: a template's placeholders. */
export const ITEM_RE = /\$\{\s*(item(?:\.[^{}\s]+)?|key)\s*\}/g;
const PARAM_ONLY_RE = /^\$\{\s*params\.([^{}\s]+)\s*\}$/;

/** The stages of a spec with `foreach` / `matrix` templates expanded. */
export interface ExpandedStages {
  /** Stage name → raw stage (templates replaced by their generated stages, in spec order). */
  stages: Record<string, unknown>;
  /** Template name → the names of the stages it generated (`train` → `train@a`, `train@b`). */
  groups: Record<string, string[]>;
  /** Param names a `foreach: ${params.x}` or `matrix` list used. */
  usedParams: string[];
}

/**
 * Expands DVC-style stage templates. `foreach` + `do` makes one stage per item of a list (named
 * `NAME@VALUE` for scalars, `NAME@INDEX` otherwise) or of a mapping (`NAME@KEY`); `matrix` makes one
 * stage per combination of its lists (`NAME@V1-V2`, a non-scalar value as `KEYINDEX`). Inside the
 * template, `${item}` / `${item.a.b}` is the item and `${key}` the part after `@`; a placeholder
 * that is the whole string keeps the item's type. The lists may be `${params.x}`. Generated stages
 * are reported at their template's nodes (`reporter.mapPath`).
 */
export function expandTemplates(stages: Record<string, unknown>, params: Record<string, unknown>, reporter: Reporter, kinds?: StageKinds): ExpandedStages {
  const out: ExpandedStages = { stages: {}, groups: {}, usedParams: [] };
  const taken = new Set(Object.keys(stages));
  for (const [name, value] of Object.entries(stages)) {
    const at: PathSegment[] = ['stages', name];
    if (!isPlainObject(value) || (!Object.hasOwn(value, 'foreach') && !Object.hasOwn(value, 'matrix'))) {
      out.stages[name] = value;
      continue;
    }
    const instances = Object.hasOwn(value, 'foreach') ? foreachInstances(value, at, params, reporter, out) : matrixInstances(value, at, params, reporter, out);
    if (!instances) continue;
    if (instances.length === 0) {
      reporter.error([...at, Object.hasOwn(value, 'foreach') ? 'foreach' : 'matrix'], 'expected at least one item to make stages from, got none', {
        hint: 'list the values to make a stage for each, e.g. foreach: [small, large]',
      });
      continue;
    }
    const names: string[] = [];
    for (const instance of instances) {
      const generated = `${name}@${instance.suffix}`;
      if (!SUFFIX_RE.test(instance.suffix)) {
        reporter.error(instance.at, `expected item values usable in a stage name (letters, digits, _ . + = , -), got "${instance.suffix}"`, {
          hint: 'write the items as a mapping: its keys name the stages (NAME@KEY) and ${item} is the value',
        });
        continue;
      }
      if (taken.has(generated) || names.includes(generated)) {
        reporter.error(instance.at, `expected each generated stage name once, got "${generated}" twice`, { hint: 'give each item a distinct value, or use a mapping with distinct keys' });
        continue;
      }
      reporter.mapPath(['stages', generated], instance.bodyAt, ['stages', `${name}@*`]);
      const body = substituteStage(instance.body, { item: instance.item, key: instance.key }, kinds, (path, placeholder, message, hint) =>
        reporter.error(['stages', generated, ...path], message, { needle: placeholder, ...(hint ? { hint } : {}) }),
      );
      names.push(generated);
      taken.add(generated);
      out.stages[generated] = body;
    }
    out.groups[name] = names;
  }
  return out;
}

interface Instance {
  suffix: string;
  key: unknown;
  item: unknown;
  body: Record<string, unknown>;
  /** Where the body sits in the file (a generated stage's paths are reported below it). */
  bodyAt: PathSegment[];
  /** The node that made this instance (for name problems). */
  at: PathSegment[];
}

function foreachInstances(value: Record<string, unknown>, at: PathSegment[], params: Record<string, unknown>, reporter: Reporter, out: ExpandedStages): Instance[] | undefined {
  const extra = Object.keys(value).filter((k) => k !== 'foreach' && k !== 'do');
  for (const k of extra) {
    reporter.error([...at, k], `expected only "foreach" and "do" in a foreach stage, got "${k}"`, { side: 'key', hint: `move "${k}" into the "do:" block, which is the stage made for each item` });
  }
  if (!isPlainObject(value.do)) {
    reporter.error(Object.hasOwn(value, 'do') ? [...at, 'do'] : at, 'expected "do:" with the stage to make for each item', {
      side: Object.hasOwn(value, 'do') ? 'value' : 'key',
      hint: 'e.g. do: { run: "python train.py ${item}", outs: ["model-${item}.pkl"] }',
    });
    return undefined;
  }
  if (extra.length > 0) return undefined;
  const items = listOrParam(value.foreach, [...at, 'foreach'], params, reporter, out, true);
  if (items === undefined) return undefined;
  const body = value.do;
  const bodyAt = [...at, 'do'];
  if (Array.isArray(items)) {
    return items.map((item, i) => ({ suffix: isScalar(item) ? String(item) : String(i), key: i, item, body, bodyAt, at: [...at, 'foreach', i] }));
  }
  return Object.entries(items).map(([key, item]) => ({ suffix: key, key, item, body, bodyAt, at: [...at, 'foreach', key] }));
}

function matrixInstances(value: Record<string, unknown>, at: PathSegment[], params: Record<string, unknown>, reporter: Reporter, out: ExpandedStages): Instance[] | undefined {
  const matrix = value.matrix;
  if (!isPlainObject(matrix) || Object.keys(matrix).length === 0) {
    reporter.error([...at, 'matrix'], 'expected a mapping of names to lists of values, e.g. matrix: { model: [cnn, mlp], lr: [0.1, 0.01] }');
    return undefined;
  }
  const axes: Array<[string, unknown[]]> = [];
  for (const [k, v] of Object.entries(matrix)) {
    const values = listOrParam(v, [...at, 'matrix', k], params, reporter, out, false);
    if (values === undefined) return undefined;
    axes.push([k, values as unknown[]]);
  }
  const { matrix: _matrix, ...body } = value;
  let combos: Array<Array<[string, unknown, number]>> = [[]];
  for (const [k, values] of axes) combos = combos.flatMap((c) => values.map((v, i): Array<[string, unknown, number]> => [...c, [k, v, i]]));
  return combos.map((combo) => {
    const suffix = combo.map(([k, v, i]) => (isScalar(v) ? String(v) : `${k}${i}`)).join('-');
    return { suffix, key: suffix, item: Object.fromEntries(combo.map(([k, v]) => [k, v])), body, bodyAt: at, at: [...at, 'matrix'] };
  });
}

/** A literal list (or mapping, when allowed), or `${params.x}` naming one. */
function listOrParam(
  value: unknown,
  at: PathSegment[],
  params: Record<string, unknown>,
  reporter: Reporter,
  out: ExpandedStages,
  mappingAllowed: boolean,
): unknown[] | Record<string, unknown> | undefined {
  let resolved = value;
  let from = '';
  if (typeof value === 'string') {
    const m = PARAM_ONLY_RE.exec(value);
    if (!m) {
      reporter.error(at, `expected a list${mappingAllowed ? ', a mapping' : ''} or \${params.NAME}, got "${value}"`, { hint: 'e.g. [small, large], or ${params.sizes} with sizes declared under params:' });
      return undefined;
    }
    const found = lookup(params, m[1].split('.'));
    if (!found.ok) {
      reporter.error(at, `expected a declared param, got \${params.${m[1]}}`, { hint: 'declare it under "params:" at the top of the spec' });
      return undefined;
    }
    out.usedParams.push(m[1].split('.')[0]);
    resolved = found.value;
    from = ` in \${params.${m[1]}}`;
  }
  if (Array.isArray(resolved) || (mappingAllowed && isPlainObject(resolved))) return resolved;
  if (!from) return undefined; // a literal of the wrong type: the shape check (pipeline-schema.ts) reported it
  const got = resolved === null || resolved === undefined ? 'nothing' : isPlainObject(resolved) ? 'a mapping' : JSON.stringify(resolved);
  reporter.error(at, `expected a list${mappingAllowed ? ' or a mapping' : ''} of values, got ${got}${from}`, { hint: 'e.g. [small, large]' });
  return undefined;
}

type Report = (path: PathSegment[], placeholder: string, message: string, hint?: string) => void;

type Vars = { item: unknown; key: unknown };

/**
 * One generated stage's body with `${item…}` and `${key}` replaced, through the same seams as params
 * (interpolate.ts): in the kind's command keys (a `run:` stage's `run`, each line of a list) a value is
 * quoted for the shell spot it lands in, in its SQL keys (a sql stage's `with.query`) it lands as a SQL
 * literal; everywhere else it is text. The kind is the `uses:` one, or `shell` for a `run:` stage.
 */
function substituteStage(body: Record<string, unknown>, vars: Vars, kinds: StageKinds | undefined, report: Report): Record<string, unknown> {
  const usesKind = Object.hasOwn(body, 'uses');
  const kind = kinds?.get(usesKind ? (typeof body.uses === 'string' ? body.uses : '') : 'shell');
  const commands = new Set(kind?.commands ?? (usesKind ? [] : ['run']));
  const sql = new Set(kind?.sql ?? []);
  const config = (obj: Record<string, unknown>, base: PathSegment[]) =>
    Object.fromEntries(
      Object.entries(obj).map(([k, v]) => [
        k,
        commands.has(k)
          ? mapCommands(v, (line, i) => substituteInCommand(line, vars, i === undefined ? [...base, k] : [...base, k, i], report), (o) => substituteItem(o, vars, [...base, k], report))
          : sql.has(k) && typeof v === 'string'
            ? substituteInSql(v, vars, [...base, k], report)
            : substituteItem(v, vars, [...base, k], report),
      ]),
    );
  if (!usesKind) return config(body, []);
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, k === 'with' && isPlainObject(v) ? config(v, ['with']) : substituteItem(v, vars, [k], report)]));
}

/** Replaces `${item…}` and `${key}` inside every string of `value` (deep; keys are left alone), as text. */
export function substituteItem(value: unknown, vars: Vars, path: PathSegment[], report: Report): unknown {
  if (typeof value === 'string') return substituteString(value, vars, path, report);
  if (Array.isArray(value)) return value.map((v, i) => substituteItem(v, vars, [...path, i], report));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteItem(v, vars, [...path, k], report)]));
  return value;
}

function substituteString(s: string, vars: { item: unknown; key: unknown }, path: PathSegment[], report: Report): unknown {
  const matches = [...s.matchAll(ITEM_RE)];
  if (matches.length === 0) return s;
  const values = matches.map(([placeholder, expr]) => itemValue(placeholder, expr, vars, path, report));
  if (values.some((v) => !v.ok)) return s;
  if (matches.length === 1 && matches[0][0] === s) return structuredClone((values[0] as { value: unknown }).value);
  let i = 0;
  return s.replace(ITEM_RE, () => formatInto((values[i++] as { value: unknown }).value));
}

function substituteInCommand(command: string, vars: { item: unknown; key: unknown }, at: PathSegment[], report: Report): string {
  const spliced = spliceIntoCommand(command, ITEM_RE, ([placeholder, expr]) => {
    const found = spliceableItem(placeholder, expr, vars, at, report);
    return found.ok ? { quote: formatInto(found.value) } : undefined;
  });
  for (const { match, problem } of spliced.problems) {
    report(at, match, `expected an item that can be quoted into the command, got ${match} whose value ${problem}`, 'pass it through env: (e.g. env: { VALUE: "${item}" }) and write "$VALUE" in the command');
  }
  return spliced.text;
}

function substituteInSql(query: string, vars: Vars, at: PathSegment[], report: Report): string {
  const spliced = spliceIntoSql(query, ITEM_RE, ([placeholder, expr]) => {
    const found = spliceableItem(placeholder, expr, vars, at, report);
    return found.ok ? { value: found.value } : undefined;
  });
  for (const { match, problem } of spliced.problems) {
    report(at, match, `expected an item that can be a SQL literal, got ${match} whose value ${problem}`, 'write the value into the query where it is a literal, a \'…\' string or a "…" identifier');
  }
  return spliced.text;
}

/**
 * An item's value for a command or a query. Params are substituted after items, in the same strings,
 * so a value holding `${…}` would be read again there (`${raw.params.x}` would then paste text into the
 * shell or SQL unquoted): such a value is refused.
 */
function spliceableItem(placeholder: string, expr: string, vars: Vars, at: PathSegment[], report: Report): { ok: boolean; value?: unknown } {
  const found = itemValue(placeholder, expr, vars, at, report);
  if (found.ok && formatInto(found.value).includes('${')) {
    report(at, placeholder, `expected an item without \${…} where it is spliced into a command or a query, got ${placeholder} = ${JSON.stringify(formatInto(found.value))}`, 'placeholders inside item values are not substituted again; pass the value through env: (env: { VALUE: "${item}" }, then "$VALUE")');
    return { ok: false };
  }
  return found;
}

/** The value `${item…}` or `${key}` stands for; a missing key of the item is reported. */
function itemValue(placeholder: string, expr: string, vars: { item: unknown; key: unknown }, path: PathSegment[], report: Report): { ok: boolean; value?: unknown } {
  if (expr === 'key') return { ok: true, value: vars.key };
  const found = lookup(vars.item, expr === 'item' ? [] : expr.slice('item.'.length).split('.'));
  if (!found.ok) {
    const keys = isPlainObject(found.container) ? Object.keys(found.container) : [];
    report(path, placeholder, `expected ${keys.length ? `a key of the item (${keys.join(', ')})` : 'a key of a mapping item'}, got ${placeholder}`, keys.length ? undefined : 'the items are plain values here: write ${item}');
  }
  return found;
}

function lookup(root: unknown, parts: string[]): { ok: true; value: unknown } | { ok: false; container: unknown } {
  let current = root;
  for (const part of parts) {
    if (isPlainObject(current) && Object.hasOwn(current, part)) current = current[part];
    else if (Array.isArray(current) && /^\d+$/.test(part) && Number(part) < current.length) current = current[Number(part)];
    else return { ok: false, container: current };
  }
  return { ok: true, value: current };
}

function isScalar(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}
