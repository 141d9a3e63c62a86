import { STORAGE_CONFIG_KEYS } from '../storage/config.js';

/**
 * Keys of the map sections that we read. A key outside the list is a typo (`storage.config.dri` would
 * otherwise store under ./data unnoticed). Sections not listed here (`contract.config`, `metering.config`,
 * `logging.config`, `dynamodb`) are Emitter's, accepted and not read.
 */
export const MAP_KEYS: Readonly<Record<string, readonly string[]>> = {
  'storage.config': STORAGE_CONFIG_KEYS,
  'monitor.config': ['interval', 'channel', 'url'],
  vault: ['address', 'app'],
};

/** The known key of a map section that an `EMITTER_<SECTION>_<KEY>` suffix names (`MAX_BYTES`, `MAXBYTES`). */
export function mapKeyOf(path: string, suffix: string): string | undefined {
  const wanted = suffix.replace(/_/g, '').toLowerCase();
  return MAP_KEYS[path]?.find((key) => key.toLowerCase() === wanted);
}
