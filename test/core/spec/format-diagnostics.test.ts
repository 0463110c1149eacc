import { describe, expect, it } from 'vitest';
import { formatDiagnostics } from '../../../src/render/diagnostics.js';
import type { Diagnostic } from '../../../src/schema/diagnostic.js';

const epochs: Diagnostic = {
  severity: 'error',
  path: 'stages.train.with.epochs',
  message: 'expected an integer ≥ 1, got 0',
  file: 'pipeline.yaml',
  pos: { line: 12, col: 15 },
  sourceLine: '      epochs: 0',
  hint: 'use at least 1 epoch',
};

describe('formatDiagnostics', () => {
  it('renders position, path, message, source line with a caret, hint and a closing line', () => {
    const set: Diagnostic = { severity: 'error', path: '--set params.lrr', message: 'expected a declared param (lr), got "lrr"', file: 'pipeline.yaml' };
    expect(formatDiagnostics([epochs, set], { color: false })).toMatchInlineSnapshot(`
      "pipeline.yaml:12:15 stages.train.with.epochs: expected an integer ≥ 1, got 0
        12 |       epochs: 0
           |               ^
        hint: use at least 1 epoch

      pipeline.yaml: --set params.lrr: expected a declared param (lr), got "lrr"

      2 errors in pipeline.yaml — fix them and run: mlpipe validate pipeline.yaml
      "
    `);
  });

  it('names the spec file given in the closing line, and counts warnings apart', () => {
    const warning: Diagnostic = { ...epochs, severity: 'warning', file: 'params.yaml', message: 'param "x" is not used by any stage', hint: undefined };
    expect(formatDiagnostics([warning], { color: false, file: 'pipeline.yaml' }).split('\n').at(-2)).toBe('1 warning in pipeline.yaml');
    expect(formatDiagnostics([epochs, warning], { color: false, file: 'pipeline.yaml' }).split('\n').at(-2)).toBe(
      '1 error and 1 warning in pipeline.yaml — fix it and run: mlpipe validate pipeline.yaml',
    );
  });

  it('colours only when asked', () => {
    expect(formatDiagnostics([epochs], { color: true })).toContain('\u001b[31mexpected an integer ≥ 1, got 0\u001b[39m');
    expect(formatDiagnostics([epochs], { color: false })).not.toContain('\u001b[');
  });
});
