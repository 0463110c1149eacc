import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../helpers/paths.js';
import { yamlBlocks as yamlBlocksOf } from '../helpers/markdown.js';

// What a user copies (the example pipelines, the YAML in README.md and docs/) must be valid against
// the JSON Schema editors use (schema/pipeline.schema.json; pipeline-json-schema.test.ts keeps that
// file equal to the declarations).

const schema = JSON.parse(readFileSync(join(repoRoot, 'schema', 'pipeline.schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);

interface Example {
  where: string;
  spec: unknown;
}

/** The ```yaml blocks of a markdown file, with the line each starts on. */
const yamlBlocks = (file: string) => yamlBlocksOf(readFileSync(join(repoRoot, file), 'utf8'));

const isStage = (v: unknown) => typeof v === 'object' && v !== null && ('run' in v || 'uses' in v);

/** A block that is a pipeline (it has `stages`) or a piece of one (a mapping of stages), as a pipeline. */
function asPipeline(text: string): unknown {
  const indent = Math.min(...text.split('\n').filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  const value = parse(text.split('\n').map((l) => l.slice(indent)).join('\n')) as Record<string, unknown> | null;
  if (value && typeof value === 'object' && typeof value.stages === 'object' && !Array.isArray(value.stages)) return value;
  if (value && typeof value === 'object' && Object.values(value).length > 0 && Object.values(value).every(isStage)) return { name: 'example', stages: value };
  return undefined;
}

function examples(): Example[] {
  const pipelines = readdirSync(join(repoRoot, 'pipelines'))
    .map((name) => join('pipelines', name, 'pipeline.yaml'))
    .filter((file) => existsSync(join(repoRoot, file)))
    .map((file) => ({ where: file, spec: parse(readFileSync(join(repoRoot, file), 'utf8')) as unknown }));
  const docs = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
  const blocks = docs.flatMap((file) => yamlBlocks(file).map((b) => ({ where: `${file}:${b.line}`, spec: asPipeline(b.text) })));
  return [...pipelines, ...blocks.filter((b) => b.spec !== undefined)];
}

const errorsOf = (spec: unknown) => (validate(spec) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`));

describe('pipeline examples against schema/pipeline.schema.json', () => {
  const all = examples();

  it('finds every example pipeline and the pipeline YAML in README.md and docs/', () => {
    expect(all.filter((e) => e.where.startsWith('pipelines/')).length).toBeGreaterThanOrEqual(6);
    expect(all.some((e) => e.where.startsWith('README.md:'))).toBe(true);
    expect(all.some((e) => e.where.startsWith('docs/'))).toBe(true);
  });

  it.each(all.map((e) => [e.where, e.spec] as const))('%s is valid', (_where, spec) => {
    expect(errorsOf(spec)).toEqual([]);
  });

  it('refuses what the loader refuses: an unknown key, a wrong type, an unknown stage kind', () => {
    const iris = parse(readFileSync(join(repoRoot, 'pipelines', 'iris', 'pipeline.yaml'), 'utf8')) as { stages: Record<string, Record<string, any>> };
    const train = Object.values(iris.stages).find((s) => s.uses === 'train')!;
    expect(errorsOf({ ...iris, stages: { ...iris.stages, extra: { run: 'echo', outz: ['x'] } } })).not.toEqual([]);
    expect(errorsOf({ ...iris, stages: { ...iris.stages, t: { ...train, with: { ...train.with, epochs: 'ten' } } } })).not.toEqual([]);
    expect(errorsOf({ ...iris, stages: { ...iris.stages, t: { uses: 'nope' } } })).not.toEqual([]);
    expect(errorsOf({ ...iris, stages: { ...iris.stages, p: { run: ['a', 'b'], outs: [{ persist: true }] } } })).not.toEqual([]);
    expect(errorsOf({ ...iris, stages: { ...iris.stages, p: { run: [], frozen: true } } })).not.toEqual([]);
    expect(errorsOf({ ...iris, stages: { ...iris.stages, p: { run: ['a', 'b'], outs: [{ path: 'c', persist: true }], frozen: true } } })).toEqual([]);
  });
});
