import { UserError } from '../../errors.js';
import type { ModelRegistry } from '../../core/tracker/types.js';
import type { ModelRef } from './model-ref.js';
import { resolveModel } from './resolve-model.js';

const ALIAS = /^[A-Za-z0-9_.-]+$/;

/** What `models promote` and `models rollback` did. */
export interface AliasMove {
  schemaVersion: 1;
  name: string;
  alias: string;
  /** The version the alias points at now. */
  version: number;
  /** The version it pointed at before, if any. */
  previous: number | null;
  /** False when the alias already pointed at `version`. */
  changed: boolean;
}

/** An alias that cannot be rolled back: it is not set, or it has no earlier holder. */
export class NoAliasHistoryError extends UserError {
  constructor(name: string, alias: string, reason: string) {
    super(`cannot roll back ${name}@${alias}: ${reason}`, { hint: `move it with: mlpipe models promote ${name}@VERSION --alias ${alias}` });
    this.name = 'NoAliasHistoryError';
  }
}

/** `--alias` names an alias: a word, not a version number or `latest`. */
export class InvalidAliasError extends UserError {
  constructor(alias: string, reason: string) {
    super(`invalid --alias "${alias}": ${reason}`, { hint: 'use a word such as production or staging: --alias production' });
    this.name = 'InvalidAliasError';
  }
}

function checkAlias(alias: string): void {
  if (!ALIAS.test(alias)) throw new InvalidAliasError(alias, 'an alias may hold only letters, digits, "_", "." and "-"');
  if (/^v?\d+$/.test(alias)) throw new InvalidAliasError(alias, 'it would read as a version number');
  if (alias === 'latest') throw new InvalidAliasError(alias, '"latest" always means the newest version');
}

/** Points `alias` at the version `ref` names (a version, or another alias's holder). */
export async function promoteModel(registry: ModelRegistry, ref: ModelRef, alias: string): Promise<AliasMove> {
  checkAlias(alias);
  const target = await resolveModel(registry, ref);
  const previous = await registry.getModel(ref.name, alias);
  const held = previous !== undefined && previous.aliases.includes(alias) ? previous.version : null;
  await registry.setAlias(ref.name, alias, target.version);
  return { schemaVersion: 1, name: ref.name, alias, version: target.version, previous: held, changed: held !== target.version };
}

/** What `models unalias` did. */
export interface AliasRemoval {
  schemaVersion: 1;
  name: string;
  alias: string;
  /** The version the alias pointed at. */
  version: number;
}

/** An alias to remove that the model does not have; the message lists the aliases it has. */
export class AliasNotSetError extends UserError {
  constructor(name: string, alias: string, known: string) {
    super(`${name} has no alias "${alias}"${known}`, { hint: `list versions and aliases with: mlpipe models list ${name}` });
    this.name = 'AliasNotSetError';
  }
}

async function aliasesOf(registry: ModelRegistry, name: string): Promise<string> {
  const holders = (await registry.listModels(name)).filter((m) => m.aliases.length > 0);
  return holders.length ? `; aliases of ${name}: ${holders.flatMap((m) => m.aliases.map((a) => `${a} → v${m.version}`)).join(', ')}` : `; ${name} has no aliases`;
}

/** Removes `alias` from the model; a server following it keeps the version it has loaded. Its history no longer counts for a rollback. */
export async function removeModelAlias(registry: ModelRegistry, name: string, alias: string): Promise<AliasRemoval> {
  checkAlias(alias);
  await resolveModel(registry, { name, selector: { kind: 'latest' }, text: name });
  const version = await registry.removeAlias(name, alias);
  if (version === undefined) throw new AliasNotSetError(name, alias, await aliasesOf(registry, name));
  return { schemaVersion: 1, name, alias, version };
}

/** Moves `alias` back to the version that held it before the last promotion. */
export async function rollbackModel(registry: ModelRegistry, name: string, alias: string): Promise<AliasMove> {
  checkAlias(alias);
  await resolveModel(registry, { name, selector: { kind: 'latest' }, text: name });
  const current = await registry.getModel(name, alias);
  if (!current || !current.aliases.includes(alias)) throw new NoAliasHistoryError(name, alias, `${name} has no alias "${alias}"${await aliasesOf(registry, name)}`);
  const version = await registry.rollbackAlias(name, alias);
  if (version === undefined) throw new NoAliasHistoryError(name, alias, `v${current.version} is the only version that has held it`);
  return { schemaVersion: 1, name, alias, version, previous: current.version, changed: true };
}
