import { parse, type ParseEntry } from 'shell-quote';
import type { CodeEntry } from '../core/code-deps/entries.js';

const JS_RUNNERS = new Set(['node', 'nodejs', 'tsx', 'ts-node', 'ts-node-esm', 'bun']);
/** Prefixes that run the rest of the words as a command. */
const WRAPPERS = new Set(['exec', 'time', 'nohup', 'nice', 'env', 'npx', 'command']);
/** Options of node (and tsx / ts-node, which pass them on) that take the next word as their value. */
const JS_VALUE_OPTIONS = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--env-file', '--input-type', '--tsconfig', '--title', '--stack-size']);
/** Options that mean no script file is run (code on the command line, or nothing). */
const JS_NO_SCRIPT = new Set(['-e', '--eval', '-p', '--print', '-v', '--version', '-h', '--help', '-i', '--interactive']);
const PY_VALUE_OPTIONS = new Set(['-W', '-X', '-Q', '--check-hash-based-pycs']);
const PY_NO_SCRIPT = new Set(['-c', '-V', '--version', '-h', '--help', '-i']);
const SEPARATORS = new Set(['&&', '||', ';', ';;', '|', '|&', '&', '(', ')']);
const JS_FILE = /\.(?:[cm]?[jt]s|[jt]sx)$/;

/**
 * The scripts a shell command line runs with node / tsx / ts-node / python (`node a.mjs`,
 * `tsx src/main.ts`, `python train.py`, `python -m pkg.mod`, also after `VAR=x`, `env`, `exec`,
 * `npx`). The line is only split into words (shell-quote) — nothing is expanded or run — and a
 * word holding a variable or substitution is never taken for a script.
 */
export function scriptsRunBy(command: string): CodeEntry[] {
  const entries: CodeEntry[] = [];
  // `${VAR}` stays as written (shell-quote would substitute it): such a word is not a script path
  const words = parse(command.replace(/\\\r?\n/g, ' ').replace(/\r?\n/g, ' ; '), (key) => `\${${key}}`);
  let segment: string[] = [];
  const flush = () => {
    const entry = scriptOf(segment);
    if (entry) entries.push(entry);
    segment = [];
  };
  for (const w of words) {
    if (typeof w === 'string') segment.push(w);
    else if (isSeparator(w)) flush();
    else if ('comment' in w) flush();
    else segment.push('${glob}');
  }
  flush();
  return entries;
}

function isSeparator(w: ParseEntry): boolean {
  return typeof w === 'object' && 'op' in w && SEPARATORS.has(w.op);
}

function scriptOf(words: string[]): CodeEntry | undefined {
  let i = 0;
  const skipAssignments = () => {
    while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!)) i++;
  };
  skipAssignments();
  while (i < words.length && WRAPPERS.has(words[i]!)) {
    i++;
    while (i < words.length && words[i]!.startsWith('-')) i++;
    skipAssignments();
  }
  const program = words[i]?.split('/').pop() ?? '';
  const args = words.slice(i + 1);
  if (JS_RUNNERS.has(program)) {
    const path = firstOperand(args, JS_VALUE_OPTIONS, JS_NO_SCRIPT);
    return path !== undefined && JS_FILE.test(path) ? { lang: 'js', path } : undefined;
  }
  if (/^python(?:\d+(?:\.\d+)?)?$/.test(program)) {
    const m = args.findIndex((a) => a === '-m' || (/^-[A-Za-z]*m$/.test(a) && !a.startsWith('--')));
    const before = m < 0 ? args : args.slice(0, m);
    const path = firstOperand(before, PY_VALUE_OPTIONS, PY_NO_SCRIPT);
    if (path !== undefined) return path.endsWith('.py') && !path.includes('${') ? { lang: 'py', path } : undefined;
    const module = m < 0 ? undefined : args[m + 1];
    return module && /^[A-Za-z_][\w.]*$/.test(module) ? { lang: 'py', module } : undefined;
  }
  return undefined;
}

/** The first word after the options (undefined when an option says no file runs). */
function firstOperand(args: string[], valueOptions: Set<string>, noScript: Set<string>): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return args[i + 1] !== undefined && !args[i + 1]!.includes('${') ? args[i + 1] : undefined;
    if (noScript.has(a) || noScript.has(a.split('=')[0]!)) return undefined;
    if (valueOptions.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return a.includes('${') ? undefined : a;
  }
  return undefined;
}
