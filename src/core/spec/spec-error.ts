import { UserError } from '../../errors.js';
import type { Diagnostic } from '../../schema/diagnostic.js';

/** The spec did not load; `diagnostics` has every problem found. */
export class SpecError extends UserError {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(`${diagnostics.filter((d) => d.severity === 'error').length} error(s) in ${diagnostics[0]?.file ?? 'the spec'}`);
    this.name = 'SpecError';
    this.diagnostics = diagnostics;
  }
}
