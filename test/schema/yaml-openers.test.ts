import { describe, expect, it } from 'vitest';
import { findUnclosedOpener } from '../../src/schema/yaml-openers.js';

describe('findUnclosedOpener', () => {
  it('finds an unclosed [ where it opened, not where the parser gave up', () => {
    expect(findUnclosedOpener('name: x\nstages:\n  a:\n    deps: [a.txt, b.txt\n    outs: [o.txt]\n    run: echo\n')).toEqual({ char: '[', offset: 31 });
  });

  it('names the innermost of nested unclosed openers', () => {
    expect(findUnclosedOpener('name: x\nstages:\n  a: { run: echo, deps: [a\n')).toEqual({ char: '[', offset: 40 });
  });

  it('takes the opener nearest before the place the parser stopped', () => {
    const text = 'a: [1\nb: [2\n';
    expect(findUnclosedOpener(text, 8)).toEqual({ char: '[', offset: 3 });
    expect(findUnclosedOpener(text)).toEqual({ char: '[', offset: 9 });
  });

  it('finds an unclosed quote', () => {
    expect(findUnclosedOpener('name: "abc\nstages: {}\n')).toEqual({ char: '"', offset: 6 });
    expect(findUnclosedOpener('a: "x\\"\nb: 1\n')).toEqual({ char: '"', offset: 3 });
  });

  it('finds nothing in well-formed YAML, escaped quotes included', () => {
    expect(findUnclosedOpener("a: 'it''s'\nb: [1, [2, 3]]\nc: \"q\\\\\"\n")).toBeUndefined();
  });
});
