/**
 * Project configuration (mlpipe.yaml): discovery, validation, the resolver every command uses
 * (flag > environment > mlpipe.yaml > default) and edits that keep the user's comments.
 */
export { CONFIG_FILE, configField, remoteField, type ConfigFileValues, type RemoteEntry } from './config-schema.js';
export { ConfigError } from './config-error.js';
export { findConfigFile, findGitRoot, findProjectRoot } from './find-config.js';
export { readConfigFile, validateConfigText, type ConfigFile } from './read-config.js';
export {
  CONFIG_ENV,
  CONFIG_FLAG,
  ProjectConfig,
  resolveConfig,
  FILE_KEY,
  type ConfigFlags,
  type ConfigKey,
  type ConfigSource,
  type Executor,
  type RemoteTarget,
  type ResolveOptions,
  type Setting,
} from './resolve-config.js';
