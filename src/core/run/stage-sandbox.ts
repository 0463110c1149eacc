import { constants } from 'node:fs';
import { cp, mkdir, mkdtemp } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, posix, relative, resolve } from 'node:path';
import type { OutputManifest } from '../hash/path-manifest.js';
import type { StageSpec } from '../spec/types.js';
import type { ObjectStore } from '../store/types.js';
import { restoreOutputs } from '../cache/stage-outputs.js';

/**
 * Where an isolated stage's declared inputs come from: a workspace input by its workspace-relative
 * path (copied from the user's workspace, or restored by a queue worker from the digests its job
 * carries), and the outputs of the direct upstream stages by their manifests in `store`.
 */
export interface SandboxSources {
  /** Writes the workspace input `rel` (a file or folder) at `dest`. */
  input(rel: string, dest: string): Promise<void>;
  /** The outputs of a finished upstream stage in this run, by output name. */
  upstream(stage: string): Record<string, OutputManifest> | undefined;
  store: ObjectStore;
  /** The code files the stage's command runs, found when it was planned (`code:PATH` inputs), spec-relative: written like inputs, so the sandbox runs the code its key was computed over. */
  code?: readonly string[];
}

/**
 * A temporary copy of the workspace for one stage, holding only what the stage declares it reads
 * (DVC's queue runs experiments in temp folders the same way): its inputs at their workspace paths,
 * its direct upstream stages' workspace outputs (shell `outs`) restored from the cache, and the
 * parent folders of its own workspace outputs. Nothing the stage writes reaches the user's workspace.
 * Paths that lead out of the spec folder (`../data`, inside the project root) land in as many
 * folders above `site` (named as the spec folder's own parents) inside `root`.
 */
export async function makeStageSandbox(
  tmpRoot: string,
  prefix: string,
  stage: StageSpec,
  upstreamStages: Record<string, StageSpec>,
  sources: SandboxSources,
  specDir: string,
): Promise<{ root: string; site: string }> {
  await mkdir(tmpRoot, { recursive: true });
  const root = await mkdtemp(join(tmpRoot, `${prefix}-ws-`));
  const site = join(root, ...parentNames(specDir, levelsUp(stage, upstreamStages, sources.code ?? [])));
  await mkdir(site, { recursive: true });
  const at = (rel: string) => inside(root, join(site, rel));
  for (const rel of [...stage.inputs, ...(sources.code ?? [])]) {
    if (isAbsolute(rel)) continue;
    await sources.input(rel, at(rel));
  }
  for (const need of stage.needs) {
    const produced = sources.upstream(need) ?? {};
    const up = upstreamStages[need];
    if (!up) continue;
    const targets = Object.entries(up.impl.outputs(up.config)).filter(([name, o]) => o.location === 'workspace' && produced[name]);
    if (targets.length === 0) continue;
    await restoreOutputs(
      sources.store,
      Object.fromEntries(targets.map(([name]) => [name, produced[name]!])),
      Object.fromEntries(targets.map(([name, o]) => [name, { path: at(o.path), link: false }])),
      { verify: true },
    );
  }
  for (const o of Object.values(stage.impl.outputs(stage.config))) {
    if (o.location === 'workspace') await mkdir(dirname(at(o.path)), { recursive: true });
  }
  const workdir = stage.impl.workdir?.(stage.config);
  if (workdir) await mkdir(at(workdir), { recursive: true });
  return { root, site };
}

/** How many folders above the spec folder the stage's relative paths reach (`../../data` → 2). */
function levelsUp(stage: StageSpec, upstreamStages: Record<string, StageSpec>, code: readonly string[]): number {
  const up = (p: string) => {
    const parts = posix.normalize(p).split('/');
    const n = parts.findIndex((s) => s !== '..');
    return n < 0 ? parts.length : n;
  };
  const outs = [stage, ...Object.values(upstreamStages)].flatMap((s) =>
    Object.values(s.impl.outputs(s.config))
      .filter((o) => o.location === 'workspace')
      .map((o) => o.path),
  );
  const workdir = stage.impl.workdir?.(stage.config);
  const paths = [...stage.inputs, ...code, ...outs, ...(workdir ? [workdir] : [])].filter((p) => !isAbsolute(p));
  return Math.max(0, ...paths.map(up));
}

/** The names of the last `levels` folders of `dir` (so `..` inside the sandbox leads where it does outside), `up-N` past the root. */
function parentNames(dir: string, levels: number): string[] {
  const names: string[] = [];
  for (let d = resolve(dir), i = 0; i < levels; i++, d = dirname(d)) names.unshift(basename(d) || `up-${i}`);
  return names;
}

/** Copies workspace inputs from the user's workspace `dir` (copy-on-write where the file system can), never the state folder. */
export function copyFromWorkspace(dir: string, runsDir: string): SandboxSources['input'] {
  const state = resolve(runsDir);
  return async (rel, dest) => {
    await mkdir(dirname(dest), { recursive: true });
    await cp(join(dir, rel), dest, {
      recursive: true,
      mode: constants.COPYFILE_FICLONE,
      preserveTimestamps: true,
      filter: (src) => {
        const r = relative(state, resolve(src));
        return r.startsWith('..') || isAbsolute(r);
      },
    });
  };
}

function inside(dir: string, rel: string): string {
  const abs = resolve(dir, rel);
  const r = relative(dir, abs);
  if (r.startsWith('..') || isAbsolute(r)) throw new TypeError(`a workspace path leaves the stage's temporary workspace: ${rel}`);
  return abs;
}
