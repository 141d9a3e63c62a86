import { readFileSync } from 'node:fs';
import { applyEnvironment, ENV_FIELDS, envName } from './env.js';
import { ConfigError } from './error.js';
import { lineAndColumn, stripJsonComments } from './jsonc.js';
import { configSchema, type Config } from './schema.js';
import { refuseUnknownSettings } from './unknown.js';

/** Where to read the configuration from. */
export interface LoadOptions {
  /** The JSON file; default `emitter.conf` in the working directory. */
  readonly path?: string;
  /** True when the path came from `-config`: then a missing file is an error. */
  readonly explicitPath?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/** A validated configuration and where it came from (for the start banner). */
export interface LoadedConfig {
  readonly config: Config;
  /** The file read, or undefined when there was none (embedded defaults). */
  readonly file: string | undefined;
  /** The `EMITTER_*` variables that were applied (names only: values may be secrets). */
  readonly variables: readonly string[];
}

/** Reads the config file (if any), applies `EMITTER_*` overrides and validates; never writes a file. */
export function loadConfig(options: LoadOptions = {}): Config {
  return readConfig(options).config;
}

/**
 * `loadConfig` that also says which file and variables it used. The file is JSON; `//` and `/* *\/`
 * comments and trailing commas are allowed (as in `emitter.conf.example`). Unknown settings are refused.
 */
export function readConfig(options: LoadOptions = {}): LoadedConfig {
  const path = options.path ?? 'emitter.conf';
  const env = options.env ?? {};
  const file = readConfigFile(path, options.explicitPath ?? false);
  refuseUnknownSettings(file ?? {}, env, configSchema, path);
  const merged = applyEnvironment(file ?? {}, env);
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue.path.join('.') || '(root)';
    throw new ConfigError(`config: ${field}: ${issue.message}`);
  }
  const variables = Object.keys(env)
    .filter((name) => name.startsWith('EMITTER_') && env[name] !== undefined)
    .filter((name) => Object.keys(ENV_FIELDS).some((field) => name.startsWith(envName(field))))
    .sort();
  return { config: result.data, file: file === undefined ? undefined : path, variables };
}

type JsonObject = Parameters<typeof applyEnvironment>[0];

function readConfigFile(path: string, explicit: boolean): JsonObject | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!explicit && code === 'ENOENT') return undefined;
    throw new ConfigError(`config: cannot read ${path}: ${readProblem(code, error as Error)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(stripJsonComments(text));
  } catch (error) {
    throw new ConfigError(`config: ${path} is not valid JSON: ${jsonProblem(text, error as Error)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`config: ${path} must hold a JSON object`);
  }
  return value as JsonObject;
}

function readProblem(code: string | undefined, error: Error): string {
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return error.message;
  }
}

// JSON.parse says "... at position N" (Node 20); a line and column are easier to find.
function jsonProblem(text: string, error: Error): string {
  const position = /at position (\d+)/.exec(error.message);
  const message = error.message
    .replace(/ in JSON at position \d+.*$/, '')
    .replace(/ \(line \d+ column \d+\)$/, '');
  return position ? `${message} at ${lineAndColumn(text, Number(position[1]))}` : error.message;
}

/** Parses a listen address: `:8080`, `127.0.0.1:9000`, `[::1]:9000`, `localhost:1883` or a bare host. */
export function parseListenAddress(text: string, defaultPort: number): { host: string; port: number } {
  const value = text.trim();
  let host = value;
  let port = String(defaultPort);
  const bracketed = /^\[([^\]]+)\](?::(\d*))?$/.exec(value);
  if (bracketed) {
    host = bracketed[1];
    port = bracketed[2] || port;
  } else if ((value.match(/:/g) ?? []).length === 1) {
    [host, port] = value.split(':');
    port ||= String(defaultPort);
  }
  // Emitter's `private`/`public`/`external` resolve through network look-ups; we listen on all interfaces.
  if (host === '' || host === 'private' || host === 'public' || host === 'external') host = '0.0.0.0';
  const portNumber = Number(port);
  if (!/^\d+$/.test(port) || portNumber > 65535 || !/^[A-Za-z0-9.:_-]+$/.test(host)) {
    throw new ConfigError(`config: "${text}" is not a valid listen address (expected host:port or :port)`);
  }
  return { host, port: portNumber };
}
