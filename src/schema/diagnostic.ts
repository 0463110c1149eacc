/** What validation reports: a problem at a place in a source file. */
/** A position in the spec file, 1-based. */
export interface SourcePos {
  line: number;
  col: number;
}

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  /** e.g. `stages.train.with.epochs` */
  path: string;
  message: string;
  file: string;
  pos?: SourcePos;
  /** The source line, for display under the message. */
  sourceLine?: string;
  hint?: string;
}
