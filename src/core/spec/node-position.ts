import { readFileSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { parseYamlFile, type PathSegment } from '../../schema/yaml-source.js';
import type { PipelineSpec, StageSpec } from './types.js';

/**
 * `file:line:col` of a node of a stage's config (`['plots', 0]`) in the spec file, for errors found
 * while the stage runs. The file is parsed again only when asked (an error path). A stage made by a
 * `foreach`/`matrix` template points at its stage entry; a spec rebuilt on a queue worker (no
 * spec hash) has no file: undefined.
 */
export function specNodePosition(spec: Pick<PipelineSpec, 'file' | 'specHash'>, stage: Pick<StageSpec, 'name' | 'kind' | 'pos'>, path: readonly PathSegment[]): string | undefined {
  if (spec.specHash === '') return undefined;
  const shown = relative(process.cwd(), spec.file);
  const file = shown === '' || shown.startsWith('..') || isAbsolute(shown) ? spec.file : shown;
  const at = (pos: { line: number; col: number }) => `${file}:${pos.line}:${pos.col}`;
  if (stage.name.includes('@')) return at(stage.pos);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(spec.file);
  } catch {
    return at(stage.pos);
  }
  const base = stage.kind === 'shell' ? ['stages', stage.name] : ['stages', stage.name, 'with'];
  const pos = parseYamlFile(spec.file, bytes).source?.posOf([...base, ...path]);
  return at(pos ?? stage.pos);
}
