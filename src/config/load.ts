import { readFileSync } from 'node:fs';
import { applyEnvironment } from './env.js';
import { ConfigError } from './error.js';
import { configSchema, type Config } from './schema.js';

/** Where to read the configuration from. */
export interface LoadOptions {
  /** The JSON file; default `emitter.conf` in the working directory. */
  readonly path?: string;
  /** True when the path came from `-config`: then a missing file is an error. */
  readonly explicitPath?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/** Reads the config file (if any), applies `EMITTER_*` overrides and validates; never writes a file. */
export function loadConfig(options: LoadOptions = {}): Config {
  const path = options.path ?? 'emitter.conf';
  const file = readConfigFile(path, options.explicitPath ?? false);
  const merged = applyEnvironment(file, options.env ?? {});
  const result = configSchema.safeParse(merged);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.join('.') || '(root)';
  throw new ConfigError(`config: ${field}: ${issue.message}`);
}

type JsonObject = Parameters<typeof applyEnvironment>[0];

function readConfigFile(path: string, explicit: boolean): JsonObject {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (!explicit && (error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`config: cannot read ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config: ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`config: ${path} must hold a JSON object`);
  }
  return value as JsonObject;
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
