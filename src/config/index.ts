export { applyEnvironment, ENV_FIELDS, envName } from './env.js';
export { ConfigError } from './error.js';
export { loadConfig, parseListenAddress, readConfig, type LoadedConfig, type LoadOptions } from './load.js';
export { configSchema, type Config } from './schema.js';
