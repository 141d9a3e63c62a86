import { PERMISSION_LETTERS, unknownPermissionLetters } from './permissions.js';

/** The parsed command line of `emitter`. */
export type CliCommand =
  | { readonly command: 'serve'; readonly configPath?: string; readonly devTls?: boolean }
  | { readonly command: 'license' }
  | {
      readonly command: 'keygen';
      readonly configPath?: string;
      readonly secret: string;
      readonly channel: string;
      readonly type: string;
      readonly ttl: number;
    }
  | { readonly command: 'version' }
  | { readonly command: 'help'; readonly topic: 'serve' | 'license' | 'keygen' | 'version' };

/** Thrown for a command line that cannot be understood; the message says what is wrong. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Help text per command. */
export const USAGE = {
  serve: `Usage: emitter [serve] [-config <file>]

Runs the Emitter-compatible broker (MQTT, MQTT over WebSocket and HTTP on one port).

Options:
  -config, --config, -c <file>   configuration file (default "emitter.conf"; optional)
  --dev-tls                      also serve TLS with a fresh self-signed certificate for localhost
                                 (on tls.listen, or :8443 when that is the default :443)
  -help, --help, -h              show this help

Commands:
  emitter license                print a new licence and its secret key
  emitter keygen <secret> <channel> <type> [--ttl <seconds>]
                                 make a channel key offline (licence from config or EMITTER_LICENSE)
  emitter version                print the version

Every configuration value can be set through EMITTER_* environment variables
(EMITTER_LICENSE, EMITTER_LISTEN, EMITTER_TLS_LISTEN, EMITTER_STORAGE_PROVIDER, ...).
`,
  license: `Usage: emitter license

Prints a new licence and the secret key that goes with it. Start the broker with
EMITTER_LICENSE=<licence> (or "license" in emitter.conf) and generate channel keys with the secret.
`,
  keygen: `Usage: emitter keygen <secret> <channel> <type> [--ttl <seconds>] [-config <file>]

Makes a channel key offline with the licence of the configuration (EMITTER_LICENSE or emitter.conf).
  <secret>    the secret key printed with the licence
  <channel>   the target channel, ending with "/" (exact) or "/#/" (this channel and below)
  <type>      permission letters: r (read), w (write), s (store), l (load), p (presence), e (extend)
  --ttl, -t   seconds until the key expires (default 0: never)
`,
  version: `Usage: emitter version

Prints the version of emitter-ts.
`,
} as const;

const HELP_FLAGS = new Set(['-help', '--help', '-h']);
const CONFIG_FLAGS = new Set(['-config', '--config', '-c']);

/** Parses `emitter`'s arguments; Go-style single-dash flags are accepted as well as GNU style. */
export function parseArguments(argv: readonly string[]): CliCommand {
  const [first, ...rest] = argv;
  switch (first) {
    case 'license':
      return parseLicense(rest);
    case 'keygen':
      return parseKeygen(rest);
    case 'version':
      return helpRequested(rest) ? { command: 'help', topic: 'version' } : noArguments('version', rest);
    case 'serve':
      return parseServe(rest);
    default:
      return parseServe(argv);
  }
}

function parseServe(argv: readonly string[]): CliCommand {
  const isDevTls = (arg: string): boolean => arg === '--dev-tls' || arg === '-dev-tls';
  const flags = readFlags(
    argv.filter((arg) => !isDevTls(arg)),
    'serve',
    { ttl: false },
  );
  if (flags.help) return { command: 'help', topic: 'serve' };
  if (flags.positional.length > 0) {
    throw new UsageError(`unexpected argument ${JSON.stringify(flags.positional[0])}`);
  }
  return { command: 'serve', configPath: flags.configPath, devTls: argv.some(isDevTls) };
}

function parseLicense(argv: readonly string[]): CliCommand {
  if (helpRequested(argv)) return { command: 'help', topic: 'license' };
  // `emitter license new` is the Go broker's spelling; accept it too.
  return noArguments('license', argv[0] === 'new' ? argv.slice(1) : argv);
}

function parseKeygen(argv: readonly string[]): CliCommand {
  const flags = readFlags(argv, 'keygen', { ttl: true });
  if (flags.help) return { command: 'help', topic: 'keygen' };
  if (flags.positional.length !== 3) {
    throw new UsageError(
      'keygen needs exactly three arguments: <secret> <channel> <type> (see emitter keygen --help)',
    );
  }
  const [secret, channel, type] = flags.positional;
  const unknown = unknownPermissionLetters(type);
  if (unknown.length > 0 || type === '') {
    const known = [...PERMISSION_LETTERS].map(([letter, name]) => `${letter} (${name})`).join(', ');
    throw new UsageError(
      type === ''
        ? `keygen needs at least one permission letter: ${known}`
        : `unknown permission letter${unknown.length > 1 ? 's' : ''} ${unknown.map((l) => JSON.stringify(l)).join(', ')} in ${JSON.stringify(type)}; the letters are ${known}`,
    );
  }
  return { command: 'keygen', configPath: flags.configPath, secret, channel, type, ttl: flags.ttl ?? 0 };
}

function noArguments(command: 'license' | 'version', argv: readonly string[]): CliCommand {
  if (argv.length > 0) throw new UsageError(`${command} takes no arguments, got ${JSON.stringify(argv[0])}`);
  return { command };
}

function helpRequested(argv: readonly string[]): boolean {
  return argv.some((arg) => HELP_FLAGS.has(arg));
}

interface Flags {
  help: boolean;
  configPath?: string;
  ttl?: number;
  positional: string[];
}

function readFlags(argv: readonly string[], command: string, accepts: { ttl: boolean }): Flags {
  const flags: Flags = { help: false, positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const [flag, inline] =
      arg.startsWith('-') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = (): string => {
      const found = inline ?? argv[++i];
      if (found === undefined || found === '') throw new UsageError(`flag ${flag} needs a value`);
      return found;
    };
    if (HELP_FLAGS.has(flag)) flags.help = true;
    else if (CONFIG_FLAGS.has(flag)) flags.configPath = value();
    else if (accepts.ttl && (flag === '--ttl' || flag === '-ttl' || flag === '-t')) {
      const text = value();
      const ttl = Number(text);
      if (!Number.isInteger(ttl) || ttl < 0)
        throw new UsageError(`--ttl must be a whole number of seconds, got ${text}`);
      flags.ttl = ttl;
    } else if (flag.startsWith('-') && flag.length > 1)
      throw new UsageError(`unknown flag ${flag} for ${command}`);
    else flags.positional.push(arg);
  }
  return flags;
}
