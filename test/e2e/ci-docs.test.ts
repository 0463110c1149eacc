import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { parseCondition } from '../../src/core/expr.js';
import { repoRoot } from '../helpers/cli.js';
import { yamlBlocks } from '../helpers/markdown.js';

/**
 * docs/ci.md promises copy-pasteable CI jobs: every yaml block must parse, and every `mlpipe …`
 * command line in them must name a real command with real flags (checked against the oclif
 * manifest that `npm run build` writes), so the page cannot drift from the CLI.
 */

interface ManifestFlag {
  name: string;
  char?: string;
  type: 'boolean' | 'option';
  options?: string[];
}
interface ManifestCommand {
  id: string;
  strict?: boolean;
  flags: Record<string, ManifestFlag>;
  args: Record<string, { required?: boolean }>;
}

/** One `mlpipe …` invocation found in a yaml block. */
interface Invocation {
  block: number;
  text: string;
  command: string;
  flags: { name: string; value?: string }[];
  positionals: string[];
}

const OPERATORS = new Set(['|', '||', '&&', ';', '>', '>>', '<', '&']);
/** Words after which `mlpipe` is a command, not prose (`Restore mlpipe state`). */
const LEADERS = new Set(['npx', 'then', 'else', 'do', 'if', '!', 'exec', 'time']);

/** Shell words and operators; quotes are removed, `$(…)` and `${{ … }}` stay inside their word. */
function shellTokens(script: string): string[] {
  const text = script.replace(/\\\r?\n/g, ' ');
  const out: string[] = [];
  let word: string | null = null;
  const flush = () => {
    if (word !== null) out.push(word);
    word = null;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'") {
      const end = text.indexOf("'", i + 1);
      word = (word ?? '') + text.slice(i + 1, end < 0 ? text.length : end);
      i = end < 0 ? text.length : end;
    } else if (ch === '"') {
      let j = i + 1;
      let s = '';
      for (; j < text.length && text[j] !== '"'; j++) s += text[j] === '\\' && j + 1 < text.length ? text[++j] : text[j];
      word = (word ?? '') + s;
      i = j;
    } else if (ch === '$' && (text[i + 1] === '(' || text[i + 1] === '{')) {
      const open = text[i + 1];
      const close = open === '(' ? ')' : '}';
      let depth = 0;
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === '"' || text[j] === "'") j = Math.max(j, text.indexOf(text[j], j + 1));
        else if (text[j] === open) depth++;
        else if (text[j] === close && --depth === 0) break;
      }
      word = (word ?? '') + text.slice(i, j + 1);
      i = j;
    } else if (ch === '\n' || ch === ';') {
      flush();
      out.push(';');
    } else if (/\s/.test(ch)) flush();
    else if ('|&<>'.includes(ch)) {
      flush();
      const two = text.slice(i, i + 2);
      if (OPERATORS.has(two)) {
        out.push(two);
        i++;
      } else out.push(ch);
    } else word = (word ?? '') + ch;
  }
  flush();
  return out;
}

/** Every `mlpipe` (or `npx mlpipe`) command in a script, where a command starts, split into command id, flags and positionals. */
function findInvocations(script: string, commands: Record<string, ManifestCommand>, block: number): Invocation[] {
  const tokens = shellTokens(script);
  const found: Invocation[] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] !== 'mlpipe' && !tokens[i].endsWith('/mlpipe')) continue;
    if (i > 0 && !OPERATORS.has(tokens[i - 1]) && !LEADERS.has(tokens[i - 1])) continue;
    let end = i + 1;
    while (end < tokens.length && !OPERATORS.has(tokens[end])) end++;
    const words = tokens.slice(i + 1, end);
    const text = ['mlpipe', ...words].join(' ');
    const two = words.slice(0, 2).join(':');
    const command = commands[two] ? two : (words[0] ?? '');
    const rest = words.slice(command.split(':').length);
    const flags: Invocation['flags'] = [];
    const positionals: string[] = [];
    for (let k = 0; k < rest.length; k++) {
      const w = rest[k];
      if (!w.startsWith('-') || w === '-') {
        positionals.push(w);
        continue;
      }
      const eq = w.indexOf('=');
      const raw = eq > 0 ? w.slice(0, eq) : w;
      const def = commands[command] && Object.values(commands[command].flags).find((f) => (raw.startsWith('--') ? f.name === raw.slice(2) : f.char === raw.slice(1)));
      const name = def?.name ?? raw.replace(/^-+/, '');
      if (eq > 0) flags.push({ name, value: w.slice(eq + 1) });
      else if (def?.type === 'option') flags.push({ name, value: rest[++k] });
      else flags.push({ name });
    }
    found.push({ block, text, command, flags, positionals });
    i = end;
  }
  return found;
}

/** Problems with one invocation against the manifest; empty when it is a real command with real flags. */
function checkInvocation(inv: Invocation, commands: Record<string, ManifestCommand>): string[] {
  const cmd = commands[inv.command];
  if (!cmd) return [`${inv.text}: no command "${inv.command.replaceAll(':', ' ')}" (known: ${Object.keys(commands).map((c) => c.replaceAll(':', ' ')).join(', ')})`];
  const problems: string[] = [];
  for (const f of inv.flags) {
    const def = cmd.flags[f.name];
    if (!def && f.name !== 'help') problems.push(`${inv.text}: mlpipe ${inv.command.replaceAll(':', ' ')} has no flag --${f.name}`);
    else if (def?.type === 'option' && (f.value === undefined || OPERATORS.has(f.value))) problems.push(`${inv.text}: --${f.name} needs a value`);
    else if (def?.options && f.value !== undefined && !f.value.includes('$') && !def.options.includes(f.value)) problems.push(`${inv.text}: --${f.name} ${f.value} is not one of ${def.options.join(', ')}`);
    else if (f.name === 'fail-if' && f.value !== undefined) {
      try {
        parseCondition(f.value);
      } catch (err) {
        problems.push(`${inv.text}: --fail-if "${f.value}": ${(err as Error).message}`);
      }
    }
  }
  const args = Object.values(cmd.args ?? {});
  const required = args.filter((a) => a.required).length;
  if (inv.positionals.length < required) problems.push(`${inv.text}: expected ${required} argument(s), got ${inv.positionals.length}`);
  if (cmd.strict !== false && inv.positionals.length > args.length) problems.push(`${inv.text}: unexpected argument(s) ${inv.positionals.slice(args.length).join(' ')}`);
  return problems;
}

const SCRIPT_KEYS = new Set(['run', 'script', 'before_script', 'after_script']);

/** The shell scripts of a workflow or job: the strings under `run:` (GitHub) and `script:`-like keys (GitLab). */
function scripts(node: unknown, inScript = false): string[] {
  if (typeof node === 'string') return inScript ? [node] : [];
  if (Array.isArray(node)) return node.flatMap((n) => scripts(n, inScript));
  if (node && typeof node === 'object') return Object.entries(node).flatMap(([k, v]) => scripts(v, inScript || SCRIPT_KEYS.has(k)));
  return [];
}

function loadManifest(): Record<string, ManifestCommand> {
  const path = join(repoRoot, 'oclif.manifest.json');
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build (the test setup does unless MLPIPE_SKIP_BUILD=1)`);
  return (JSON.parse(readFileSync(path, 'utf8')) as { commands: Record<string, ManifestCommand> }).commands;
}

const commands = loadManifest();
const markdown = readFileSync(join(repoRoot, 'docs', 'ci.md'), 'utf8');
const blocks = yamlBlocks(markdown).map((b) => b.text);
const docs = blocks.map((text) => parseDocument(text, { prettyErrors: true }));
const values = docs.map((d) => d.toJS() as Record<string, any>);
const invocations = values.flatMap((v, block) => scripts(v).flatMap((s) => findInvocations(s, commands, block)));

const github = values.find((v) => v?.jobs?.retrain);
const gitlab = values.find((v) => v?.retrain?.script);
const stepsOf = (wf: any): any[] => Object.values(wf.jobs).flatMap((j: any) => j.steps ?? []);
const valueOf = (inv: Invocation | undefined, flag: string) => inv?.flags.find((f) => f.name === flag)?.value;
const inBlock = (v: unknown, command: string) => invocations.filter((i) => i.block === values.indexOf(v as Record<string, any>) && i.command === command);

describe('docs/ci.md', () => {
  it('has yaml blocks that all parse, a GitHub Actions workflow and a GitLab CI job among them', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    docs.forEach((d, i) => expect(d.errors.map((e) => e.message), `yaml block ${i + 1}:\n${blocks[i]}`).toEqual([]));
    expect(github, 'a workflow with jobs.retrain').toBeDefined();
    expect(gitlab, 'a GitLab job "retrain" with a script').toBeDefined();
  });

  it('names only real mlpipe commands and flags', () => {
    expect(invocations.length).toBeGreaterThanOrEqual(10);
    expect(invocations.flatMap((i) => checkInvocation(i, commands))).toEqual([]);
  });

  it.each([
    ['GitHub Actions', () => github],
    ['GitLab CI', () => gitlab],
  ])('%s: runs, compares with production, promotes, reports', (_name, get) => {
    const v = get();
    const compare = inBlock(v, 'compare:runs')[0];
    expect(inBlock(v, 'run')).toHaveLength(1);
    expect(valueOf(compare, 'baseline')).toMatch(/^\w+@production$/);
    expect(valueOf(compare, 'fail-if')).toContain('baseline');
    expect(inBlock(v, 'models:promote')[0]?.flags).toContainEqual({ name: 'alias', value: 'production' });
    expect(valueOf(inBlock(v, 'report')[0], 'out')).toBe('mlpipe-report.html');
  });

  it('GitHub Actions: shares the tracker and the remote (MLPIPE_TRACKER, MLPIPE_REMOTE), pulls before the run and pushes after it, caches nothing of runs/, uploads the report, promotes only on main', () => {
    const steps = stepsOf(github);
    expect(github.env.MLPIPE_TRACKER).toBe('${{ secrets.MLPIPE_TRACKER }}');
    expect(github.env.MLPIPE_REMOTE).toMatch(/^s3:\/\//);
    expect(steps.some((s) => String(s.uses).startsWith('actions/cache'))).toBe(false);
    const at = (command: string) => steps.findIndex((s) => findInvocations(String(s.run ?? ''), commands, 0).some((i) => i.command === command));
    expect(at('pull')).toBeGreaterThan(steps.findIndex((s) => s.run === 'npm ci'));
    expect(at('run')).toBeGreaterThan(at('pull'));
    expect(at('push')).toBeGreaterThan(at('run'));
    expect(steps[at('push')].if).toBe('${{ !cancelled() }}');
    expect(inBlock(github, 'run')[0]?.flags).toContainEqual({ name: 'pull' });
    const upload = steps.find((s) => String(s.uses).startsWith('actions/upload-artifact@'));
    const report = valueOf(inBlock(github, 'report')[0], 'out')!;
    const junit = valueOf(inBlock(github, 'run')[0], 'junit')!;
    expect(String(upload.with.path).split('\n')).toEqual(expect.arrayContaining([report, junit]));
    const promote = steps.find((s) => String(s.run).includes('models promote'));
    expect(promote.if).toContain("github.ref == 'refs/heads/main'");
    expect(steps.indexOf(promote)).toBeGreaterThan(steps.findIndex((s) => String(s.run).includes('compare runs')));
  });

  it('GitLab CI: the remote in its variables, pull before the run, report and push in after_script, the report and the JUnit file kept, promotes only on the default branch', () => {
    expect(gitlab.retrain.variables.MLPIPE_REMOTE).toMatch(/^s3:\/\//);
    expect(gitlab.retrain.cache.flatMap((c: any) => c.paths)).toEqual(['.npm/']);
    const script: string[] = gitlab.retrain.script;
    expect(script[0]).toMatch(/^npm ci\b/);
    expect(script[1]).toBe('npx mlpipe pull pipelines/iris/pipeline.yaml');
    expect(script[2]).toContain('npx mlpipe run pipelines/iris/pipeline.yaml --pull');
    expect(gitlab.retrain.after_script).toContain('npx mlpipe push pipelines/iris/pipeline.yaml');
    expect(gitlab.retrain.artifacts.when).toBe('always');
    expect(gitlab.retrain.artifacts.paths).toContain(valueOf(inBlock(gitlab, 'report')[0], 'out'));
    expect(gitlab.retrain.artifacts.reports.junit).toBe(valueOf(inBlock(gitlab, 'run')[0], 'junit'));
    expect(script.find((s: string) => s.includes('models promote'))).toContain('"$CI_COMMIT_BRANCH" = "$CI_DEFAULT_BRANCH"');
  });

  it('without a tracker server: restores and saves the same runs/ paths under the same key, saving last', () => {
    const steps = values.find((v) => Array.isArray(v?.steps) && v.steps.some((s: any) => String(s?.uses).startsWith('actions/cache/restore@')))?.steps as any[];
    const restore = steps.find((s) => String(s.uses).startsWith('actions/cache/restore@'));
    const save = steps.find((s) => String(s.uses).startsWith('actions/cache/save@'));
    for (const step of [restore, save]) expect(String(step?.with?.path).split('\n').filter(Boolean)).toEqual(['runs/cache', 'runs/models', 'runs/tracker.db']);
    expect(save.with.key).toBe(restore.with.key);
    expect(steps.indexOf(save)).toBe(steps.length - 1);
  });

  it('shows a deploy gate against production that parses', () => {
    const deploy = values.find((v) => v?.deploy?.uses === 'deploy')?.deploy;
    expect(deploy?.with?.gate).toContain('production.accuracy');
    expect(() => parseCondition(deploy.with.gate)).not.toThrow();
  });
});

describe('the docs checker itself', () => {
  const manifest: Record<string, ManifestCommand> = {
    'compare:runs': { id: 'compare:runs', strict: false, args: {}, flags: { format: { name: 'format', type: 'option', options: ['table', 'markdown'] }, json: { name: 'json', type: 'boolean' } } },
    'models:promote': { id: 'models:promote', args: { model: { required: true } }, flags: { alias: { name: 'alias', type: 'option' }, out: { name: 'out', char: 'o', type: 'option' } } },
  };

  it('splits shell lines into mlpipe invocations, past quotes, $(…), continuations and redirects', () => {
    const script = 'version=$(node -p "require(\'./a.json\').v")\nnpx mlpipe models promote "iris@$version" \\\n  --alias=production -o x > /dev/null 2>&1 && mlpipe compare runs --format markdown | tee -a "$F"';
    expect(findInvocations(script, manifest, 0).map(({ command, flags, positionals }) => ({ command, flags, positionals }))).toEqual([
      { command: 'models:promote', flags: [{ name: 'alias', value: 'production' }, { name: 'out', value: 'x' }], positionals: ['iris@$version'] },
      { command: 'compare:runs', flags: [{ name: 'format', value: 'markdown' }], positionals: [] },
    ]);
    expect(findInvocations('Restore mlpipe state', manifest, 0)).toEqual([]);
  });

  it('reports unknown commands, unknown flags, bad option values, missing and extra arguments', () => {
    const check = (s: string) => findInvocations(s, manifest, 0).flatMap((i) => checkInvocation(i, manifest));
    expect(check('mlpipe compare runs --format markdown --json')).toEqual([]);
    expect(check('mlpipe models promote iris@2 --alias production')).toEqual([]);
    expect(check('mlpipe compare run')[0]).toMatch(/^mlpipe compare run: no command "compare"/);
    expect(check('mlpipe compare runs --formt markdown')).toEqual(['mlpipe compare runs --formt markdown: mlpipe compare runs has no flag --formt']);
    expect(check('mlpipe compare runs --format html')).toEqual(['mlpipe compare runs --format html: --format html is not one of table, markdown']);
    expect(check('mlpipe models promote --alias production')).toEqual(['mlpipe models promote --alias production: expected 1 argument(s), got 0']);
    expect(check('mlpipe models promote iris@2 iris@3')).toEqual(['mlpipe models promote iris@2 iris@3: unexpected argument(s) iris@3']);
  });
});
