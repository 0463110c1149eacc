import { UserError } from '../../errors.js';
import { didYouMean } from '../../schema/did-you-mean.js';

/**
 * The run-search language of `runs list --filter`, `compare runs --filter`, `report --filter` and
 * the dashboard: the gate expression language (core/expr.ts: numbers, + - * /, comparisons,
 * and/or/not with `&&`/`||`/`!`, parentheses) plus what searching runs needs, as MLflow's
 * `search_runs` has it — quoted strings, `=` and `<>`, `[not] in (…)`, `[not] like '…'`,
 * `is [not] null`, `true`/`false`:
 *
 * ```
 * params.lr < 0.01 and (metrics.evaluate.accuracy >= 0.9 or tags.owner = 'ana')
 * status in ('failed', 'interrupted') and pipeline like 'iris%'
 * metrics.`train@big`.loss is not null
 * ```
 *
 * Fields: `params.NAME[.NAME…]` (nested params by path), `metrics.STAGE.KEY` (final values),
 * `tags.KEY`, and the run's own columns ({@link ATTRIBUTES}). A segment with other characters is
 * written in backticks. This module only parses and type-checks; run-filter-sql.ts turns the tree
 * into SQL with every value bound as a parameter.
 */
export type FilterExpr =
  | { type: 'number'; value: number; column: number }
  | { type: 'string'; value: string; column: number }
  | { type: 'field'; field: Field; column: number }
  | { type: 'neg'; operand: FilterExpr; column: number }
  | { type: 'arith'; op: '+' | '-' | '*' | '/'; left: FilterExpr; right: FilterExpr; column: number }
  | { type: 'compare'; op: FilterCompareOp; left: FilterExpr; right: FilterExpr; mode: 'number' | 'text'; column: number }
  | { type: 'in'; operand: FilterExpr; values: (number | string)[]; mode: 'number' | 'text'; negated: boolean; column: number }
  | { type: 'like'; operand: FilterExpr; pattern: string; negated: boolean; column: number }
  | { type: 'null'; field: Field; negated: boolean; column: number }
  | { type: 'not'; operand: FilterExpr; column: number }
  | { type: 'logic'; op: 'and' | 'or'; left: FilterExpr; right: FilterExpr; column: number };

export type FilterCompareOp = '<' | '<=' | '>' | '>=' | '=' | '!=';

/** A field a filter or an ordering names. */
export type Field =
  | { kind: 'param'; path: string[]; name: string }
  | { kind: 'metric'; stage: string; key: string; name: string }
  | { kind: 'tag'; key: string; name: string }
  | { kind: 'attribute'; attribute: AttributeName; name: string };

/** The run's own columns by their name in the language, with their type. */
export const ATTRIBUTES = {
  id: { column: 'id', type: 'text' },
  name: { column: 'name', type: 'text' },
  pipeline: { column: 'pipeline', type: 'text' },
  status: { column: 'status', type: 'text' },
  sweep: { column: 'sweep_id', type: 'text' },
  commit: { column: 'git_commit', type: 'text' },
  backend: { column: 'backend', type: 'text' },
  host: { column: 'host', type: 'text' },
  note: { column: 'note', type: 'text' },
  error: { column: 'error', type: 'text' },
  started_at: { column: 'started_at', type: 'number' },
  ended_at: { column: 'ended_at', type: 'number' },
  duration_ms: { column: null, type: 'number' },
  deleted_at: { column: 'deleted_at', type: 'number' },
} as const;

export type AttributeName = keyof typeof ATTRIBUTES;

/** A filter or ordering that cannot be read: a syntax or type error, or a name no run has (exit 2; the dashboard's 400). */
export class RunFilterError extends UserError {
  constructor(
    readonly source: string,
    readonly column: number,
    readonly reason: string,
    hint = FILTER_HINT,
  ) {
    super(`invalid filter: ${reason}${column > 0 ? ` at column ${column}` : ''}${column > 0 ? `\n  ${source}\n  ${' '.repeat(column - 1)}^` : ''}`, { hint });
    this.name = 'RunFilterError';
  }
}

export const FILTER_HINT = "e.g. params.lr < 0.01 and (metrics.evaluate.accuracy >= 0.9 or tags.owner = 'ana'); fields: params.NAME, metrics.STAGE.KEY, tags.KEY, " + Object.keys(ATTRIBUTES).join(', ');

type Token =
  | { kind: 'number'; value: number; column: number; text: string }
  | { kind: 'string'; value: string; column: number; text: string }
  | { kind: 'name'; segments: string[]; column: number; text: string }
  | { kind: 'op'; value: string; column: number; text: string }
  | { kind: 'end'; column: number; text: string };

const WORDS = new Set(['and', 'or', 'not', 'in', 'like', 'is', 'null', 'true', 'false']);
const SYMBOLS = ['<=', '>=', '==', '!=', '<>', '&&', '||', '<', '>', '=', '!', '+', '-', '*', '/', '(', ')', ','];
const SYMBOL_NAMES: Record<string, string> = { '&&': 'and', '||': 'or', '!': 'not', '==': '=', '<>': '!=' };
const SEGMENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const DIGITS_SEGMENT = /[A-Za-z0-9_]+/y;
const NUMBER = /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
/** Longest filter accepted (the dashboard's query string allows as much). */
export const MAX_FILTER_LENGTH = 2000;
const MAX_DEPTH = 64;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const fail = (column: number, reason: string): never => {
    throw new RunFilterError(source, column, reason);
  };
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const column = i + 1;
    if (ch === "'" || ch === '"') {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= source.length) fail(column, `the string opened here is not closed (close it with ${ch})`);
        if (source[j] === ch) {
          if (source[j + 1] === ch) {
            value += ch;
            j += 2;
            continue;
          }
          break;
        }
        value += source[j++];
      }
      tokens.push({ kind: 'string', value, column, text: source.slice(i, j + 1) });
      i = j + 1;
      continue;
    }
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(source);
    if (num) {
      const after = source[i + num[0].length] ?? '';
      if (/[A-Za-z_]/.test(after)) fail(column, `"${num[0]}${after}" is not a number or a name`);
      const value = Number(num[0]);
      if (!Number.isFinite(value)) fail(column, `${num[0]} is too large a number`);
      tokens.push({ kind: 'number', value, column, text: num[0] });
      i += num[0].length;
      continue;
    }
    if (/[A-Za-z_`]/.test(ch)) {
      const segments: string[] = [];
      let j = i;
      for (;;) {
        if (source[j] === '`') {
          const close = source.indexOf('`', j + 1);
          if (close < 0) fail(j + 1, 'the name quoted here with ` is not closed');
          if (close === j + 1) fail(j + 1, 'an empty quoted name');
          segments.push(source.slice(j + 1, close));
          j = close + 1;
        } else {
          const re = segments.length ? DIGITS_SEGMENT : SEGMENT;
          re.lastIndex = j;
          const m = re.exec(source);
          if (!m) fail(j + 1, `expected a name after "${source.slice(i, j)}"`);
          segments.push(m![0]);
          j += m![0].length;
        }
        if (source[j] !== '.') break;
        j++;
      }
      const text = source.slice(i, j);
      const word = segments.length === 1 && source[i] !== '`' ? segments[0]!.toLowerCase() : '';
      tokens.push(WORDS.has(word) ? { kind: 'op', value: word, column, text } : { kind: 'name', segments, column, text });
      i = j;
      continue;
    }
    const sym = SYMBOLS.find((s) => source.startsWith(s, i));
    if (!sym) fail(column, `unexpected character "${ch}"`);
    tokens.push({ kind: 'op', value: SYMBOL_NAMES[sym!] ?? sym!, column, text: sym! });
    i += sym!.length;
  }
  tokens.push({ kind: 'end', column: source.length + 1, text: 'the end' });
  return tokens;
}

/** A field's name as the language writes it: segments joined with dots, those with other characters in backticks. */
export function quoteSegments(segments: readonly string[]): string {
  return segments.map((s) => (/^[A-Za-z0-9_]+$/.test(s) ? s : `\`${s}\``)).join('.');
}

/** Reads a field name (`params.lr`, `metrics.evaluate.accuracy`, `tags.owner`, `status`). */
export function resolveField(segments: readonly string[], source: string, column: number): Field {
  const name = quoteSegments(segments);
  const [head, ...rest] = segments;
  const fail = (reason: string, hint?: string): never => {
    throw new RunFilterError(source, column, reason, hint);
  };
  switch (head) {
    case 'params':
      if (!rest.length) fail('"params" needs a name: params.NAME (nested: params.model.units)');
      if (rest.some((r) => r.includes('"'))) fail('a param name cannot hold a double quote');
      return { kind: 'param', path: rest, name };
    case 'metrics':
      if (rest.length < 2) fail(`"${name}" needs a stage and a key: metrics.STAGE.KEY, e.g. metrics.evaluate.${rest[0] ?? 'accuracy'}`);
      return { kind: 'metric', stage: rest[0]!, key: rest.slice(1).join('.'), name };
    case 'tags':
      if (!rest.length) fail('"tags" needs a key: tags.KEY');
      return { kind: 'tag', key: rest.join('.'), name };
  }
  if (segments.length === 1 && Object.hasOwn(ATTRIBUTES, head!)) return { kind: 'attribute', attribute: head as AttributeName, name };
  const known = ['params', 'metrics', 'tags', ...Object.keys(ATTRIBUTES)];
  const hint = didYouMean(head!, known);
  return fail(`unknown field "${name}"${hint ? `; ${hint}` : ''}`, FILTER_HINT);
}

type Kind = 'number' | 'text' | 'any' | 'boolean';

function kindOf(e: FilterExpr): Kind {
  switch (e.type) {
    case 'number':
    case 'neg':
    case 'arith':
      return 'number';
    case 'string':
      return 'text';
    case 'field':
      return fieldKind(e.field);
    default:
      return 'boolean';
  }
}

function fieldKind(f: Field): Kind {
  if (f.kind === 'metric') return 'number';
  if (f.kind === 'tag') return 'text';
  if (f.kind === 'attribute') return ATTRIBUTES[f.attribute].type;
  return 'any';
}

class Parser {
  private pos = 0;
  private depth = 0;
  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
  ) {}

  parse(): FilterExpr {
    const expr = this.or();
    const t = this.peek();
    if (t.kind !== 'end') this.fail(t, `unexpected "${t.text}"`);
    if (kindOf(expr) !== 'boolean') this.fail(this.tokens[0]!, 'a filter must be a condition, e.g. "params.lr < 0.01"; this is a value');
    return expr;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)]!;
  }

  private isOp(...ops: string[]): boolean {
    const t = this.peek();
    return t.kind === 'op' && ops.includes(t.value);
  }

  private next(): Token {
    return this.tokens[this.pos++]!;
  }

  private fail(t: { column: number }, reason: string): never {
    throw new RunFilterError(this.source, t.column, reason);
  }

  private condition(e: FilterExpr, t: Token): FilterExpr {
    if (kindOf(e) !== 'boolean') this.fail(t, `"${t.text}" needs conditions on both sides, such as "params.lr < 0.01"`);
    return e;
  }

  private number(e: FilterExpr, t: Token): FilterExpr {
    const k = kindOf(e);
    if (k === 'boolean') this.fail(t, `"${t.text}" needs a number, not a condition`);
    if (k === 'text') this.fail(t, `"${t.text}" needs numbers; ${describe(e)} is text`);
    return e;
  }

  private or(): FilterExpr {
    let left = this.and();
    while (this.isOp('or')) {
      const t = this.next();
      left = { type: 'logic', op: 'or', left: this.condition(left, t), right: this.condition(this.and(), t), column: t.column };
    }
    return left;
  }

  private and(): FilterExpr {
    let left = this.not();
    while (this.isOp('and')) {
      const t = this.next();
      left = { type: 'logic', op: 'and', left: this.condition(left, t), right: this.condition(this.not(), t), column: t.column };
    }
    return left;
  }

  private not(): FilterExpr {
    if (this.isOp('not')) {
      const t = this.next();
      return { type: 'not', operand: this.condition(this.nested(() => this.not()), t), column: t.column };
    }
    return this.predicate();
  }

  private nested<T>(fn: () => T): T {
    if (++this.depth > MAX_DEPTH) this.fail(this.peek(), `nested more than ${MAX_DEPTH} levels deep`);
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  private predicate(): FilterExpr {
    const left = this.sum();
    const t = this.peek();
    if (t.kind !== 'op') return left;
    if (['<', '<=', '>', '>=', '=', '!='].includes(t.value)) {
      this.next();
      const right = this.sum();
      const mode = this.compareMode(left, right, t);
      if (mode === 'text' && !['=', '!='].includes(t.value)) this.fail(t, `"${t.text}" compares numbers; text is matched with =, !=, in (…) or like '…'`);
      if (this.peek().kind === 'op' && ['<', '<=', '>', '>=', '=', '!='].includes((this.peek() as { value: string }).value)) this.fail(this.peek(), 'comparisons do not chain; join them with "and"');
      return { type: 'compare', op: t.value as FilterCompareOp, left, right, mode, column: t.column };
    }
    const negated = t.value === 'not' && this.peek(1).kind === 'op' && ['in', 'like'].includes((this.peek(1) as { value: string }).value);
    const op = negated ? this.peek(1) : t;
    if (op.kind === 'op' && op.value === 'in') {
      if (negated) this.next();
      this.next();
      return this.inList(left, op, negated);
    }
    if (op.kind === 'op' && op.value === 'like') {
      if (negated) this.next();
      this.next();
      if (kindOf(left) !== 'text' && kindOf(left) !== 'any') this.fail(op, `"like" matches text; ${describe(left)} is ${kindOf(left) === 'number' ? 'a number' : 'a condition'}`);
      const pattern = this.next();
      if (pattern.kind !== 'string') this.fail(pattern, `"like" needs a quoted pattern such as 'iris%' but found ${pattern.text}`);
      return { type: 'like', operand: left, pattern: (pattern as { value: string }).value, negated, column: op.column };
    }
    if (t.value === 'is') {
      this.next();
      const not = this.isOp('not');
      if (not) this.next();
      const nul = this.next();
      if (nul.kind !== 'op' || nul.value !== 'null') this.fail(nul, `expected "null" after "is${not ? ' not' : ''}"`);
      if (left.type !== 'field') this.fail(t, '"is null" applies to a field, e.g. "tags.owner is null"');
      return { type: 'null', field: (left as { field: Field }).field, negated: not, column: t.column };
    }
    return left;
  }

  private compareMode(left: FilterExpr, right: FilterExpr, t: Token): 'number' | 'text' {
    const kinds = [kindOf(left), kindOf(right)];
    if (kinds.includes('boolean')) this.fail(t, `"${t.text}" compares values, not conditions`);
    if (kinds.includes('text')) {
      if (kinds.includes('number')) this.fail(t, `"${t.text}" compares ${describe(left)} with ${describe(right)}: one is text, the other a number${kinds[0] === 'text' ? ' (quote the number)' : ''}`);
      return 'text';
    }
    return 'number';
  }

  private inList(left: FilterExpr, op: Token, negated: boolean): FilterExpr {
    const open = this.next();
    if (open.kind !== 'op' || open.value !== '(') this.fail(open, `"in" needs a list in parentheses, e.g. in ('a', 'b'), but found ${open.text}`);
    const values: (number | string)[] = [];
    for (;;) {
      let t = this.next();
      let sign = 1;
      if (t.kind === 'op' && t.value === '-') {
        sign = -1;
        t = this.next();
      }
      if (t.kind === 'number') values.push(sign * t.value);
      else if (t.kind === 'string' && sign === 1) values.push(t.value);
      else if (t.kind === 'op' && (t.value === 'true' || t.value === 'false') && sign === 1) values.push(t.value === 'true' ? 1 : 0);
      else this.fail(t, `the list of "in" holds numbers or quoted strings, found ${t.text}`);
      const sep = this.next();
      if (sep.kind === 'op' && sep.value === ')') break;
      if (sep.kind !== 'op' || sep.value !== ',') this.fail(sep, `expected "," or ")" in the list of "in", found ${sep.text}`);
    }
    const mode = typeof values[0] === 'string' ? 'text' : 'number';
    if (values.some((v) => typeof v !== typeof values[0])) this.fail(op, 'the list of "in" mixes numbers and strings');
    const k = kindOf(left);
    if (k === 'boolean' || (k !== 'any' && k !== mode)) this.fail(op, `"in" with a list of ${mode === 'text' ? 'strings' : 'numbers'}: ${describe(left)} is ${k === 'boolean' ? 'a condition' : k === 'text' ? 'text' : 'a number'}`);
    return { type: 'in', operand: left, values, mode, negated, column: op.column };
  }

  private sum(): FilterExpr {
    let left = this.product();
    while (this.isOp('+', '-')) {
      const t = this.next();
      left = { type: 'arith', op: t.text as '+' | '-', left: this.number(left, t), right: this.number(this.product(), t), column: t.column };
    }
    return left;
  }

  private product(): FilterExpr {
    let left = this.unary();
    while (this.isOp('*', '/')) {
      const t = this.next();
      left = { type: 'arith', op: t.text as '*' | '/', left: this.number(left, t), right: this.number(this.unary(), t), column: t.column };
    }
    return left;
  }

  private unary(): FilterExpr {
    const t = this.next();
    if (t.kind === 'op' && t.value === '-') return { type: 'neg', operand: this.number(this.nested(() => this.unary()), t), column: t.column };
    if (t.kind === 'number') return { type: 'number', value: t.value, column: t.column };
    if (t.kind === 'string') return { type: 'string', value: t.value, column: t.column };
    if (t.kind === 'op' && (t.value === 'true' || t.value === 'false')) return { type: 'number', value: t.value === 'true' ? 1 : 0, column: t.column };
    if (t.kind === 'name') return { type: 'field', field: resolveField(t.segments, this.source, t.column), column: t.column };
    if (t.kind === 'op' && t.value === '(') {
      const inner = this.nested(() => this.or());
      const close = this.next();
      if (close.kind !== 'op' || close.value !== ')') this.fail(close, `expected ")" but found ${close.kind === 'end' ? 'the end' : `"${close.text}"`}`);
      return inner;
    }
    return this.fail(t, `expected a field, a number, a quoted string or "(" but found ${t.kind === 'end' ? 'the end' : `"${t.text}"`}`);
  }
}

function describe(e: FilterExpr): string {
  if (e.type === 'field') return e.field.name;
  if (e.type === 'string') return `'${e.value}'`;
  if (e.type === 'number') return String(e.value);
  return 'the expression';
}

/** Parses and type-checks a filter; throws {@link RunFilterError} with the column of the problem. */
export function parseRunFilter(text: string): FilterExpr {
  if (text.length > MAX_FILTER_LENGTH) throw new RunFilterError(text.slice(0, 60), 0, `the filter is ${text.length} characters long; at most ${MAX_FILTER_LENGTH}`);
  if (!text.trim()) throw new RunFilterError(text, 1, 'the filter is empty');
  return new Parser(text, tokenize(text)).parse();
}

/** Every field the filter names, without duplicates, in order of appearance. */
export function fieldsIn(expr: FilterExpr): Field[] {
  const out = new Map<string, Field>();
  const visit = (e: FilterExpr): void => {
    switch (e.type) {
      case 'field':
      case 'null':
        out.set(e.field.name, e.field);
        break;
      case 'neg':
      case 'not':
      case 'in':
      case 'like':
        visit(e.operand);
        break;
      case 'arith':
      case 'compare':
      case 'logic':
        visit(e.left);
        visit(e.right);
        break;
    }
  };
  visit(expr);
  return [...out.values()];
}

/** One key of an ordering: a field and a direction (missing values always last). */
export interface RunOrder {
  field: Field;
  dir: 'asc' | 'desc';
}

/** Reads `metrics.evaluate.accuracy desc, started_at` (default direction: asc). */
export function parseRunOrder(text: string): RunOrder[] {
  const out: RunOrder[] = [];
  let offset = 0;
  for (const part of text.split(/,(?=(?:[^`]*`[^`]*`)*[^`]*$)/)) {
    const m = /^(\s*)(\S+)(?:\s+(asc|desc))?\s*$/i.exec(part);
    if (!m) throw new RunFilterError(text, offset + 1, `expected FIELD [asc|desc] in the ordering, found "${part.trim()}"`, 'e.g. --order-by "metrics.evaluate.accuracy desc, started_at"');
    const column = offset + m[1]!.length + 1;
    const tokens = tokenize(m[2]!);
    const t = tokens[0]!;
    if (t.kind !== 'name' || tokens.length !== 2) throw new RunFilterError(text, column, `"${m[2]}" is not a field name`, 'e.g. --order-by "metrics.evaluate.accuracy desc, started_at"');
    out.push({ field: resolveField(t.segments, text, column), dir: (m[3]?.toLowerCase() ?? 'asc') as 'asc' | 'desc' });
    offset += part.length + 1;
  }
  return out;
}
