import { UserError } from '../../errors.js';

/** What a model reference asks for: the newest version, one version, or the holder of an alias. */
export type ModelSelector = { kind: 'latest' } | { kind: 'version'; version: number } | { kind: 'alias'; alias: string };

/** A parsed `NAME`, `NAME@VERSION` or `NAME@ALIAS`. */
export interface ModelRef {
  name: string;
  selector: ModelSelector;
  /** The reference as the user wrote it. */
  text: string;
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/** A model reference that is not `NAME`, `NAME@VERSION` or `NAME@ALIAS`. */
export class InvalidModelRefError extends UserError {
  constructor(
    readonly ref: string,
    reason: string,
  ) {
    super(`invalid model reference "${ref}": ${reason}`, { hint: 'write NAME, NAME@VERSION (e.g. iris@3) or NAME@ALIAS (e.g. iris@production); list models with: mlpipe models list' });
    this.name = 'InvalidModelRefError';
  }
}

/** Parses `NAME[@VERSION|@ALIAS]`; a version is a positive integer, with or without a leading `v`. */
export function parseModelRef(text: string): ModelRef {
  const at = text.indexOf('@');
  const name = at < 0 ? text : text.slice(0, at);
  if (!NAME.test(name)) throw new InvalidModelRefError(text, name ? `the name "${name}" may hold only letters, digits, "_", "." and "-"` : 'the model name is missing');
  if (at < 0) return { name, selector: { kind: 'latest' }, text };
  const which = text.slice(at + 1);
  const version = /^v?(\d+)$/.exec(which);
  if (version) {
    const n = Number(version[1]);
    if (!Number.isSafeInteger(n) || n < 1) throw new InvalidModelRefError(text, `version ${which} is not a positive integer`);
    return { name, selector: { kind: 'version', version: n }, text };
  }
  if (!NAME.test(which)) throw new InvalidModelRefError(text, which ? `the alias "${which}" may hold only letters, digits, "_", "." and "-"` : 'nothing follows "@"');
  return { name, selector: { kind: 'alias', alias: which }, text };
}

/** `iris@3`, `iris@production`, `iris`. */
export function formatModelRef(ref: Pick<ModelRef, 'name' | 'selector'>): string {
  const s = ref.selector;
  return s.kind === 'latest' ? ref.name : `${ref.name}@${s.kind === 'version' ? s.version : s.alias}`;
}

/** True when the reference names a moving target (an alias, or the latest version) that a server should follow. */
export function isMovingRef(ref: ModelRef): boolean {
  return ref.selector.kind !== 'version';
}
