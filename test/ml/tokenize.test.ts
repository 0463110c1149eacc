import { describe, expect, it } from 'vitest';
import { buildVocab, encodeTokens, tokenize, vocabIndex } from '../../src/ml/tokenize.js';

describe('tokenize', () => {
  it('splits Chinese into words with Intl.Segmenter', () => {
    expect(tokenize('我爱中国', 'word')).toEqual(['我', '爱', '中国']);
    expect(tokenize('今天天气很好！', 'word')).toEqual(['今天', '天气', '很好']);
  });

  it('keeps word-like segments only and lower-cases when asked', () => {
    expect(tokenize("Hello, World! It's 2 o'clock.", 'word', true)).toEqual(['hello', 'world', "it's", '2', "o'clock"]);
  });

  it('splits into user-perceived characters, dropping spaces', () => {
    expect(tokenize('我爱 中国', 'char')).toEqual(['我', '爱', '中', '国']);
    expect(tokenize('e\u0301 👍🏽', 'char')).toEqual(['e\u0301', '👍🏽']);
  });

  it('splits on whitespace, keeping punctuation', () => {
    expect(tokenize('  Free entry!!  now\tplease\n', 'whitespace')).toEqual(['Free', 'entry!!', 'now', 'please']);
  });
});

describe('vocabulary and sequences', () => {
  const docs = [['b', 'a', 'c'], ['a', 'b'], ['d', 'a']];

  it('ranks by frequency, breaks ties by code unit, and caps the size', () => {
    expect(buildVocab(docs, 100, '<oov>')).toEqual(['<pad>', '<oov>', 'a', 'b', 'c', 'd']);
    expect(buildVocab(docs, 4, '<oov>')).toEqual(['<pad>', '<oov>', 'a', 'b']);
  });

  it('maps unknown tokens to the OOV id 1', () => {
    const index = vocabIndex(buildVocab(docs, 4, '[UNK]'));
    const out = new Int32Array(4);
    encodeTokens(['a', 'zebra', 'b', 'c'], index, { maxLength: 4, padding: 'post', truncating: 'post' }, out);
    expect(Array.from(out)).toEqual([2, 1, 3, 1]);
  });

  it('pads and truncates before or after', () => {
    const index = new Map([['a', 2], ['b', 3], ['c', 4]]);
    const run = (tokens: string[], padding: 'pre' | 'post', truncating: 'pre' | 'post') => {
      const out = new Int32Array(6).fill(9);
      encodeTokens(tokens, index, { maxLength: 3, padding, truncating }, out, 2);
      return Array.from(out);
    };
    expect(run(['a'], 'pre', 'post')).toEqual([9, 9, 0, 0, 2, 9]);
    expect(run(['a'], 'post', 'post')).toEqual([9, 9, 2, 0, 0, 9]);
    expect(run(['a', 'b', 'c', 'a'], 'pre', 'post')).toEqual([9, 9, 2, 3, 4, 9]);
    expect(run(['a', 'b', 'c', 'a'], 'pre', 'pre')).toEqual([9, 9, 3, 4, 2, 9]);
  });
});
