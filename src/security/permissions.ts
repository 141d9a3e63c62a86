/**
 * The permission byte of a channel key (spec 3.4) and the keygen `type` letters that request it.
 */

/** Permission bits of byte 15 of a channel key. */
export const Permission = {
  None: 0,
  /** The secret key; a key is the master key only when this is its only bit. */
  Master: 1 << 0,
  Read: 1 << 1,
  Write: 1 << 2,
  Store: 1 << 3,
  Load: 1 << 4,
  Presence: 1 << 5,
  /** May only derive private sub-channel keys; refused for publish, subscribe and presence. */
  Extend: 1 << 6,
  /** Reserved by Emitter, never checked. */
  Execute: 1 << 7,
  /** Every bit a keygen request can ask for (all but master): 254. */
  All: 0xfe,
} as const;

/** A permission value, one bit or several. */
export type Permission = number;

// Keygen letters in the order Emitter documents them; formatting uses the same order.
const LETTERS: ReadonlyArray<readonly [string, number]> = [
  ['r', Permission.Read],
  ['w', Permission.Write],
  ['s', Permission.Store],
  ['l', Permission.Load],
  ['p', Permission.Presence],
  ['e', Permission.Extend],
  ['x', Permission.Execute],
];
const BY_LETTER = new Map(LETTERS);

/** Reads a keygen `type` such as `rwslp`; unknown characters are ignored, as Emitter does. */
export function parsePermissions(type: string): number {
  let bits = 0;
  for (const letter of type) bits |= BY_LETTER.get(letter) ?? 0;
  return bits;
}

/** Writes permissions as keygen letters (`rwslpex` order); the master bit has no letter and is left out. */
export function formatPermissions(bits: number): string {
  let text = '';
  for (const [letter, bit] of LETTERS) if ((bits & bit) === bit) text += letter;
  return text;
}
