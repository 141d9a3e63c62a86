import { ConfigError } from './error.js';
import { mapKeyOf } from './map-keys.js';

/** A JSON-like value as read from a file or built from the environment. */
type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** The kind of each overridable field, by JSON path: drives the `EMITTER_*` names and parsing. */
export const ENV_FIELDS: Readonly<Record<string, 'string' | 'number' | 'boolean' | 'map' | 'list'>> = {
  listen: 'string',
  license: 'string',
  matcher: 'string',
  debug: 'boolean',
  anonymous: 'string',
  keyPassword: 'boolean',
  'limit.messageSize': 'number',
  'limit.readRate': 'number',
  'limit.flushRate': 'number',
  'limit.connectTimeout': 'number',
  'limit.outgoingBuffer': 'number',
  'limit.slowConsumer': 'string',
  'limit.maxConnections': 'number',
  'limit.connectRate': 'number',
  'limit.maxSubscriptions': 'number',
  'limit.maxTopicLength': 'number',
  'limit.maxTopicLevels': 'number',
  'tls.listen': 'string',
  'tls.host': 'string',
  'tls.email': 'string',
  'tls.certificate': 'string',
  'tls.private': 'string',
  'cluster.name': 'string',
  'cluster.listen': 'string',
  'cluster.advertise': 'string',
  'cluster.seed': 'string',
  'cluster.passphrase': 'string',
  'cluster.dir': 'string',
  'cluster.redis': 'list',
  'cluster.workers': 'number',
  'cluster.deadAfter': 'number',
  'storage.provider': 'string',
  'storage.config': 'map',
  'session.provider': 'string',
  'session.expiry': 'number',
  'session.maxInflight': 'number',
  'session.maxQueuedMessages': 'number',
  'session.maxQueuedBytes': 'number',
  'mqtt5.receiveMaximum': 'number',
  'mqtt5.topicAliasMaximum': 'number',
  'mqtt5.serverKeepAlive': 'number',
  'monitor.provider': 'string',
  'monitor.config': 'map',
  'logging.provider': 'string',
  'logging.level': 'string',
  'logging.format': 'string',
  'logging.config': 'map',
  'contract.provider': 'string',
  'contract.config': 'map',
  'metering.provider': 'string',
  'metering.config': 'map',
  vault: 'map',
  dynamodb: 'map',
};

/**
 * Map fields whose variable also takes a bare (non-JSON) value for one key: Emitter's README maps
 * `storage.config.dir` to `EMITTER_STORAGE_CONFIG`, so `EMITTER_STORAGE_CONFIG=/var/lib/emitter` is the
 * directory.
 */
const MAP_SHORTHAND: Readonly<Record<string, string>> = { 'storage.config': 'dir' };

/** `limit.messageSize` -> `EMITTER_LIMIT_MESSAGESIZE`, as Emitter names its overrides. */
export function envName(path: string): string {
  return `EMITTER_${path.split('.').join('_').toUpperCase()}`;
}

/**
 * Applies `EMITTER_*` overrides onto a parsed config file (a new object is returned). Map fields take a
 * JSON object as a whole (`EMITTER_STORAGE_CONFIG='{"dir":"/data"}'`) or one key at a time
 * (`EMITTER_STORAGE_CONFIG_DIR=/data`); `EMITTER_VAULT_ADDRESS`/`_APP` work the same way.
 * `EMITTER_STORAGE_CONFIG=/data` (not JSON) is the ssd directory, as Emitter's README documents it.
 */
export function applyEnvironment(file: JsonObject, env: NodeJS.ProcessEnv): JsonObject {
  const config = structuredClone(file);
  for (const [path, kind] of Object.entries(ENV_FIELDS)) {
    const name = envName(path);
    const text = env[name];
    const shorthand = MAP_SHORTHAND[path];
    if (text !== undefined && shorthand !== undefined && !/^[[{]/.test(text.trim())) {
      // A bare value (not JSON) sets its one key and leaves the rest of the section as the file has it.
      if (text.trim() === '') throw new ConfigError(`${name}: expected a JSON object or a ${shorthand}`);
      setPath(config, `${path}.${shorthand}`, text.trim());
    } else if (text !== undefined) setPath(config, path, parseValue(name, text, kind));
    if (kind !== 'map') continue;
    const prefix = `${name}_`;
    for (const [variable, value] of Object.entries(env)) {
      if (!variable.startsWith(prefix) || value === undefined) continue;
      const suffix = variable.slice(prefix.length);
      const key = mapKeyOf(path, suffix) ?? camelKey(suffix);
      setPath(config, `${path}.${key}`, /^-?\d+$/.test(value) ? Number(value) : value);
    }
  }
  return config;
}

// Env names are upper case; map keys in Emitter's configs are lower camel case (`dir`, `retain`, `maxBytes`).
function camelKey(upper: string): string {
  return upper.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function parseValue(name: string, text: string, kind: string): Json {
  switch (kind) {
    case 'number': {
      const value = Number(text.trim());
      if (text.trim() === '' || !Number.isFinite(value))
        throw new ConfigError(`${name}: expected a number, got "${text}"`);
      return value;
    }
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(text)) return true;
      if (/^(false|0|no|off)$/i.test(text)) return false;
      throw new ConfigError(`${name}: expected true or false, got "${text}"`);
    case 'map': {
      try {
        const value: unknown = JSON.parse(text);
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Json;
      } catch {
        // reported below
      }
      throw new ConfigError(`${name}: expected a JSON object, got "${text}"`);
    }
    case 'list': {
      const trimmed = text.trim();
      if (trimmed.startsWith('[')) {
        try {
          return JSON.parse(trimmed) as Json;
        } catch {
          throw new ConfigError(`${name}: expected a JSON array or comma-separated URLs`);
        }
      }
      const items = trimmed
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
      return items.length === 1 ? items[0] : items;
    }
    default:
      return text;
  }
}

function setPath(target: JsonObject, path: string, value: Json): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as JsonObject;
  }
  node[parts[parts.length - 1]] = value;
}
