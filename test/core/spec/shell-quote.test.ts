import { execFile } from 'node:child_process';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { interpolateParams, substituteOutputRefs } from '../../../src/core/spec/interpolate.js';
import { shellContextsAt } from '../../../src/core/spec/shell-quote.js';

/** Awaited: a worker blocked on a child process cannot answer the test runner (README, Development). */
const run = promisify(execFile);

const contextAt = (command: string, needle = '${params.v}') => shellContextsAt(command, [command.indexOf(needle)])[0];

/**
 * Interpolates each `v` into its `command` as a `run:` line and runs them all with dash and with bash (one
 * process per shell, each line in its own subshell); returns per case what each shell printed and its status.
 */
async function runAll(cases: Array<[command: string, v: string]>): Promise<string[][]> {
  const lines = cases.map(([command, v]) => {
    const r = interpolateParams({ run: command }, { v }, [], { commands: new Set(['run']) });
    expect(r.issues).toEqual([]);
    return (r.value as { run: string }).run;
  });
  const script = lines.map((line) => `(\n${line}\n)\nprintf '\\000%s\\000' $?\n`).join('');
  const outputs = await Promise.all(
    ['dash', 'bash'].map(async (sh) => {
      const parts = (await run(sh, ['-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH }, cwd: scratch })).stdout.split('\0');
      return cases.map((_, i) => `${parts[2 * i + 1]}:${parts[2 * i]}`);
    }),
  );
  return cases.map((_, i) => outputs.map((o) => o[i]));
}

const scratch = mkdtempSync(join(tmpdir(), 'mlpipe-quote-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('shell contexts', () => {
  it('tells quoted, unquoted, substituted, commented and here-document spots apart', () => {
    expect(contextAt('echo ${params.v}')).toBe('bare');
    expect(contextAt('echo "a ${params.v}"')).toBe('double');
    expect(contextAt("echo 'a ${params.v}'")).toBe('single');
    expect(contextAt('echo "$(cat ${params.v})"')).toBe('bare');
    expect(contextAt('echo "`cat ${params.v}`"')).toBe('backtick');
    expect(contextAt('echo `a \\`b ${params.v}\\``')).toBe('nested-backtick');
    expect(contextAt('echo "${X:-${params.v}}"')).toBe('expansion');
    expect(contextAt('echo ${X:-${params.v}}')).toBe('expansion');
    expect(contextAt('echo $(( ${params.v} + 1 ))')).toBe('bare');
    expect(contextAt("echo \"it's\" ${params.v}")).toBe('bare');
    expect(contextAt('echo \\" ${params.v}')).toBe('bare');
    expect(contextAt('echo a#b ${params.v}')).toBe('bare');
    expect(contextAt('echo x # ${params.v}')).toBe('comment');
    expect(contextAt('echo x # c\necho ${params.v}')).toBe('bare');
    expect(contextAt('cat <<EOF\n${params.v}\nEOF\necho')).toBe('heredoc');
    expect(contextAt("cat <<-'EOF' >f\n\t${params.v}\n\tEOF")).toBe('heredoc-literal');
    expect(contextAt('cat <<EOF\nx\nEOF\necho ${params.v}')).toBe('bare');
    expect(contextAt('echo \\${params.v}')).toBe('escaped');
  });
});

describe('params in run: commands', () => {
  it('arrive as one word whatever they hold (the payloads of issue 14)', async () => {
    const r = interpolateParams({ run: 'echo ${params.msg} > out.txt', env: { M: '${params.msg}' } }, { msg: 'x; touch F' }, [], { commands: new Set(['run']) });
    expect(r.value).toEqual({ run: "echo 'x; touch F' > out.txt", env: { M: 'x; touch F' } });
    const payloads = ['x; touch F', 'x$(touch F)', 'x`touch F`', 'x && touch F', 'x | touch F', "x' ; touch F ; '", 'x"; touch F; "', '$(touch F)', '*', 'a\nb'];
    const commands = ['printf %s ${params.v}', 'printf %s "${params.v}"', "printf %s '${params.v}'", 'printf %s "$(printf %s ${params.v})"'];
    const cases = payloads.flatMap((p) => commands.map((c): [string, string] => [c, p]));
    expect(await runAll(cases)).toEqual(cases.map(([, p]) => [`0:${p}`, `0:${p}`]));
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('are one word in every context for any text (both dash and bash run the result)', async () => {
    const text = fc.string({ unit: fc.constantFrom(...' \t\n\'"\\$`;&|<>(){}[]*?~#!=%,.-_aZ09é中'.split('')), maxLength: 12 });
    const templates: Array<[string, (v: string) => string]> = [
      ['printf %s ${params.v}', (v) => v],
      ['printf %s "a${params.v}b"', (v) => `a${v}b`],
      ["printf %s 'a${params.v}b'", (v) => `a${v}b`],
      ['printf %s "$(printf %s ${params.v}x)"', (v) => `${v}x`],
      ["printf %s \"`printf %s ${params.v}x`\"", (v) => `${v}x`],
      ["x=`printf %s ${params.v}x`; printf %s \"$x\"", (v) => `${v}x`],
      ['printf %s "$(printf %s "${params.v}")"', (v) => v],
      ['# a comment ${params.v}\nprintf %s ok', () => 'ok'],
    ];
    const samples = fc.sample(fc.tuple(text, fc.integer({ min: 0, max: templates.length - 1 })), { numRuns: 200, seed: 14 });
    const cases = samples.map(([v, t]): [string, string] => [templates[t][0], v]);
    const printed = await runAll(cases);
    samples.forEach(([v, t], i) => expect(printed[i], `${JSON.stringify(v)} in ${templates[t][0]}`).toEqual([`0:${templates[t][1](v)}`, `0:${templates[t][1](v)}`]));
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('reach a here-document as written, and one holding a line break is refused', async () => {
    expect(await runAll([['cat <<EOF\n${params.v}\nEOF', 'a $HOME `id` \\n'], ["cat <<'EOF'\n${params.v}\nEOF", 'a $HOME']])).toEqual([
      ['0:a $HOME `id` \\n\n', '0:a $HOME `id` \\n\n'],
      ['0:a $HOME\n', '0:a $HOME\n'],
    ]);
    const r = interpolateParams({ run: 'cat <<EOF\n${params.v}\nEOF' }, { v: 'x\nEOF\ntouch F' }, [], { commands: new Set(['run']) });
    expect(r.issues.map((i) => i.message)).toEqual(['expected a param that can be quoted into the command, got ${params.v} whose value holds a line break, which could end the here-document it is spliced into']);
  });

  it('keep numbers and plain words as written, so safe commands and their cache keys do not change', () => {
    const r = interpolateParams({ run: 'train --lr ${params.lr} --name ${params.name} --on=${params.on} --layers ${params.layers}' }, { lr: 0.01, name: 'iris-v2/a.b', on: true, layers: [4, 2] }, [], {
      commands: new Set(['run']),
    });
    expect((r.value as { run: string }).run).toBe("train --lr 0.01 --name iris-v2/a.b --on=true --layers '[4,2]'");
  });

  it('a lone placeholder is still one quoted word; ${raw.params.x} splices shell text on purpose', () => {
    const opts = { commands: new Set(['run']) };
    expect(interpolateParams({ run: '${params.cmd}' }, { cmd: 'echo a b' }, [], opts).value).toEqual({ run: "'echo a b'" });
    const raw = interpolateParams({ run: 'echo ${raw.params.flags}' }, { flags: '-n a; echo b' }, [], opts);
    expect(raw.value).toEqual({ run: 'echo -n a; echo b' });
    expect(raw.used).toEqual({ flags: '-n a; echo b' });
    expect(interpolateParams({ x: 'a ${raw.params.flags}' }, { flags: 'b c' }).value).toEqual({ x: 'a b c' });
  });

  it('output paths spliced into a command are quoted too', () => {
    const out = substituteOutputRefs({ run: 'wc -c ${stages.a.outputs.o} "${stages.a.outputs.o}"', deps: ['${stages.a.outputs.o}'] }, () => 'out dir/a b.txt', new Set(['run']));
    expect(out).toEqual({ run: `wc -c 'out dir/a b.txt' "out dir/a b.txt"`, deps: ['out dir/a b.txt'] });
  });
});
