import { formatPermissions } from '../security/index.js';

/** The keygen letters the CLI accepts, with what each grants (Emitter's documented set). */
export const PERMISSION_LETTERS: ReadonlyMap<string, string> = new Map([
  ['r', 'read'],
  ['w', 'write'],
  ['s', 'store'],
  ['l', 'load'],
  ['p', 'presence'],
  ['e', 'extend'],
]);

/** The letters of `type` that grant nothing (the MQTT keygen ignores them, as Emitter does; the CLI refuses). */
export function unknownPermissionLetters(type: string): string[] {
  return [...new Set(type)].filter((letter) => !PERMISSION_LETTERS.has(letter));
}

/** `rw (read, write)`: a key's permission bits, as letters and words. */
export function describePermissions(bits: number): string {
  const letters = formatPermissions(bits).replace(/[^rwslpe]/g, '');
  if (letters === '') return 'none';
  return `${letters} (${[...letters].map((letter) => PERMISSION_LETTERS.get(letter)).join(', ')})`;
}
