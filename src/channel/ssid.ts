/**
 * SSIDs (spec 2.3): `[contract, hash(level1), hash(level2), ...]`, the address a subscription is stored
 * under and a publish is matched with. Elements are unsigned 32-bit integers.
 */

import { hashLevel, WellKnownHash } from './hash.js';

/** A subscription id: the contract followed by one hash per channel level. */
export type Ssid = readonly number[];

/** The SSID of a channel: its contract followed by the channel's level hashes (`ParsedChannel.query`). */
export function ssidOf(contract: number, query: readonly number[]): Ssid {
  // concat makes a packed array of exactly this length: pushing would grow it to 17-19 slots (new
  // Array(n) would make it holey, slower to read on every match), some 130 bytes more per subscription
  // held.
  return [contract >>> 0].concat(query);
}

/**
 * The SSID of a share-group subscription, `[contract, hash('$share'), hash(group), ...query]`; parsing
 * the channel `$share/<group>/<channel>/` and calling `ssidOf` gives the same array.
 */
export function shareSsid(contract: number, group: string, query: readonly number[]): Ssid {
  return [contract >>> 0, WellKnownHash.share, hashLevel(group)].concat(query);
}

/** The SSID presence watchers of `ssid` subscribe under: `[0, hash('presence'), ...ssid]`. */
export function presenceSsid(ssid: Ssid): Ssid {
  return [0, WellKnownHash.presence].concat(ssid);
}

/** True for a share-group SSID: `[contract, hash('$share'), hash(group), ...]`. */
export function isShareSsid(ssid: Ssid): boolean {
  return ssid.length >= 3 && ssid[1] === WellKnownHash.share;
}

/** The contract an SSID belongs to (its first element). */
export function ssidContract(ssid: Ssid): number {
  return ssid[0];
}

/** True when both SSIDs have the same elements in the same order. */
export function ssidEquals(a: Ssid, b: Ssid): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A string naming the SSID, for Map keys (`1.3238259379.500706888`). Unlike Emitter's 32-bit XOR it
 * never collides (`a/b/` and `b/a/` differ); decimal keeps it readable in logs and safe to store anywhere.
 */
export function ssidKey(ssid: Ssid): string {
  return ssid.join('.');
}
