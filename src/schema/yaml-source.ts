import { isAlias, isCollection, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Diagnostic, Severity, SourcePos } from './diagnostic.js';
import { findUnclosedOpener } from './yaml-openers.js';

/** One step into a YAML/JSON value: a mapping key or a list index. */
export type PathSegment = string | number;

/** Refuses billion-laughs documents: at most this many alias expansions (weighted by their own aliases). */
export const MAX_ALIAS_COUNT = 100;
/** Deeper nesting than this is refused before any recursive walk sees it. */
export const MAX_DEPTH = 64;

/** `stages.train.with.model.layers[1].units` */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) out += typeof segment === 'number' ? `[${segment}]` : out === '' ? segment : `.${segment}`;
  return out;
}

/** Where in a node a diagnostic points: the mapping key (unknown keys) or the value (bad values). */
export type NodeSide = 'key' | 'value';

/** A parsed YAML file that can tell the position and source line of any node by its path. */
export class YamlSource {
  readonly lines: string[];

  constructor(
    readonly file: string,
    readonly text: string,
    readonly doc: Document.Parsed,
    readonly lineCounter: LineCounter,
  ) {
    this.lines = text.split(/\r?\n/);
  }

  /** The position of the node at `path`, or of its nearest existing ancestor's key. `needle` narrows a value to the column of a substring. */
  posOf(path: readonly PathSegment[], side: NodeSide = 'value', needle?: string): SourcePos | undefined {
    let node: unknown = this.doc.contents;
    let keyNode: Node | undefined;
    let found = 0;
    for (const segment of path) {
      const resolved = this.resolve(node);
      let next: { key?: Node; value: unknown } | undefined;
      if (isMap(resolved)) {
        const pair = resolved.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
        if (pair) next = { key: pair.key as Node, value: pair.value };
      } else if (isSeq(resolved) && typeof segment === 'number') {
        const item = resolved.items[segment];
        if (item !== undefined) next = { key: item as Node, value: item };
      }
      if (!next) break;
      keyNode = next.key;
      node = next.value;
      found++;
    }
    if (found < path.length) return this.offsetPos(keyNode?.range?.[0] ?? this.doc.contents?.range?.[0] ?? 0);
    const valueNode = this.resolve(node) as Node | null;
    const target = side === 'key' ? (keyNode ?? valueNode) : (valueNode ?? keyNode);
    const start = target?.range?.[0] ?? keyNode?.range?.[0] ?? 0;
    if (needle !== undefined && valueNode?.range && side === 'value') {
      const at = this.text.slice(valueNode.range[0], valueNode.range[1]).indexOf(needle);
      if (at >= 0) return this.offsetPos(valueNode.range[0] + at);
    }
    return this.offsetPos(start);
  }

  /** The path of the mapping key or list item that starts at `offset`, if any. */
  pathAtOffset(offset: number): PathSegment[] | undefined {
    const stack: Array<{ node: unknown; path: PathSegment[] }> = [{ node: this.doc.contents, path: [] }];
    while (stack.length > 0) {
      const { node, path } = stack.pop()!;
      if (isMap(node)) {
        for (const pair of node.items) {
          const key = isScalar(pair.key) ? String(pair.key.value) : '?';
          if ((pair.key as Node | null)?.range?.[0] === offset) return [...path, key];
          stack.push({ node: pair.value, path: [...path, key] });
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, i) => stack.push({ node: item, path: [...path, i] }));
      }
    }
    return undefined;
  }

  offsetPos(offset: number): SourcePos {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line: Math.max(line, 1), col: Math.max(col, 1) };
  }

  lineText(line: number): string | undefined {
    return this.lines[line - 1];
  }

  private resolve(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.doc) : node;
  }
}

/** Options for one reported problem. */
export interface ReportOptions {
  hint?: string;
  side?: NodeSide;
  /** A substring of the value to point the column at, e.g. the `${params.lrr}` inside a command. */
  needle?: string;
}

/**
 * Collects Diagnostics for one file, turning value paths into positions and source lines. Values that a
 * `--set` item put in place have no node: they are reported under the item's own text, without position.
 */
export class Reporter {
  readonly diagnostics: Diagnostic[] = [];
  private readonly overrides: Array<{ path: PathSegment[]; label: string }> = [];
  private readonly sharedOf = new WeakMap<Diagnostic, string>();
  private readonly mapped: Array<{ from: PathSegment[]; to: PathSegment[]; shared?: PathSegment[] }> = [];

  constructor(
    readonly file: string,
    readonly source?: YamlSource,
  ) {}

  /**
   * Reports problems at or below `from` (a path with no node of its own, e.g. a stage a template
   * generated) at the node of `to` plus the rest of the path; the path shown stays `from`'s. When
   * paths mapped to one node share `shared` (`stages.train@*`), a problem reported the same way
   * for several of them is shown once, under `shared`.
   */
  mapPath(from: PathSegment[], to: PathSegment[], shared?: PathSegment[]): void {
    this.mapped.push({ from, to, shared });
  }

  /** The position of the node at `path` (through `mapPath` mappings). */
  posOf(path: readonly PathSegment[], side: NodeSide = 'value', needle?: string): SourcePos | undefined {
    const mapping = this.mappingOf(path);
    const at = mapping ? [...mapping.to, ...path.slice(mapping.from.length)] : path;
    return this.source?.posOf(at, side, needle);
  }

  private mappingOf(path: readonly PathSegment[]) {
    return this.mapped.find((m) => m.from.every((segment, i) => String(path[i]) === String(segment)));
  }

  /** Marks `path` as set by a command-line override; problems at or below it are reported as `label`. */
  markOverride(path: PathSegment[], label: string): void {
    this.overrides.push({ path, label });
  }

  error(path: readonly PathSegment[], message: string, opts: ReportOptions = {}): void {
    this.add('error', path, message, opts);
  }

  warning(path: readonly PathSegment[], message: string, opts: ReportOptions = {}): void {
    this.add('warning', path, message, opts);
  }

  /** A diagnostic with a path of its own and no position (for `--set` items and whole-file problems). */
  plain(path: string, message: string, hint?: string, pos?: SourcePos, severity: Severity = 'error'): void {
    const sourceLine = pos ? this.source?.lineText(pos.line) : undefined;
    this.diagnostics.push(clean({ severity, path, message, file: this.file, pos, sourceLine, hint }));
  }

  get errorCount(): number {
    return this.diagnostics.filter((d) => d.severity === 'error').length;
  }

  private add(severity: Severity, path: readonly PathSegment[], message: string, opts: ReportOptions): void {
    const override = this.overrides.find((o) => o.path.every((segment, i) => String(path[i]) === String(segment)));
    if (override) {
      this.diagnostics.push(clean({ severity, path: override.label, message, file: this.file, hint: opts.hint }));
      return;
    }
    const pos = this.posOf(path, opts.side ?? 'value', opts.needle);
    const mapping = this.mappingOf(path);
    if (mapping?.shared) {
      const shared = formatPath([...mapping.shared, ...path.slice(mapping.from.length)]);
      const same = this.diagnostics.find((d) => d.severity === severity && d.message === message && d.pos?.line === pos?.line && d.pos?.col === pos?.col && this.sharedOf.get(d) === shared);
      if (same) {
        same.path = shared;
        return;
      }
      this.plain(formatPath(path), message, opts.hint, pos, severity);
      this.sharedOf.set(this.diagnostics.at(-1)!, shared);
      return;
    }
    this.plain(formatPath(path), message, opts.hint, pos, severity);
  }
}

function clean(d: Diagnostic): Diagnostic {
  return Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined)) as unknown as Diagnostic;
}

/** The byte offset of the first byte that is not valid UTF-8, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return -1;
  } catch {
    let i = 0;
    while (i < bytes.length) {
      const b = bytes[i];
      const [n, lo, hi] =
        b < 0x80 ? [0, 0, 0]
        : b >= 0xc2 && b <= 0xdf ? [1, 0x80, 0xbf]
        : b === 0xe0 ? [2, 0xa0, 0xbf]
        : b === 0xed ? [2, 0x80, 0x9f]
        : b >= 0xe1 && b <= 0xef ? [2, 0x80, 0xbf]
        : b === 0xf0 ? [3, 0x90, 0xbf]
        : b >= 0xf1 && b <= 0xf3 ? [3, 0x80, 0xbf]
        : b === 0xf4 ? [3, 0x80, 0x8f]
        : [-1, 0, 0];
      if (n < 0) return i;
      for (let k = 1; k <= n; k++) {
        const c = bytes[i + k];
        const [min, max] = k === 1 ? [lo, hi] : [0x80, 0xbf];
        if (c === undefined || c < min || c > max) return i;
      }
      i += n + 1;
    }
    return -1;
  }
}

const SYNTAX_HINTS: Partial<Record<string, string>> = {
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  BAD_INDENT: 'keys of one mapping must start at the same column; check the indentation of this line and the one above',
  MULTIPLE_DOCS: 'a spec is one YAML document; remove the `---` separator',
  BLOCK_AS_IMPLICIT_KEY: 'put the nested mapping on its own indented lines, or quote the value if it contains ": "',
  MISSING_CHAR: 'a bracket or quote is not closed',
  UNEXPECTED_TOKEN: 'check the quoting and brackets on this line',
  RESOURCE_EXHAUSTION: `nesting is limited to ${MAX_DEPTH} levels`,
};

const CLOSE_HINTS: Record<string, string> = {
  '[': 'close the list with "]", or write it as a block list (one "- item" per line)',
  '{': 'close the mapping with "}", or write it as a block mapping (one "key: value" per line)',
  '"': 'close the quote, or escape a quote inside the value as \\"',
  "'": "close the quote, or write a quote inside the value as ''",
};

/** What reading one YAML file gave: its source (for positions) and plain value, or the reasons it could not. */
export interface ParsedYamlFile {
  source?: YamlSource;
  value?: unknown;
  reporter: Reporter;
}

/**
 * Decodes and parses one YAML file: UTF-8 only, duplicate keys refused, alias expansion limited,
 * nesting limited. Every problem found is appended to the returned reporter; `value` is set only when
 * there was none.
 */
export function parseYamlFile(file: string, bytes: Uint8Array): ParsedYamlFile {
  const reporter = new Reporter(file);
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    const before = bytes.subarray(0, bad);
    const line = before.filter((b) => b === 0x0a).length + 1;
    const col = bad - before.lastIndexOf(0x0a);
    const byte = bytes[bad].toString(16).padStart(2, '0');
    reporter.plain('', `expected UTF-8 text, got the byte 0x${byte}`, 'save the file with UTF-8 encoding', { line, col });
    const end = bytes.indexOf(0x0a, bad);
    reporter.diagnostics[0].sourceLine = new TextDecoder('utf-8').decode(bytes.subarray(bad - col + 1, end < 0 ? bytes.length : end)).replace(/\r$/, '');
    return { reporter };
  }
  const text = new TextDecoder('utf-8').decode(bytes);
  const deep = deepFlowNesting(text, MAX_DEPTH * 4);
  if (deep) {
    reporter.plain('', `expected at most ${MAX_DEPTH} levels of nesting, got more`, `nesting is limited to ${MAX_DEPTH} levels`, deep);
    return { reporter };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, keepSourceTokens: false });
  const source = new YamlSource(file, text, doc, lineCounter);
  const sourced = new Reporter(file, source);
  reportSyntaxErrors(source, sourced);
  if (sourced.errorCount === 0) checkStructure(source, sourced);
  if (sourced.errorCount > 0) return { source, reporter: sourced };
  for (const warning of doc.warnings) {
    const pos = source.offsetPos(warning.pos[0]);
    sourced.plain('', warning.message, undefined, pos, 'warning');
  }
  try {
    return { source, value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), reporter: sourced };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/Excessive alias count/.test(message)) {
      sourced.plain('', `expected at most ${MAX_ALIAS_COUNT} alias expansions, got more (a "billion laughs" document?)`, 'write the values out instead of nesting aliases of aliases', { line: 1, col: 1 });
    } else {
      sourced.plain('', `invalid YAML: ${message}`, undefined, { line: 1, col: 1 });
    }
    return { source, reporter: sourced };
  }
}

/**
 * Where `[`/`{` nesting first passes `limit`, found by a linear scan before parsing: the parser and
 * its recursive walks take seconds on a line of 100,000 brackets. Quotes and comments are skipped
 * roughly; only absurd depths are refused here, the exact limit is checked after parsing.
 */
function deepFlowNesting(text: string, limit: number): { line: number; col: number } | undefined {
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      line++;
      lineStart = i + 1;
      quote = quote === '"' ? quote : '';
      continue;
    }
    if (quote) {
      if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]))) {
      const end = text.indexOf('\n', i);
      i = (end < 0 ? text.length : end) - 1;
    } else if (c === '[' || c === '{') {
      if (++depth > limit) return { line, col: i - lineStart + 1 };
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return undefined;
}

function reportSyntaxErrors(source: YamlSource, reporter: Reporter): void {
  let syntaxShown = false;
  for (const err of source.doc.errors) {
    const pos = source.offsetPos(err.pos[0]);
    if (err.code === 'DUPLICATE_KEY') {
      const path = source.pathAtOffset(err.pos[0]) ?? [];
      const name = String(path[path.length - 1] ?? '');
      const isStage = path.length === 2 && path[0] === 'stages';
      reporter.plain(
        formatPath(path),
        isStage ? `expected unique stage names, got "${name}" twice` : `expected unique keys, got "${name}" twice`,
        isStage ? 'stage names must be unique; rename one of the two stages' : 'a mapping holds each key once; remove or merge the repeated key',
        pos,
      );
    } else if (!syntaxShown) {
      syntaxShown = true;
      const inFlow = /[[{,][^\n]*\$\{/.test(source.lineText(pos.line) ?? '');
      const hint = inFlow ? 'inside { … } or [ … ], quote placeholders: "${params.lr}" (quoted, a lone placeholder still keeps its type)' : SYNTAX_HINTS[err.code];
      const message = err.message.replace(/\s+/g, ' ').trim();
      const opener = inFlow ? undefined : findUnclosedOpener(source.text, err.pos[0]);
      if (opener) {
        const at = source.offsetPos(opener.offset);
        const what = opener.char === '"' || opener.char === "'" ? `the quote ${opener.char}` : `the "${opener.char}"`;
        reporter.plain('', `invalid YAML: ${what} opened at ${at.line}:${at.col} is never closed (the parser stopped at ${pos.line}:${pos.col}: ${message})`, CLOSE_HINTS[opener.char], at);
      } else reporter.plain('', `invalid YAML: ${message}`, hint, pos);
    }
  }
}

function checkStructure(source: YamlSource, reporter: Reporter): void {
  const stack: Array<{ node: unknown; path: PathSegment[] }> = [{ node: source.doc.contents, path: [] }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (!isCollection(node)) continue;
    if (path.length >= MAX_DEPTH) {
      const shown = path.findIndex((segment) => typeof segment === 'number');
      reporter.plain(formatPath(path.slice(0, shown < 0 ? 4 : shown + 1)) + '…', `expected at most ${MAX_DEPTH} levels of nesting, got more`, undefined, source.offsetPos(node.range?.[0] ?? 0));
      return;
    }
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        if (isCollection(pair.key)) {
          const pos = source.offsetPos((pair.key as Node).range?.[0] ?? 0);
          reporter.plain(formatPath(path), `expected a plain key, got a ${isMap(pair.key) ? 'mapping' : 'list'} used as a key`, 'keys are names: write them as plain text', pos);
          continue;
        }
        stack.push({ node: pair.value, path: [...path, isScalar(pair.key) ? String(pair.key.value) : '?'] });
      }
    } else {
      node.items.forEach((item, i) => stack.push({ node: item, path: [...path, i] }));
    }
  }
}
