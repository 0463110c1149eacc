import { UserError } from '../../errors.js';
import type { Diagnostic } from '../../schema/diagnostic.js';

/** mlpipe.yaml did not load; `diagnostics` has every problem found, each with file:line:col. */
export class ConfigError extends UserError {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(`${diagnostics.filter((d) => d.severity === 'error').length} error(s) in ${diagnostics[0]?.file ?? 'mlpipe.yaml'}`);
    this.name = 'ConfigError';
    this.diagnostics = diagnostics;
  }
}
