import { DiagnosticsError } from '../../errors.js';
import type { Diagnostic } from '../../schema/diagnostic.js';

/** mlpipe.yaml did not load: rendered as a spec's diagnostics are, closing with `mlpipe config list`. */
export class ConfigError extends DiagnosticsError<Diagnostic> {
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics, { file: 'mlpipe.yaml', recheck: 'mlpipe config list' });
    this.name = 'ConfigError';
  }
}
