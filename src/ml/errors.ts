import { UserError } from '../errors.js';

/** Where in the data a problem was found. `row` is the 1-based data record (header excluded); `line` the 1-based line in the file. */
export interface DataLocation {
  file?: string;
  row?: number;
  line?: number;
  column?: string;
}

export interface DataErrorOptions extends DataLocation {
  /** How to fix it, one sentence. */
  hint?: string;
  cause?: unknown;
  /** The node of the stage's config that named what is wrong (`['keep', 1]`), for the stage to point at its spec line. */
  configPath?: (string | number)[];
}

/**
 * Bad or unusable input data: a ragged CSV row, a non-numeric value in a numeric column, a missing
 * target column, a label with a single class. The message starts with the location
 * (`data/iris.csv:12 (row 11), column "sepal_length": …`) and ends with the hint.
 */
export class DataError extends UserError {
  readonly file?: string;
  readonly row?: number;
  readonly line?: number;
  readonly column?: string;
  readonly reason: string;
  /** The hint, kept apart from the message (where it is already written). */
  readonly hintText?: string;
  readonly configPath?: (string | number)[];

  constructor(reason: string, options: DataErrorOptions = {}) {
    const { hint, cause, configPath, ...loc } = options;
    const where = formatLocation(loc);
    super(`${where ? `${where}: ` : ''}${reason}${hint ? `\n  hint: ${hint}` : ''}`, { cause });
    this.name = 'DataError';
    this.reason = reason;
    this.hintText = hint;
    this.configPath = configPath;
    this.file = loc.file;
    this.row = loc.row;
    this.line = loc.line;
    this.column = loc.column;
  }
}

/** A dataset folder whose meta.json or tensor files are missing, malformed or of the wrong size. */
export class DatasetCorruptError extends UserError {
  readonly dir: string;
  constructor(dir: string, reason: string, options: { cause?: unknown } = {}) {
    super(`dataset ${dir} is unreadable: ${reason}\n  hint: re-run the preprocess stage that produced it`, options);
    this.name = 'DatasetCorruptError';
    this.dir = dir;
  }
}

function formatLocation(loc: DataLocation): string {
  const parts: string[] = [];
  if (loc.file !== undefined) {
    const line = loc.line !== undefined ? `:${loc.line}` : '';
    const row = loc.row !== undefined ? ` (row ${loc.row})` : '';
    parts.push(`${loc.file}${line}${row}`);
  } else if (loc.row !== undefined) {
    parts.push(`row ${loc.row}`);
  }
  if (loc.column !== undefined) parts.push(`column ${JSON.stringify(loc.column)}`);
  return parts.join(', ');
}
