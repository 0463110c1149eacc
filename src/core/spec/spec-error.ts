import { DiagnosticsError } from '../../errors.js';
import type { Diagnostic } from '../../schema/diagnostic.js';

/** The spec did not load; `diagnostics` has every problem found. */
export class SpecError extends DiagnosticsError<Diagnostic> {
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics, { file: 'the spec' });
    this.name = 'SpecError';
  }
}
