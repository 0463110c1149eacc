/**
 * Where a spot in a `sh -c` command line sits, which decides how text spliced in there is quoted:
 * outside quotes (also inside `$(…)`, backticks and `${…}` that are not themselves quoted), inside
 * "double" or 'single' quotes, inside `backticks` (whose text is unescaped once more), in a comment, in the body of a here-document (`<<EOF` expands
 * `$` and backticks, `<<'EOF'` does not), right after a backslash, or inside a `${VAR:-…}` expansion
 * (whose quoting rules differ between shells).
 */
export type ShellContext = 'bare' | 'double' | 'single' | 'comment' | 'heredoc' | 'heredoc-literal' | 'escaped' | 'expansion' | 'backtick' | 'nested-backtick';

type Frame =
  | { kind: 'bare' | 'single' | 'double' | 'comment' }
  | { kind: 'backtick'; nested: boolean }
  | { kind: 'cmdsub'; depth: number }
  | { kind: 'param'; quoted: boolean };

interface PendingHeredoc {
  delimiter: string;
  stripTabs: boolean;
  literal: boolean;
}

const BLANK = /[ \t]/;
const WORD_BREAK = /[\s;&|()<>]/;

/**
 * The context at each of `offsets` (ascending or not) in `command`, from a small POSIX `sh` lexer:
 * quotes, backslashes, `$(…)` (and `$((…))`), backticks, `${…}`, comments and here-documents.
 * It does not need to parse every construct: it only has to know which quoting rules apply at a spot.
 */
export function shellContextsAt(command: string, offsets: number[]): ShellContext[] {
  const wanted = new Map<number, number[]>();
  offsets.forEach((o, i) => wanted.set(o, [...(wanted.get(o) ?? []), i]));
  const out: ShellContext[] = offsets.map(() => 'bare');
  const stack: Frame[] = [{ kind: 'bare' }];
  const pending: PendingHeredoc[] = [];
  const record = (at: number, context: ShellContext) => wanted.get(at)?.forEach((i) => (out[i] = context));
  const escape = (at: number) => {
    record(at + 1, 'escaped');
    return at + 2;
  };
  let i = 0;
  while (i < command.length) {
    const frame = stack[stack.length - 1];
    record(i, contextOf(frame));
    const c = command[i];
    const next = command[i + 1];
    switch (frame.kind) {
      case 'single':
        if (c === "'") stack.pop();
        i++;
        continue;
      case 'comment':
        if (c === '\n') stack.pop();
        else i++;
        continue;
      case 'double':
        if (c === '\\') i = escape(i);
        else if (c === '"') (stack.pop(), i++);
        else if (c === '`') (stack.push({ kind: 'backtick', nested: false }), i++);
        else if (c === '$' && next === '(') (stack.push({ kind: 'cmdsub', depth: 0 }), (i += 2));
        else if (c === '$' && next === '{') (stack.push({ kind: 'param', quoted: true }), (i += 2));
        else i++;
        continue;
      case 'param':
        if (c === '}') {
          stack.pop();
          i++;
          continue;
        }
        if (frame.quoted) {
          if (c === '\\') i = escape(i);
          else if (c === '$' && next === '{') (stack.push({ kind: 'param', quoted: true }), (i += 2));
          else if (c === '$' && next === '(') (stack.push({ kind: 'cmdsub', depth: 0 }), (i += 2));
          else if (c === '`') (stack.push({ kind: 'backtick', nested: false }), i++);
          else i++;
          continue;
        }
        break;
      default:
        break;
    }
    // bare, cmdsub, backtick and unquoted param frames: the full unquoted grammar
    if (c === '\\' && next === '`' && frame.kind === 'backtick') (frame.nested = true), (i += 2);
    else if (c === '\\') i = escape(i);
    else if (c === "'") (stack.push({ kind: 'single' }), i++);
    else if (c === '"') (stack.push({ kind: 'double' }), i++);
    else if (c === '`' && frame.kind === 'backtick') (stack.pop(), i++);
    else if (c === '`') (stack.push({ kind: 'backtick', nested: false }), i++);
    else if (c === '$' && next === '(') (stack.push({ kind: 'cmdsub', depth: 0 }), (i += 2));
    else if (c === '$' && next === '{') (stack.push({ kind: 'param', quoted: false }), (i += 2));
    else if (frame.kind === 'cmdsub' && c === '(') (frame.depth++, i++);
    else if (frame.kind === 'cmdsub' && c === ')') {
      if (frame.depth === 0) stack.pop();
      else frame.depth--;
      i++;
    } else if (c === '#' && (i === 0 || WORD_BREAK.test(command[i - 1]))) stack.push({ kind: 'comment' });
    else if (c === '<' && next === '<' && command[i + 2] !== '<') i = readHeredocOperator(command, i + 2, pending);
    else if (c === '\n' && pending.length > 0) i = skipHeredocBodies(command, i + 1, pending.splice(0), record);
    else i++;
  }
  return out;
}

function contextOf(frame: Frame): ShellContext {
  if (frame.kind === 'single' || frame.kind === 'double' || frame.kind === 'comment') return frame.kind;
  if (frame.kind === 'param') return 'expansion';
  if (frame.kind === 'backtick') return frame.nested ? 'nested-backtick' : 'backtick';
  return 'bare';
}

/** Reads `[-] WORD` after `<<`; returns the offset after the word. */
function readHeredocOperator(command: string, at: number, pending: PendingHeredoc[]): number {
  let i = at;
  const stripTabs = command[i] === '-';
  if (stripTabs) i++;
  while (i < command.length && BLANK.test(command[i])) i++;
  let delimiter = '';
  let literal = false;
  while (i < command.length && !WORD_BREAK.test(command[i])) {
    const c = command[i];
    if (c === "'" || c === '"') {
      literal = true;
      const close = command.indexOf(c, i + 1);
      const end = close < 0 ? command.length : close;
      delimiter += command.slice(i + 1, end);
      i = end + 1;
    } else if (c === '\\') {
      literal = true;
      delimiter += command[i + 1] ?? '';
      i += 2;
    } else {
      delimiter += c;
      i++;
    }
  }
  if (delimiter !== '') pending.push({ delimiter, stripTabs, literal });
  return i;
}

/** Skips the bodies of the here-documents opened on the line that just ended; returns the offset after the last delimiter line. */
function skipHeredocBodies(command: string, at: number, docs: PendingHeredoc[], record: (at: number, context: ShellContext) => void): number {
  let i = at;
  for (const doc of docs) {
    while (i < command.length) {
      const eol = command.indexOf('\n', i);
      const end = eol < 0 ? command.length : eol;
      const line = command.slice(i, end);
      if ((doc.stripTabs ? line.replace(/^\t+/, '') : line) === doc.delimiter) {
        i = end + 1;
        break;
      }
      for (let k = i; k <= end; k++) record(k, doc.literal ? 'heredoc-literal' : 'heredoc');
      i = end + 1;
    }
  }
  return i;
}

/** Characters that never need quoting outside quotes (Python's `shlex.quote` set, less `=`: `A=b` at a command's start is an assignment). */
const SAFE_BARE = /^[A-Za-z0-9_@%+:,./-]+$/;

const quoteWord = (value: string) => (SAFE_BARE.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`);

/** Text that makes `value` reach the command as exactly its characters at a spot of `context`, or why it cannot. */
export function quoteForShell(value: string, context: ShellContext): { text: string } | { problem: string } {
  if (value.includes('\0')) return { problem: 'holds a NUL byte, which no command line can carry' };
  switch (context) {
    case 'bare':
      return { text: quoteWord(value) };
    case 'backtick':
      return { text: quoteWord(value).replace(/[\\`$]/g, '\\$&') };
    case 'nested-backtick':
      return { problem: 'sits inside nested backticks; write $(…) instead' };
    case 'single':
      return { text: value.replaceAll("'", `'\\''`) };
    case 'double':
      return { text: value.replace(/[\\$`"]/g, '\\$&') };
    case 'comment':
      return { text: value.replace(/[\r\n]+/g, ' ') };
    case 'escaped':
      return { problem: 'follows a backslash, which would apply to its first character; remove the backslash' };
    case 'expansion':
      return { problem: 'sits inside a ${…} shell expansion, where quoting differs between shells' };
    case 'heredoc':
    case 'heredoc-literal':
      if (/[\r\n]/.test(value)) return { problem: 'holds a line break, which could end the here-document it is spliced into' };
      return { text: context === 'heredoc' ? value.replace(/[\\$`]/g, '\\$&') : value };
  }
}

/** What {@link spliceIntoCommand} splices at one match: text to quote, text to insert as it is, or nothing (keep the match). */
export type Splice = { quote: string } | { raw: string } | undefined;

/**
 * Replaces each match of the global `pattern` in a command line by what `spliceOf` says, quoted for the
 * spot it lands in. Matches that cannot be quoted where they sit are kept as written and listed in `problems`.
 */
export function spliceIntoCommand(
  command: string,
  pattern: RegExp,
  spliceOf: (match: RegExpMatchArray, index: number) => Splice,
): { text: string; problems: Array<{ match: string; problem: string }> } {
  const matches = [...command.matchAll(pattern)];
  const contexts = shellContextsAt(command, matches.map((m) => m.index));
  const problems: Array<{ match: string; problem: string }> = [];
  const texts = matches.map((m, i) => {
    const splice = spliceOf(m, i);
    if (splice === undefined) return m[0];
    if ('raw' in splice) return splice.raw;
    const quoted = quoteForShell(splice.quote, contexts[i]);
    if ('text' in quoted) return quoted.text;
    problems.push({ match: m[0], problem: quoted.problem });
    return m[0];
  });
  let i = 0;
  return { text: command.replace(pattern, () => texts[i++]), problems };
}
