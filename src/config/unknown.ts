import { z } from 'zod';
import { ENV_FIELDS, envName } from './env.js';
import { ConfigError } from './error.js';
import { MAP_KEYS, mapKeyOf } from './map-keys.js';

type Json = unknown;

/**
 * Refuses settings the broker does not know, from the file or from `EMITTER_*` variables, naming the
 * closest known one: a typo must not silently fall back to a default (`lisence` is not the licence).
 */
export function refuseUnknownSettings(
  file: Json,
  env: NodeJS.ProcessEnv,
  schema: z.ZodType,
  fileName: string,
): void {
  const problems: string[] = [];
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith('EMITTER_')) continue;
    if (!knownVariable(name)) {
      problems.push(describe(name, closest(name, knownVariables())));
      continue;
    }
    // A whole map section as JSON (`EMITTER_STORAGE_CONFIG='{"dir":".."}'`): its keys too.
    const path = Object.keys(ENV_FIELDS).find((field) => envName(field) === name);
    const keys = path === undefined ? undefined : MAP_KEYS[path];
    if (!keys || text === undefined) continue;
    for (const key of Object.keys(jsonObject(text))) {
      if (!keys.includes(key)) problems.push(describe(`${path}.${key}`, closest(key, keys), name));
    }
  }
  walk(file, schema, '', (path, siblings) =>
    problems.push(describe(path, closest(last(path), siblings), fileName)),
  );
  if (problems.length > 0) throw new ConfigError(`config: ${problems.join('; ')}`);
}

function describe(setting: string, suggestion: string | undefined, source?: string): string {
  const where = source ? ` in ${source}` : '';
  const hint = suggestion ? `, did you mean \`${suggestion}\`?` : '';
  return `unknown setting \`${setting}\`${where}${hint}`;
}

function walk(
  value: Json,
  schema: z.ZodType,
  path: string,
  report: (path: string, known: string[]) => void,
): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
  // A map section's keys are listed apart (its schema may check a few of them, not name them all).
  const mapKeys = MAP_KEYS[path];
  const shape = mapKeys ? undefined : objectShape(schema);
  const keys = mapKeys ?? (shape ? Object.keys(shape) : undefined);
  if (!keys) return;
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    if (!keys.includes(key)) report(childPath, keys as string[]);
    else if (shape) walk(child, shape[key], childPath, report);
  }
}

// The object behind `.default()`/`.prefault()` wrappers and transforms, if the schema is one.
function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  let current: unknown = schema;
  while (current && !(current instanceof z.ZodObject)) {
    if (current instanceof z.ZodDefault || current instanceof z.ZodPrefault) current = current.unwrap();
    // A transformed schema (`configSchema` derives the log level): the object it reads.
    else if (current instanceof z.ZodPipe) current = current.in;
    else return undefined;
  }
  return (current as z.ZodObject).shape as Record<string, z.ZodType>;
}

let variables: string[] | undefined;
function knownVariables(): string[] {
  variables ??= Object.keys(ENV_FIELDS).map(envName);
  return variables;
}

// A field's variable, or a key of a map section (`EMITTER_STORAGE_CONFIG_DIR`): known keys only where the
// section's keys are known.
function knownVariable(name: string): boolean {
  for (const [path, kind] of Object.entries(ENV_FIELDS)) {
    const field = envName(path);
    if (name === field) return true;
    if (kind !== 'map' || !name.startsWith(`${field}_`)) continue;
    const keys = MAP_KEYS[path];
    return !keys || mapKeyOf(path, name.slice(field.length + 1)) !== undefined;
  }
  return false;
}

// The object a map variable holds; anything else is reported when the variable is applied.
function jsonObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // not JSON: applyEnvironment says so
  }
  return {};
}

function last(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

/** The candidate nearest to `word` (case-insensitive edit distance), when near enough to be a typo of it. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

// Damerau-Levenshtein (optimal string alignment): a swapped pair of letters is one edit.
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
    }
  }
  return rows[a.length][b.length];
}
