import { describe, expect, it } from 'vitest';
import { ancestors, descendants, renderDagText, renderDot, renderMermaid, subgraphFor, topoOrder, UnknownStageError, type DagSpec } from '../../src/core/graph.js';

const edges = (o: Record<string, string[]>): Map<string, string[]> => new Map(Object.entries(o));

describe('topoOrder', () => {
  it('puts dependencies first and breaks ties by the given node order', () => {
    expect(topoOrder(['d', 'c', 'b', 'a'], edges({ d: ['b', 'c'], b: ['a'], c: ['a'] }))).toEqual({ ok: true, order: ['a', 'c', 'b', 'd'] });
    expect(topoOrder(['x', 'y', 'z'], edges({}))).toEqual({ ok: true, order: ['x', 'y', 'z'] });
    expect(topoOrder(['late', 'early', 'mid'], edges({ late: ['mid'] }))).toEqual({ ok: true, order: ['early', 'mid', 'late'] });
  });

  it('ignores edges to unknown nodes and repeated edges', () => {
    expect(topoOrder(['a', 'b'], edges({ b: ['a', 'a', 'ghost'] }))).toEqual({ ok: true, order: ['a', 'b'] });
  });

  it('returns a cycle in data-flow order, starting at its earliest node', () => {
    expect(topoOrder(['prepare', 'train', 'evaluate'], edges({ train: ['prepare', 'evaluate'], evaluate: ['train'] }))).toEqual({
      ok: false,
      cycle: ['train', 'evaluate', 'train'],
    });
    expect(topoOrder(['a', 'b', 'c', 'd'], edges({ a: ['c'], b: ['a'], c: ['b'], d: ['c'] }))).toEqual({ ok: false, cycle: ['a', 'b', 'c', 'a'] });
    expect(topoOrder(['solo'], edges({ solo: ['solo'] }))).toEqual({ ok: false, cycle: ['solo', 'solo'] });
  });
});

//   prepare ──> train ──> evaluate ──> report
//      │           └────> deploy
//      └──────────────────> evaluate
//   lint (alone)
const spec: DagSpec = {
  order: ['prepare', 'lint', 'train', 'evaluate', 'deploy', 'report'],
  stages: {
    prepare: { needs: [], kind: 'preprocess' },
    lint: { needs: [], kind: 'shell' },
    train: { needs: ['prepare'], kind: 'train' },
    evaluate: { needs: ['prepare', 'train'], kind: 'evaluate' },
    deploy: { needs: ['train', 'evaluate'], kind: 'deploy' },
    report: { needs: ['evaluate'], kind: 'shell' },
  },
};

describe('graph walks', () => {
  it('ancestors and descendants, in spec order', () => {
    expect(ancestors(spec, 'deploy')).toEqual(['prepare', 'train', 'evaluate']);
    expect(ancestors(spec, 'prepare')).toEqual([]);
    expect(descendants(spec, 'train')).toEqual(['evaluate', 'deploy', 'report']);
    expect(descendants(spec, 'lint')).toEqual([]);
  });

  it('subgraphFor: the stages plus all they need', () => {
    expect(subgraphFor(spec, ['report'])).toEqual(['prepare', 'train', 'evaluate', 'report']);
    expect(subgraphFor(spec, ['lint', 'train'])).toEqual(['prepare', 'lint', 'train']);
  });

  it('throws a typed error for an unknown stage', () => {
    expect(() => subgraphFor(spec, ['trian'])).toThrowErrorMatchingInlineSnapshot(`[UnknownStageError: unknown stage "trian" (stages: prepare, lint, train, evaluate, deploy, report); did you mean "train"?]`);
    expect(() => ancestors(spec, 'nope')).toThrow(UnknownStageError);
  });
});

describe('rendering', () => {
  it('as an indented tree', () => {
    expect(renderDagText(spec)).toMatchInlineSnapshot(`
      "prepare (preprocess)
      ├── train (train)
      │   ├── evaluate (evaluate)
      │   │   ├── deploy (deploy)
      │   │   └── report (shell)
      │   └── deploy (deploy)
      └── evaluate (evaluate) (see above)
      lint (shell)
      "
    `);
  });

  it('as Mermaid', () => {
    expect(renderMermaid(spec)).toMatchInlineSnapshot(`
      "flowchart TD
        s0["prepare (preprocess)"]
        s1["lint (shell)"]
        s2["train (train)"]
        s3["evaluate (evaluate)"]
        s4["deploy (deploy)"]
        s5["report (shell)"]
        s0 --> s2
        s0 --> s3
        s2 --> s3
        s2 --> s4
        s3 --> s4
        s3 --> s5
      "
    `);
  });

  it('as DOT', () => {
    expect(renderDot(spec)).toMatchInlineSnapshot(`
      "digraph pipeline {
        rankdir=LR;
        node [shape=box];
        "prepare" [label="prepare (preprocess)"];
        "lint" [label="lint (shell)"];
        "train" [label="train (train)"];
        "evaluate" [label="evaluate (evaluate)"];
        "deploy" [label="deploy (deploy)"];
        "report" [label="report (shell)"];
        "prepare" -> "train";
        "prepare" -> "evaluate";
        "train" -> "evaluate";
        "train" -> "deploy";
        "evaluate" -> "deploy";
        "evaluate" -> "report";
      }
      "
    `);
  });
});
