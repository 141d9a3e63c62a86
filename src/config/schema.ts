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

// The configuration file's shape (Emitter's JSON), with every default filled in.
const fileSchema = z.object({
  listen: z.string().min(1).default(':8080'),
  license: z.string().default(''),
  matcher: z.enum(['', 'emitter', 'mqtt']).default(''),
  debug: z.boolean().default(false),
  /**
   * Permissions (letters of `rwslp`) anonymous plain MQTT clients get on every channel of the contract;
   * '' is off (README "Plain MQTT clients").
   */
  anonymous: z
    .string()
    .regex(/^(?!.*(.).*\1)[rwslp]*$/, 'expected letters of rwslp, each at most once (or "" for off)')
    .default(''),
  /** A channel key given as MQTT password authenticates a plain MQTT client. */
  keyPassword: z.boolean().default(false),
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
  storage: z
    .object({
      provider: providerName(['inmemory', 'ssd', 'redis', 'noop'], 'inmemory'),
      // Each provider reads the fields it knows (and checks them when it starts); the redis hold buffer's
      // are checked here too, so a typo'd value stops the broker with the field's path.
      config: z
        .looseObject({
          holdMessages: z.number().int().nonnegative().optional(),
          holdBytes: z.number().int().nonnegative().optional(),
          holdTimeoutMs: z.number().int().positive().optional(),
        })
        .default({}),
    })
    .prefault({}),
  /** MQTT sessions: where they are kept between connections and how persistent ones behave. */
  session: z
    .object({
      /** Session store provider; '' follows `storage.provider` (when it has one, else `inmemory`). */
      provider: z.string().default(''),
      /** Seconds a persistent session is kept while its client is away; 0 keeps it for good. */
      expiry: z.number().int().nonnegative().default(86400),
      /** QoS 1/2 deliveries in flight (sent, unacknowledged) per session, as Mosquitto's max_inflight_messages. */
      maxInflight: z.number().int().min(1).max(65535).default(20),
      /** QoS 1/2 messages queued per session (client away or window full); the oldest go past it. */
      maxQueuedMessages: z.number().int().positive().default(1000),
      /** Bytes (topic + payload) queued per session; the oldest go past it. */
      maxQueuedBytes: z
        .number()
        .int()
        .positive()
        .default(16 * 1024 * 1024),
    })
    .prefault({}),
  /** What MQTT 5 clients are told in CONNACK and held to. */
  mqtt5: z
    .object({
      /** QoS 1/2 publishes a client may have unacknowledged to the broker; more is DISCONNECT 0x93. */
      receiveMaximum: z.number().int().min(1).max(65535).default(1024),
      /** Highest topic alias a client may use; above it is DISCONNECT 0x94 (0: no aliases). */
      topicAliasMaximum: z.number().int().min(0).max(65535).default(64),
      /** Keep alive in seconds imposed on MQTT 5 clients (Server Keep Alive); 0: the client's own. */
      serverKeepAlive: z.number().int().min(0).max(65535).default(0),
    })
    .prefault({}),
  monitor: providerSection(['self', 'statsd', 'prometheus', 'noop'], 'self'),
  logging: z
    .object({
      // Emitter's only logging provider; accepted, logs go where pino writes them.
      provider: providerName(['stderr'], 'stderr'),
      // Unset: `debug` decides (configSchema).
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional(),
      /** `auto`: readable lines on a terminal, JSON lines otherwise. */
      format: z.enum(['auto', 'json', 'text']).default('auto'),
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

/** The configuration file's shape, validated, with every default filled in. */
export const configSchema = fileSchema.transform((config) => ({
  ...config,
  // Emitter's `debug` means more logging: debug level, unless `logging.level` says otherwise.
  logging: { ...config.logging, level: config.logging.level ?? (config.debug ? 'debug' : 'info') },
}));

/** The validated configuration. */
export type Config = z.infer<typeof configSchema>;
