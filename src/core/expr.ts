import { didYouMean } from '../schema/did-you-mean.js';

/**
 * A small, safe expression language for gates and `--fail-if` conditions. It is tokenized and
 * parsed here and evaluated by walking the tree; nothing is ever passed to `eval`.
 *
 * ```
 * or      := and (("or" | "||") and)*
 * and     := not (("and" | "&&") not)*
 * not     := ("not" | "!") not | compare
 * compare := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
 * sum     := product (("+" | "-") product)*
 * product := unary (("*" | "/") unary)*
 * unary   := "-" unary | NUMBER | NAME | "(" or ")"
 * ```
 *
 * Names are metric keys with dots: `accuracy`, `evaluate.f1`, `baseline.accuracy`,
 * `production.accuracy`. Comparisons do not chain (`a < b < c` is a syntax error), arithmetic
 * takes numbers and `and`/`or`/`not` take conditions; a mix-up is a syntax error at parse time.
 *
 * **Bare references.** A name listed in `EvaluateOptions.references` (by default `baseline` and
 * `production`) written alone in a comparison means "the metric named on the other side, in that
 * reference": `accuracy < baseline - 0.01` is read as `accuracy < baseline.accuracy - 0.01`. The
 * other side must name exactly one metric, otherwise evaluation fails with {@link ExprNameError}.
 */
export type Expr =
  | { type: 'number'; value: number; column: number }
  | { type: 'name'; name: string; column: number }
  | { type: 'neg'; operand: Expr; column: number }
  | { type: 'not'; operand: Expr; column: number }
  | { type: 'arith'; op: '+' | '-' | '*' | '/'; left: Expr; right: Expr; column: number }
  | { type: 'compare'; op: CompareOp; left: Expr; right: Expr; column: number }
  | { type: 'logic'; op: 'and' | 'or'; left: Expr; right: Expr; column: number };

export type CompareOp = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** The text is not a valid expression; `column` is 1-based. */
export class ExprSyntaxError extends Error {
  constructor(
    readonly source: string,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`invalid expression: ${reason} at column ${column}\n  ${source}\n  ${' '.repeat(Math.max(0, column - 1))}^`);
    this.name = 'ExprSyntaxError';
  }
}

/** A name in the expression has no value; `known` lists the names that do. */
export class ExprNameError extends Error {
  constructor(
    readonly unknown: string,
    readonly known: string[],
    reason?: string,
  ) {
    const hint = didYouMean(unknown, known);
    const list = known.length ? `known: ${known.join(', ')}` : 'no metrics are known here';
    super(`${reason ?? `unknown metric "${unknown}"`}${hint ? `; ${hint}` : ''} (${list})`);
    this.name = 'ExprNameError';
  }
}

export interface EvaluateOptions {
  /** Names that have values, listed in the error for an unknown name. */
  known?: readonly string[];
  /** Prefixes that may stand alone in a comparison (see {@link Expr}). Default: `baseline`, `production`. */
  references?: readonly string[];
  /**
   * Names that have no value yet on purpose (e.g. `production.accuracy` before any version holds
   * `production`): a comparison reading one is taken as true and listed in `Evaluation.assumed`.
   */
  assumeTrue?: (name: string) => boolean;
}

/** The result of an expression, and every name it read with the value it got (after bare references were expanded). */
export interface Evaluation {
  value: boolean | number;
  used: Record<string, number>;
  /** Comparisons taken as true because they read a name `assumeTrue` accepted, as text. */
  assumed: string[];
}

type Token =
  | { kind: 'number'; value: number; column: number; text: string }
  | { kind: 'name'; value: string; column: number; text: string }
  | OpToken
  | { kind: 'end'; column: number; text: string };
type OpToken = { kind: 'op'; value: string; column: number; text: string };

const WORD_OPS: Record<string, string> = { and: 'and', or: 'or', not: 'not' };
const SYMBOL_OPS = ['<=', '>=', '==', '!=', '&&', '||', '<', '>', '!', '+', '-', '*', '/', '(', ')'];
const NAME = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*/y;
const NUMBER = /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    if (/\s/.test(source[i])) {
      i++;
      continue;
    }
    const column = i + 1;
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(source);
    if (num) {
      if (/[A-Za-z_]/.test(source[i + num[0].length] ?? '')) throw new ExprSyntaxError(source, column, `"${num[0]}${source[i + num[0].length]}" is not a number or a name`);
      tokens.push({ kind: 'number', value: Number(num[0]), column, text: num[0] });
      i += num[0].length;
      continue;
    }
    NAME.lastIndex = i;
    const name = NAME.exec(source);
    if (name) {
      const word = WORD_OPS[name[0]];
      tokens.push(word ? { kind: 'op', value: word, column, text: name[0] } : { kind: 'name', value: name[0], column, text: name[0] });
      i += name[0].length;
      continue;
    }
    const sym = SYMBOL_OPS.find((s) => source.startsWith(s, i));
    if (!sym) throw new ExprSyntaxError(source, column, `unexpected character "${source[i]}"`);
    tokens.push({ kind: 'op', value: sym === '&&' ? 'and' : sym === '||' ? 'or' : sym === '!' ? 'not' : sym, column, text: sym });
    i += sym.length;
  }
  tokens.push({ kind: 'end', column: source.length + 1, text: 'end of expression' });
  return tokens;
}

const COMPARE_OPS = new Set(['<', '<=', '>', '>=', '==', '!=']);

class Parser {
  private pos = 0;
  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
  ) {}

  parse(): Expr {
    const expr = this.or();
    const t = this.peek();
    if (t.kind !== 'end') this.fail(t, `unexpected "${t.text}"`);
    return expr;
  }

  private peek(): Token {
    return this.tokens[this.pos];
  }

  private isOp(...ops: string[]): boolean {
    const t = this.peek();
    return t.kind === 'op' && ops.includes(t.value);
  }

  private next(): Token {
    return this.tokens[this.pos++];
  }

  private nextOp(): OpToken {
    return this.tokens[this.pos++] as OpToken;
  }

  private fail(t: Token, reason: string): never {
    throw new ExprSyntaxError(this.source, t.column, reason);
  }

  private expect(e: Expr, want: 'number' | 'boolean', t: Token, role: string): Expr {
    if (typeOf(e) !== want) this.fail(t, want === 'number' ? `${role} needs a number, not a condition` : `${role} needs a condition such as "accuracy > 0.9", not a number`);
    return e;
  }

  private or(): Expr {
    let left = this.and();
    while (this.isOp('or')) {
      const t = this.next();
      this.expect(left, 'boolean', t, `"${t.text}"`);
      const right = this.expect(this.and(), 'boolean', t, `"${t.text}"`);
      left = { type: 'logic', op: 'or', left, right, column: t.column };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    while (this.isOp('and')) {
      const t = this.next();
      this.expect(left, 'boolean', t, `"${t.text}"`);
      const right = this.expect(this.not(), 'boolean', t, `"${t.text}"`);
      left = { type: 'logic', op: 'and', left, right, column: t.column };
    }
    return left;
  }

  private not(): Expr {
    if (this.isOp('not')) {
      const t = this.next();
      return { type: 'not', operand: this.expect(this.not(), 'boolean', t, `"${t.text}"`), column: t.column };
    }
    return this.compare();
  }

  private compare(): Expr {
    const left = this.sum();
    if (!this.isOp(...COMPARE_OPS)) return left;
    const t = this.nextOp();
    this.expect(left, 'number', t, `"${t.text}"`);
    const right = this.expect(this.sum(), 'number', t, `"${t.text}"`);
    if (this.isOp(...COMPARE_OPS)) this.fail(this.peek(), 'comparisons do not chain; join them with "and"');
    return { type: 'compare', op: t.value as CompareOp, left, right, column: t.column };
  }

  private sum(): Expr {
    let left = this.product();
    while (this.isOp('+', '-')) {
      const t = this.nextOp();
      this.expect(left, 'number', t, `"${t.text}"`);
      const right = this.expect(this.product(), 'number', t, `"${t.text}"`);
      left = { type: 'arith', op: t.value as '+' | '-', left, right, column: t.column };
    }
    return left;
  }

  private product(): Expr {
    let left = this.unary();
    while (this.isOp('*', '/')) {
      const t = this.nextOp();
      this.expect(left, 'number', t, `"${t.text}"`);
      const right = this.expect(this.unary(), 'number', t, `"${t.text}"`);
      left = { type: 'arith', op: t.value as '*' | '/', left, right, column: t.column };
    }
    return left;
  }

  private unary(): Expr {
    const t = this.next();
    if (t.kind === 'op' && t.value === '-') return { type: 'neg', operand: this.expect(this.unary(), 'number', t, '"-"'), column: t.column };
    if (t.kind === 'number') return { type: 'number', value: t.value, column: t.column };
    if (t.kind === 'name') return { type: 'name', name: t.value, column: t.column };
    if (t.kind === 'op' && t.value === '(') {
      const inner = this.or();
      const close = this.next();
      if (close.kind !== 'op' || close.value !== ')') this.fail(close, `expected ")" but found ${close.kind === 'end' ? 'the end' : `"${close.text}"`}`);
      return inner;
    }
    return this.fail(t, `expected a number, a metric name or "(" but found ${t.kind === 'end' ? 'the end' : `"${t.text}"`}`);
  }
}

/** Parses an expression; throws {@link ExprSyntaxError} (with the 1-based column) when it is not valid. */
export function parseExpr(text: string): Expr {
  if (!text.trim()) throw new ExprSyntaxError(text, 1, 'the expression is empty');
  return new Parser(text, tokenize(text)).parse();
}

/** Parses an expression that must be a condition (true or false), as gates and `--fail-if` need. */
export function parseCondition(text: string): Expr {
  const expr = parseExpr(text);
  if (typeOf(expr) !== 'boolean') throw new ExprSyntaxError(text, 1, 'a condition must compare values, e.g. "accuracy >= 0.9"; this is a number');
  return expr;
}

/** Whether the expression yields a number or a condition. */
export function typeOf(expr: Expr): 'number' | 'boolean' {
  return expr.type === 'compare' || expr.type === 'logic' || expr.type === 'not' ? 'boolean' : 'number';
}

/** Every name the expression mentions, in order of appearance, without duplicates. */
export function namesIn(expr: Expr): string[] {
  const out: string[] = [];
  const visit = (e: Expr): void => {
    if (e.type === 'name') {
      if (!out.includes(e.name)) out.push(e.name);
    } else if (e.type === 'neg' || e.type === 'not') visit(e.operand);
    else if (e.type !== 'number') {
      visit(e.left);
      visit(e.right);
    }
  };
  visit(expr);
  return out;
}

/**
 * Evaluates an expression. `lookup` gives the value of a (possibly dotted) name or undefined when
 * it has none, which raises {@link ExprNameError} listing `options.known`. Bare references
 * (`baseline`) in a comparison are expanded first, as described on {@link Expr}.
 */
export function evaluate(expr: Expr, lookup: (name: string) => number | undefined, options: EvaluateOptions = {}): Evaluation {
  const references = options.references ?? ['baseline', 'production'];
  const known = [...(options.known ?? [])];
  const used: Record<string, number> = {};
  const assumed: string[] = [];
  const read = (name: string): number => {
    const value = lookup(name);
    if (value === undefined) throw new ExprNameError(name, known);
    used[name] = value;
    return value;
  };
  const expandBare = (e: Expr, other: Expr): Expr => {
    if (e.type === 'name' && references.includes(e.name)) {
      const metrics = namesIn(other).filter((n) => !references.includes(n) && !references.some((r) => n.startsWith(`${r}.`)));
      if (metrics.length !== 1) {
        throw new ExprNameError(e.name, known, `a bare "${e.name}" needs exactly one metric on the other side of the comparison (found ${metrics.length ? metrics.join(', ') : 'none'}); write "${e.name}.METRIC"`);
      }
      return { ...e, name: `${e.name}.${metrics[0]}` };
    }
    if (e.type === 'neg') return { ...e, operand: expandBare(e.operand, other) };
    if (e.type === 'arith') return { ...e, left: expandBare(e.left, other), right: expandBare(e.right, other) };
    return e;
  };
  const num = (e: Expr): number => {
    const v = run(e);
    return typeof v === 'number' ? v : Number(v);
  };
  const run = (e: Expr): boolean | number => {
    switch (e.type) {
      case 'number':
        return e.value;
      case 'name':
        if (references.includes(e.name)) throw new ExprNameError(e.name, known, `a bare "${e.name}" only has a meaning inside a comparison; write "${e.name}.METRIC"`);
        return read(e.name);
      case 'neg':
        return -num(e.operand);
      case 'not':
        return !run(e.operand);
      case 'arith': {
        const a = num(e.left);
        const b = num(e.right);
        return e.op === '+' ? a + b : e.op === '-' ? a - b : e.op === '*' ? a * b : a / b;
      }
      case 'logic':
        return e.op === 'and' ? Boolean(run(e.left)) && Boolean(run(e.right)) : Boolean(run(e.left)) || Boolean(run(e.right));
      case 'compare': {
        const left = expandBare(e.left, e.right);
        const right = expandBare(e.right, e.left);
        if (options.assumeTrue && [...namesIn(left), ...namesIn(right)].some(options.assumeTrue)) {
          assumed.push(formatExpr({ ...e, left, right }));
          return true;
        }
        const a = num(left);
        const b = num(right);
        switch (e.op) {
          case '<':
            return a < b;
          case '<=':
            return a <= b;
          case '>':
            return a > b;
          case '>=':
            return a >= b;
          case '==':
            return a === b;
          case '!=':
            return a !== b;
        }
      }
    }
  };
  return { value: run(expr), used, assumed };
}

const PRECEDENCE: Record<string, number> = { or: 1, and: 2, not: 3, compare: 4, '+': 5, '-': 5, '*': 6, '/': 6, neg: 7 };

function precedenceOf(e: Expr): number {
  if (e.type === 'logic') return PRECEDENCE[e.op];
  if (e.type === 'arith') return PRECEDENCE[e.op];
  if (e.type === 'number' || e.type === 'name') return 8;
  return PRECEDENCE[e.type];
}

/** The expression as text, normalized (`&&` → `and`), with only the parentheses it needs. */
export function formatExpr(e: Expr): string {
  const wrap = (child: Expr, min: number) => (precedenceOf(child) < min ? `(${formatExpr(child)})` : formatExpr(child));
  switch (e.type) {
    case 'number':
      return String(e.value);
    case 'name':
      return e.name;
    case 'neg':
      return `-${wrap(e.operand, 7)}`;
    case 'not':
      return `not ${wrap(e.operand, 3)}`;
    case 'compare':
      return `${wrap(e.left, 5)} ${e.op} ${wrap(e.right, 5)}`;
    case 'logic':
    case 'arith': {
      const p = precedenceOf(e);
      return `${wrap(e.left, p)} ${e.op} ${wrap(e.right, p + 1)}`;
    }
  }
}

/** A value as messages show it: at most 4 decimals, or 3 significant digits for tiny numbers. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  if (Math.abs(v) >= 1e-3) return String(Math.round(v * 1e4) / 1e4);
  return String(Number(v.toPrecision(3)));
}

/** `accuracy = 0.9333, baseline.accuracy = 0.95`: the values an evaluation read, in the order it read them. */
export function formatUsed(used: Record<string, number>): string {
  return Object.entries(used)
    .map(([k, v]) => `${k} = ${formatValue(v)}`)
    .join(', ');
}
