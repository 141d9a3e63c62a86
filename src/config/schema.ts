import { z } from 'zod';

// Emitter reads provider names case-insensitively (`"SSD"` is `ssd`).
const providerName = <const T extends readonly [string, ...string[]]>(names: T, fallback: T[number]) =>
  z
    .preprocess(
      (value) => (typeof value === 'string' ? value.toLowerCase() : value),
      z.enum(names, {
        error: (issue) => `expected one of ${names.join(', ')}, got ${JSON.stringify(issue.input)}`,
      }),
    )
    .default(fallback);

const providerSection = <const T extends readonly [string, ...string[]]>(names: T, fallback: T[number]) =>
  z
    .object({
      provider: providerName(names, fallback),
      config: z.record(z.string(), z.unknown()).default({}),
    })
    .prefault({});

/** The configuration file's shape (Emitter's JSON), with every default filled in. */
export const configSchema = z.object({
  listen: z.string().min(1).default(':8080'),
  license: z.string().default(''),
  matcher: z.enum(['', 'emitter', 'mqtt']).default(''),
  debug: z.boolean().default(false),
  limit: z
    .object({
      messageSize: z.number().int().positive().default(65536),
      readRate: z.number().int().positive().default(100000),
      flushRate: z.number().int().nonnegative().default(0),
      connectTimeout: z.number().int().nonnegative().default(30000),
      outgoingBuffer: z
        .number()
        .int()
        .positive()
        .default(8 * 1024 * 1024),
      slowConsumer: z.enum(['drop', 'disconnect']).default('drop'),
      maxConnections: z.number().int().nonnegative().default(100000),
      connectRate: z.number().int().nonnegative().default(1000),
      maxSubscriptions: z.number().int().positive().default(1000),
      maxTopicLength: z.number().int().positive().default(1024),
      maxTopicLevels: z.number().int().positive().default(32),
    })
    .prefault({}),
  tls: z
    .object({
      listen: z.string().default(':443'),
      host: z.string().default(''),
      email: z.string().default(''),
      certificate: z.string().default(''),
      private: z.string().default(''),
    })
    .prefault({}),
  cluster: z
    .object({
      name: z.string().default(''),
      listen: z.string().default(':4000'),
      advertise: z.string().default(''),
      seed: z.string().default(''),
      passphrase: z.string().default(''),
      dir: z.string().default(''),
      redis: z.union([z.string(), z.array(z.string())]).default(''),
      workers: z.number().int().positive().default(1),
      /** Milliseconds after which a silent node is dead and its subscribers are dropped cluster-wide. */
      deadAfter: z.number().int().positive().default(10000),
    })
    .prefault({}),
  storage: providerSection(['inmemory', 'ssd', 'redis', 'noop'], 'inmemory'),
  monitor: providerSection(['self', 'statsd', 'prometheus', 'noop'], 'self'),
  logging: z
    .object({
      // Emitter's only logging provider; accepted, logs go where pino writes them.
      provider: providerName(['stderr'], 'stderr'),
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
      config: z.record(z.string(), z.unknown()).default({}),
    })
    .prefault({}),
  // Emitter's `http` contract and metering providers are not implemented: refused rather than ignored.
  contract: providerSection(['single'], 'single'),
  metering: providerSection(['noop'], 'noop'),
  vault: z.record(z.string(), z.unknown()).default({}),
  /** Emitter's DynamoDB secret source: accepted for compatibility, not read. */
  dynamodb: z.record(z.string(), z.unknown()).default({}),
});

/** The validated configuration. */
export type Config = z.infer<typeof configSchema>;
