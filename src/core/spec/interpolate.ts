import { didYouMean } from '../../schema/did-you-mean.js';
import type { OutputRef } from './types.js';
import { isPlainObject } from '../../schema/validate-fields.js';
import type { PathSegment } from '../../schema/yaml-source.js';
import { spliceIntoCommand } from './shell-quote.js';
import { spliceIntoSql } from './sql-quote.js';

/**
 * Matches `${stages.STAGE.outputs.NAME}`; group 1 is the stage (a template's stage `train@0.1` may hold
 * `@` and dots), group 2 the output name (which may hold `/` and `.`, as shell `outs` entries do).
 * Global: use it with `matchAll` or `replace`, not `test`.
 */
export const OUTPUT_REF_RE = /\$\{stages\.([A-Za-z0-9_-]+(?:@[A-Za-z0-9_.+=,-]+?)?)\.outputs\.([^{}\s]+)\}/g;

const PLACEHOLDER_RE = /\$\{([^{}]*)\}/g;
const SHELL_VARIABLE_RE = /^[A-Za-z_][A-Za-z0-9_]*([:#%/^,@][^]*)?$|^#/;

export function hasOutputRef(s: string): boolean {
  return s.match(new RegExp(OUTPUT_REF_RE.source)) !== null;
}

/** Every `${stages.X.outputs.Y}` in a value, deep, in document order. */
export function findOutputRefs(value: unknown): OutputRef[] {
  const refs: OutputRef[] = [];
  walkStrings(value, (s) => {
    for (const m of s.matchAll(OUTPUT_REF_RE)) refs.push({ stage: m[1], output: m[2] });
  });
  return refs;
}

/**
 * Replaces every `${stages.X.outputs.Y}` inside the strings of `value` (deep) by `lookup(X, Y)`; returns a new value.
 * In the top-level `commands` keys (shell command lines) each path is quoted for the spot it lands in.
 */
export function substituteOutputRefs(value: unknown, lookup: (stage: string, output: string) => string, commands: ReadonlySet<string> = NO_COMMANDS): unknown {
  if (commands.size > 0 && isPlainObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, commands.has(k) ? mapCommands(v, (c) => substituteInCommand(c, lookup), (w) => substituteOutputRefs(w, lookup)) : substituteOutputRefs(v, lookup)]),
    );
  }
  if (typeof value === 'string') return value.replace(OUTPUT_REF_RE, (_, stage: string, output: string) => lookup(stage, output));
  if (Array.isArray(value)) return value.map((v) => substituteOutputRefs(v, lookup));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteOutputRefs(v, lookup)]));
  return value;
}

const NO_COMMANDS: ReadonlySet<string> = new Set();

/** A command key's value: one command line, or a list of them (a shell stage's `run`); anything else goes to `other`. */
export function mapCommands(value: unknown, command: (line: string, index?: number) => unknown, other: (value: unknown) => unknown): unknown {
  if (typeof value === 'string') return command(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.map((line, i) => command(line, i));
  return other(value);
}

function substituteInCommand(command: string, lookup: (stage: string, output: string) => string): string {
  const spliced = spliceIntoCommand(command, OUTPUT_REF_RE, (m) => ({ quote: lookup(m[1], m[2]) }));
  const first = spliced.problems[0];
  if (first) throw new Error(`the path that ${first.match} stands for ${first.problem}`);
  return spliced.text;
}

function walkStrings(value: unknown, visit: (s: string) => void): void {
  if (typeof value === 'string') visit(value);
  else if (Array.isArray(value)) value.forEach((v) => walkStrings(v, visit));
  else if (isPlainObject(value)) Object.values(value).forEach((v) => walkStrings(v, visit));
}

/** A problem with one `${…}` placeholder, at a path relative to the interpolated value. */
export interface InterpolationIssue {
  path: PathSegment[];
  /** The placeholder as written, to point the column at. */
  placeholder: string;
  message: string;
  hint?: string;
}

/** What interpolating one stage's config found besides the new value. */
export interface InterpolationResult {
  value: unknown;
  /** Param name (dotted for nested params) → the value used. */
  used: Record<string, unknown>;
  refs: Array<{ ref: OutputRef; path: PathSegment[] }>;
  issues: InterpolationIssue[];
  /** Strings that still hold a placeholder reported in `issues`. */
  reported: Set<string>;
  /** Param names placeholders tried to use, found or not. */
  mentioned: Set<string>;
}

/**
 * Substitutes `${params.x}` (dots reach into nested params): a placeholder that is the whole string keeps
 * the param's type; inside a longer string it is formatted in (numbers and booleans as written, lists and
 * mappings as JSON). `${stages.X.outputs.Y}` is collected and kept as written. `${NAME}` without a dot is
 * left for the shell; any other dotted placeholder is reported.
 *
 * In the top-level keys named by `commands` (shell command lines, e.g. a `run:` stage's `run`) a param
 * arrives as exactly its characters — one word outside quotes, escaped inside "…" or '…' — so a param
 * never adds shell syntax; `${raw.params.x}` splices the text unquoted, on purpose.
 *
 * In the top-level keys named by `sql` (a sql stage's `query`) a param lands as a SQL literal (a number as
 * written, text single-quoted with its quotes doubled, a list as `[…]`), or as its escaped characters
 * inside a '…' string or "…" identifier, so a param never adds SQL syntax; `${raw.params.x}` pastes the text.
 */
export function interpolateParams(
  value: unknown,
  params: Record<string, unknown>,
  path: PathSegment[] = [],
  opts: { commands?: ReadonlySet<string>; sql?: ReadonlySet<string> } = {},
): InterpolationResult {
  const result: InterpolationResult = { value: undefined, used: {}, refs: [], issues: [], reported: new Set(), mentioned: new Set() };
  const commands = opts.commands ?? NO_COMMANDS;
  const sql = opts.sql ?? NO_COMMANDS;
  result.value =
    (commands.size > 0 || sql.size > 0) && isPlainObject(value)
      ? Object.fromEntries(
          Object.entries(value).map(([k, v]) => [
            k,
            commands.has(k)
              ? mapCommands(
                  v,
                  (line, i) => interpolateString(line, i === undefined ? [...path, k] : [...path, k, i], params, result, 'shell'),
                  (w) => walk(w, [...path, k], params, result),
                )
              : sql.has(k) && typeof v === 'string'
                ? interpolateString(v, [...path, k], params, result, 'sql')
                : walk(v, [...path, k], params, result),
          ]),
        )
      : walk(value, path, params, result);
  return result;
}

function walk(value: unknown, path: PathSegment[], params: Record<string, unknown>, result: InterpolationResult): unknown {
  if (typeof value === 'string') return interpolateString(value, path, params, result, 'text');
  if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i], params, result));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, [...path, k], params, result)]));
  return value;
}

const RAW_PREFIX = 'raw.';

function interpolateString(s: string, path: PathSegment[], params: Record<string, unknown>, result: InterpolationResult, mode: 'text' | 'shell' | 'sql'): unknown {
  const matches = [...s.matchAll(PLACEHOLDER_RE)];
  if (matches.length === 0) return s;
  let failed = false;
  const resolved: Array<{ found: boolean; value?: unknown; raw?: boolean }> = matches.map((m) => {
    const [placeholder, inner] = m;
    const trimmed = inner.trim();
    const raw = trimmed.startsWith(`${RAW_PREFIX}params.`);
    const expr = raw ? trimmed.slice(RAW_PREFIX.length) : trimmed;
    if (expr.startsWith('params.') || expr === 'params') {
      result.mentioned.add(expr.slice('params.'.length));
      const lookup = lookupParam(expr.slice('params.'.length), params);
      if ('value' in lookup) {
        result.used[expr.slice('params.'.length)] = lookup.value;
        return { found: true, value: lookup.value, raw };
      }
      result.issues.push({ path, placeholder, message: lookup.message, ...(lookup.hint ? { hint: lookup.hint } : {}) });
      failed = true;
      return { found: false };
    }
    const ref = [...placeholder.matchAll(OUTPUT_REF_RE)][0];
    if (ref && ref[0] === placeholder) {
      result.refs.push({ ref: { stage: ref[1], output: ref[2] }, path });
      return { found: false };
    }
    if (SHELL_VARIABLE_RE.test(expr)) return { found: false };
    const head = expr.split('.')[0];
    const hint =
      head === 'stages' ? 'write ${stages.STAGE.outputs.NAME}'
      : head === 'item' ? '${item} and ${key} work inside a foreach or matrix template only'
      : head === 'raw' ? 'write ${raw.params.NAME}'
      : didYouMean(head, ['params', 'stages'], (h) => `\${${h}.…}`);
    result.issues.push({
      path,
      placeholder,
      message: `expected \${params.NAME} or \${stages.STAGE.outputs.NAME}, got ${placeholder}`,
      ...(hint ? { hint } : {}),
    });
    failed = true;
    return { found: false };
  });
  if (!failed && mode === 'sql') {
    const spliced = spliceIntoSql(s, PLACEHOLDER_RE, (_, i) => {
      const r = resolved[i];
      if (!r.found) return undefined;
      return r.raw ? { raw: formatInto(r.value) } : { value: r.value };
    });
    for (const { match, problem } of spliced.problems) {
      result.issues.push({
        path,
        placeholder: match,
        message: `expected a param that can be a SQL literal, got ${match} whose value ${problem}`,
        hint: 'write ${raw.params.NAME} to paste its text into the query as SQL (only for values you trust)',
      });
    }
    if (spliced.problems.length === 0) return spliced.text;
    failed = true;
  }
  if (!failed && mode === 'shell') {
    const spliced = spliceIntoCommand(s, PLACEHOLDER_RE, (_, i) => {
      const r = resolved[i];
      if (!r.found) return undefined;
      return r.raw ? { raw: formatInto(r.value) } : { quote: formatInto(r.value) };
    });
    for (const { match, problem } of spliced.problems) {
      result.issues.push({
        path,
        placeholder: match,
        message: `expected a param that can be quoted into the command, got ${match} whose value ${problem}`,
        hint: 'pass it through env: (e.g. env: { VALUE: "${params.NAME}" }) and write "$VALUE" in the command',
      });
    }
    if (spliced.problems.length === 0) return spliced.text;
    failed = true;
  }
  if (failed) {
    result.reported.add(s);
    return s;
  }
  if (matches.length === 1 && matches[0][0] === s && resolved[0].found) return structuredClone(resolved[0].value);
  let i = 0;
  return s.replace(PLACEHOLDER_RE, (whole) => {
    const r = resolved[i++];
    return r.found ? formatInto(r.value) : whole;
  });
}

/** How a value reads inside a longer string: text as it is, numbers and booleans as written, lists and mappings as JSON, null as nothing. */
export function formatInto(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

type ParamLookup = { value: unknown } | { message: string; hint?: string };

function lookupParam(name: string, params: Record<string, unknown>): ParamLookup {
  if (name === '') return { message: 'expected ${params.NAME}, got ${params}', hint: `declared params: ${Object.keys(params).join(', ') || '(none)'}` };
  const parts = name.split('.');
  let current: unknown = params;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const container = current;
    const known = isPlainObject(container) ? Object.keys(container) : Array.isArray(container) ? container.map((_, k) => String(k)) : [];
    if (!known.includes(part)) {
      const prefix = parts.slice(0, i).join('.');
      const where = prefix === '' ? 'a declared param' : `a key of params.${prefix}`;
      const close = didYouMean(part, known, (s) => `\${params.${prefix === '' ? '' : `${prefix}.`}${s}}`);
      return {
        message: `expected ${where} (${known.join(', ') || 'none'}), got "${part}" in \${params.${name}}`,
        hint: close ?? (prefix === '' ? `declare it under "params:" at the top of the spec` : undefined),
      };
    }
    current = Array.isArray(container) ? container[Number(part)] : (container as Record<string, unknown>)[part];
  }
  return { value: current };
}
