import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Document, isMap, parseDocument, YAMLMap } from 'yaml';
import { UserError } from '../../errors.js';
import { didYouMean } from '../../schema/did-you-mean.js';
import type { Field, ObjectField } from '../../schema/fields.js';
import { parseYamlFile } from '../../schema/yaml-source.js';
import { ConfigError } from './config-error.js';
import { CONFIG_FILE, configField, REMOTE_NAME_PATTERN, remoteField, type ConfigFileValues } from './config-schema.js';
import { findConfigFile, findProjectRoot } from './find-config.js';
import { shownPath, validateConfigText } from './read-config.js';
import { isSecretKey, secretKeyProblem } from './secrets.js';

const HEADER = ' mlpipe project configuration (README: "Project configuration"). Shared and committed:\n no secrets here — passwords and keys come from the environment or an AWS profile.';

/** The mlpipe.yaml an edit writes: the nearest one, else a new one at the project root. */
export function configFileForEdit(cwd = process.cwd()): { file: string; exists: boolean } {
  const found = findConfigFile(cwd);
  return found ? { file: found, exists: true } : { file: join(findProjectRoot(cwd), CONFIG_FILE), exists: false };
}

/** What an edit did, for the command's message. */
export interface EditResult {
  file: string;
  created: boolean;
  values: ConfigFileValues;
}

/**
 * Applies `edit` to mlpipe.yaml through the `yaml` package's Document API, so comments, key order and
 * formatting the user wrote stay as they were; the result is validated (ConfigError, nothing written)
 * and written atomically. A file with a YAML syntax error is not edited.
 */
export function editConfig(edit: (doc: Document) => void, cwd = process.cwd()): EditResult {
  const { file, exists } = configFileForEdit(cwd);
  const shown = shownPath(file, cwd);
  let doc: Document;
  if (exists) {
    const bytes = readFileSync(file);
    const parsed = parseYamlFile(shown, bytes);
    if (parsed.reporter.errorCount > 0) throw new ConfigError(parsed.reporter.diagnostics.filter((d) => d.severity === 'error'));
    doc = parseDocument(bytes.toString('utf8'));
  } else {
    doc = new Document({});
    doc.commentBefore = HEADER;
  }
  if (!isMap(doc.contents)) doc.contents = doc.createNode({}) as YAMLMap;
  edit(doc);
  const text = doc.toString();
  const values = validateConfigText(shown, Buffer.from(text));
  const tmp = join(dirname(file), `.${CONFIG_FILE}.${process.pid}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
  return { file, created: !exists, values };
}

/** `remotes.origin.url` → ['remotes', 'origin', 'url'], checked against the schema; the field it names. */
export function configPath(key: string): { path: string[]; field: Field } {
  const path = key.split('.');
  let field: Field = configField;
  for (const [i, segment] of path.entries()) {
    const at = path.slice(0, i).join('.');
    if (isSecretKey(segment)) {
      const problem = secretKeyProblem(segment);
      throw new UserError(problem.message, { hint: problem.hint });
    }
    if (field.type === 'object') {
      const obj: ObjectField = field;
      if (!Object.hasOwn(obj.properties, segment)) {
        const known = Object.keys(obj.properties);
        throw new UserError(`unknown setting "${key}"${at ? ` (${at} has ${known.join(', ')})` : ''}`, {
          hint: didYouMean(segment, known) ?? `settings: ${known.join(', ')}; a remote's: remotes.NAME.${Object.keys(remoteField.properties).join('|')}`,
        });
      }
      field = obj.properties[segment];
    } else if (field.type === 'map') {
      if (!new RegExp(REMOTE_NAME_PATTERN).test(segment)) throw new UserError(`"${segment}" is not a remote name (letters, digits, _ . -)`);
      field = field.values;
    } else {
      throw new UserError(`unknown setting "${key}": ${at} is a single value`);
    }
  }
  return { path, field };
}

/** A command-line value as the field's type: `true`/`false` for booleans, the text otherwise. */
export function parseValue(key: string, field: Field, text: string): unknown {
  if (field.type === 'boolean') {
    if (/^(true|yes|on|1)$/i.test(text)) return true;
    if (/^(false|no|off|0)$/i.test(text)) return false;
    throw new UserError(`${key} is true or false, got "${text}"`);
  }
  if (field.type === 'string') return text;
  throw new UserError(`${key} is ${field.type === 'map' || field.type === 'object' ? 'a group of settings' : 'not a single value'}: set its keys one by one, e.g. mlpipe config set ${key}.${field.type === 'map' ? 'NAME.url' : 'KEY'} VALUE`);
}

/** `mlpipe config set KEY VALUE`. */
export function setConfigValue(key: string, text: string, cwd = process.cwd()): EditResult {
  const { path, field } = configPath(key);
  const value = parseValue(key, field, text);
  return editConfig((doc) => doc.setIn(path, value), cwd);
}

/** `mlpipe config unset KEY`; false when the key was not set. */
export function unsetConfigValue(key: string, cwd = process.cwd()): EditResult & { removed: boolean } {
  const path = key.split('.');
  let removed = false;
  const result = editConfig((doc) => {
    removed = doc.hasIn(path);
    if (removed) doc.deleteIn(path);
    dropEmpty(doc, path.slice(0, -1));
  }, cwd);
  return { ...result, removed };
}

/** Removes the now-empty mappings along `path` (an empty `remotes:` after the last remote goes). */
function dropEmpty(doc: Document, path: string[]): void {
  for (let n = path.length; n > 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (isMap(node) && node.items.length === 0) doc.deleteIn(path.slice(0, n));
    else return;
  }
}

/** `remotes.NAME` as written. */
export interface RemoteSettings {
  url: string;
  endpoint?: string;
  region?: string;
  pathStyle?: boolean;
  profile?: string;
}

/** `mlpipe remote add NAME URL`: the first remote becomes the default, or any with `makeDefault`. */
export function addRemote(name: string, remote: RemoteSettings, opts: { makeDefault?: boolean; force?: boolean } = {}, cwd = process.cwd()): EditResult & { isDefault: boolean } {
  if (!new RegExp(REMOTE_NAME_PATTERN).test(name)) throw new UserError(`"${name}" is not a remote name`, { hint: 'use letters, digits, _ . and -, e.g. origin or team-s3' });
  let isDefault = false;
  const result = editConfig((doc) => {
    if (doc.hasIn(['remotes', name]) && !opts.force) {
      throw new UserError(`a remote named "${name}" exists (${String(doc.getIn(['remotes', name, 'url']))})`, { hint: `remove it first (mlpipe remote remove ${name}), pass --force to replace it, or change one setting: mlpipe config set remotes.${name}.url URL` });
    }
    const written = Object.fromEntries(
      Object.entries({ url: remote.url, endpoint: remote.endpoint, region: remote.region, path_style: remote.pathStyle, profile: remote.profile }).filter(([, v]) => v !== undefined),
    );
    const remotes = doc.getIn(['remotes'], true);
    if (!isMap(remotes)) doc.setIn(['remotes'], doc.createNode({}));
    doc.setIn(['remotes', name], doc.createNode(written));
    const hasDefault = doc.hasIn(['default_remote']);
    if (opts.makeDefault || !hasDefault) {
      doc.setIn(['default_remote'], name);
      isDefault = true;
    }
  }, cwd);
  return { ...result, isDefault };
}

/** `mlpipe remote remove NAME`; a default_remote naming it goes too. */
export function removeRemote(name: string, cwd = process.cwd()): EditResult & { wasDefault: boolean } {
  let wasDefault = false;
  const result = editConfig((doc) => {
    requireRemote(doc, name);
    doc.deleteIn(['remotes', name]);
    dropEmpty(doc, ['remotes']);
    if (doc.getIn(['default_remote']) === name) {
      doc.deleteIn(['default_remote']);
      wasDefault = true;
    }
  }, cwd);
  return { ...result, wasDefault };
}

/** `mlpipe remote default NAME`. */
export function setDefaultRemote(name: string, cwd = process.cwd()): EditResult {
  return editConfig((doc) => {
    requireRemote(doc, name);
    doc.setIn(['default_remote'], name);
  }, cwd);
}

function requireRemote(doc: Document, name: string): void {
  if (doc.hasIn(['remotes', name])) return;
  const remotes = doc.getIn(['remotes'], true);
  const names = isMap(remotes) ? remotes.items.map((p) => String((p.key as { value?: unknown })?.value ?? p.key)) : [];
  throw new UserError(`no remote named "${name}"${names.length ? ` (the remotes are ${names.join(', ')})` : ' (no remotes are configured)'}`, {
    hint: didYouMean(name, names) ?? `add it: mlpipe remote add ${name} URL`,
  });
}

