/**
 * Channel options: the `k=v&k=v` text after `?` in a topic (spec 2.1, 2.2).
 * Scanned in place with char codes; only the five options the broker acts on become numbers.
 */

/** The options the broker acts on; an option that is missing, unparsable or out of range is absent. */
export interface ChannelOptions {
  /** Seconds to store the published message (PUBLISH). */
  readonly ttl?: number;
  /** Number of stored messages to replay (SUBSCRIBE, history). */
  readonly last?: number;
  /** `0` asks not to echo the message back to its publisher (PUBLISH). */
  readonly me?: number;
  /** Lower replay bound, unix seconds, inclusive. */
  readonly from?: number;
  /** Upper replay bound, unix seconds, inclusive. */
  readonly until?: number;
}

/** Bounds of `from`/`until` (years 2018 to 2066); Emitter ignores values outside them. */
export const TimeRange = { min: 1514764800, max: 3029529600 } as const;

/** Emitter's TTL meaning "retained": the storage provider substitutes its `retain` period. */
export const RETAINED_TTL = 0xffffffff;

/** Shared by every topic without known options, so the common case allocates nothing. */
export const EMPTY_OPTIONS: ChannelOptions = Object.freeze({});

const EQUALS = 0x3d;
const AMPERSAND = 0x26;
const INT64_MAX = 9223372036854775807n;
// Up to 15 digits the value is exact as a double; longer ones go through BigInt for the int64 check.
const SAFE_DIGITS = 15;

type MutableOptions = { -readonly [K in keyof ChannelOptions]: ChannelOptions[K] };
type OptionName = keyof ChannelOptions;

/**
 * Parses option text (without the `?`); returns `undefined` when the grammar is broken, which makes the
 * whole topic invalid. An empty string and a single trailing `&` are accepted.
 */
export function parseOptions(raw: string): ChannelOptions | undefined {
  const length = raw.length;
  let options: MutableOptions | undefined;
  // Bit per known option already met: only the first occurrence counts, even when it does not parse.
  let seen = 0;
  let i = 0;
  while (i < length) {
    let j = i;
    while (j < length && isAlnum(raw.charCodeAt(j))) j++;
    if (j === i || j === length || raw.charCodeAt(j) !== EQUALS) return undefined;
    const keyEnd = j++;
    const valueStart = j;
    while (j < length && isAlnum(raw.charCodeAt(j))) j++;
    if (j === valueStart || (j < length && raw.charCodeAt(j) !== AMPERSAND)) return undefined;

    const name = knownOption(raw, i, keyEnd);
    if (name !== undefined) {
      const bit = OPTION_BITS[name];
      if ((seen & bit) === 0) {
        seen |= bit;
        const value = optionValue(name, raw, valueStart, j);
        if (value !== undefined) (options ??= {})[name] = value;
      }
    }
    i = j + 1;
  }
  return options ?? EMPTY_OPTIONS;
}

/** True when the publisher asked not to receive its own message back (`me=0`). */
export function isMeDisabled(options: ChannelOptions): boolean {
  return options.me === 0;
}

/** How many stored messages a subscribe replays: `last`, or 1 when absent (retained delivery). */
export function replayLimit(options: ChannelOptions): number {
  return options.last ?? 1;
}

/** The replay window in unix seconds: `from` defaults to 0, `until` to the end of the valid range. */
export function timeWindow(options: ChannelOptions): { from: number; until: number } {
  return { from: options.from ?? 0, until: options.until ?? TimeRange.max };
}

/**
 * The TTL a published message is stored with (0 = not stored): the retain flag means RETAINED_TTL and a
 * positive `ttl` overrides it. Emitter casts `ttl` to uint32, so huge values wrap to arbitrary TTLs; we
 * clamp to RETAINED_TTL instead so that a very long TTL never turns into a short one or into "not stored".
 */
export function messageTtl(options: ChannelOptions, retained: boolean): number {
  const ttl = options.ttl;
  if (ttl !== undefined && ttl > 0) return ttl >= RETAINED_TTL ? RETAINED_TTL : ttl;
  return retained ? RETAINED_TTL : 0;
}

const OPTION_BITS: Readonly<Record<OptionName, number>> = { ttl: 1, last: 2, me: 4, from: 8, until: 16 };

// Compares the key in place: slicing it out would allocate on every publish with options.
function knownOption(raw: string, start: number, end: number): OptionName | undefined {
  switch (end - start) {
    case 2:
      return raw.startsWith('me', start) ? 'me' : undefined;
    case 3:
      return raw.startsWith('ttl', start) ? 'ttl' : undefined;
    case 4:
      if (raw.startsWith('last', start)) return 'last';
      return raw.startsWith('from', start) ? 'from' : undefined;
    case 5:
      return raw.startsWith('until', start) ? 'until' : undefined;
    default:
      return undefined;
  }
}

function optionValue(name: OptionName, raw: string, start: number, end: number): number | undefined {
  const value = parseInt64(raw, start, end);
  if (value === undefined) return undefined;
  if ((name === 'from' || name === 'until') && (value < TimeRange.min || value > TimeRange.max)) {
    return undefined;
  }
  return value;
}

// Go's strconv.ParseInt(v, 10, 64) on an alphanumeric value: digits only, within int64.
// Values beyond 2^53 keep the nearest double, which no option can tell apart in practice.
function parseInt64(raw: string, start: number, end: number): number | undefined {
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = raw.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  if (end - start <= SAFE_DIGITS) return value;
  const exact = BigInt(raw.slice(start, end));
  return exact > INT64_MAX ? undefined : Number(exact);
}

function isAlnum(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}
