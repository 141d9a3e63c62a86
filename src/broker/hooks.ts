import type { Logger } from 'pino';
import type { QoS } from '../channel/index.js';
import { EmitterError } from '../errors.js';

/** A connected client as hooks and events see it (the broker's sessions have this shape: no copy is made). */
export interface BrokerClient {
  /** Emitter's connection id (kept by a persistent session across connections). */
  readonly id: string;
  /** The MQTT client id from CONNECT. */
  readonly clientId: string;
  /** The MQTT username from CONNECT, '' when none. */
  readonly username: string;
  /** The peer address of the client's (last) connection. */
  readonly connection: { readonly remoteAddress: string };
}

/** A PUBLISH as `authorizePublish` sees it (only made when that hook is set). */
export interface PublishRequest {
  /** The topic as the client sent it (after a link alias is expanded), key and options included. */
  readonly topic: string;
  /** The channel without key or options (`room/1/`). */
  readonly channel: string;
  readonly payload: Buffer;
  readonly qos: QoS;
  readonly retain: boolean;
}

/** One filter of a SUBSCRIBE as `authorizeSubscribe` sees it. */
export interface SubscriptionRequest {
  /** The filter as the client sent it. */
  readonly topic: string;
  /** The channel without key or options (`room/+/`). */
  readonly channel: string;
  readonly qos: QoS;
}

/** An `emitter/<name>/` request as `authorizeRequest` sees it. */
export interface BrokerRequest {
  /** The request name: `keygen`, `presence`, `link`, `me`, `history`, `keyban`... */
  readonly name: string;
  readonly payload: Buffer;
}

/** How a refused CONNECT is answered (MQTT 3.1.1 CONNACK return codes 4 and 5). */
export type ConnectRefusal = 'badCredentials' | 'notAuthorized';

/**
 * What a hook answers: `true` allows, `false` refuses (with the hook's default error); a CONNECT may be
 * refused with a specific CONNACK code, a publish, subscribe or request with a specific Emitter error.
 */
export type HookAnswer<Refusal> = boolean | Refusal;

type MaybePromise<T> = T | Promise<T>;

/** The application's rules, each optional; all may return a promise. See README "Use it as a library". */
export interface BrokerHooks {
  /** CONNECT: refused with CONNACK 5 (not authorised) on `false`, or the code named. */
  authenticate?(
    client: BrokerClient,
    username: string | undefined,
    password: Buffer | undefined,
  ): MaybePromise<HookAnswer<ConnectRefusal>>;
  /** Each PUBLISH to a channel: refused with 403 on `emitter/error/` (with `req`) on `false`. */
  authorizePublish?(client: BrokerClient, message: PublishRequest): MaybePromise<HookAnswer<EmitterError>>;
  /** Each filter of a SUBSCRIBE: refused with SUBACK 0x80 and 403 on `emitter/error/` on `false`. */
  authorizeSubscribe?(
    client: BrokerClient,
    subscription: SubscriptionRequest,
  ): MaybePromise<HookAnswer<EmitterError>>;
  /** Each `emitter/<name>/` request: refused with 403 on the request's topic on `false`. */
  authorizeRequest?(client: BrokerClient, request: BrokerRequest): MaybePromise<HookAnswer<EmitterError>>;
}

/** The default refusal of the authorise hooks. */
export const HOOK_REFUSED = new EmitterError(
  403,
  'the request is understood, but it has been refused or access is not allowed',
);

/** Milliseconds a hook may take before it counts as a refusal. */
export const DEFAULT_HOOK_TIMEOUT_MS = 5000;

/**
 * Calls a hook so that nothing it does can harm the broker: a throw, a rejection or no answer within
 * `timeoutMs` is a refusal (logged). A synchronous answer stays synchronous (no promise is made), so a
 * hook that answers at once costs a function call.
 */
export function callHook<Refusal>(
  hook: string,
  client: BrokerClient,
  call: () => MaybePromise<HookAnswer<Refusal>>,
  refusal: Refusal,
  options: { readonly logger: Logger; readonly timeoutMs: number },
): Refusal | undefined | Promise<Refusal | undefined> {
  let answer: MaybePromise<HookAnswer<Refusal>>;
  try {
    answer = call();
  } catch (error) {
    hookFailed(options.logger, hook, client, error);
    return refusal;
  }
  if (!(answer instanceof Promise)) return decide(answer, refusal);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      hookFailed(options.logger, hook, client, new Error(`no answer within ${options.timeoutMs} ms`));
      resolve(refusal);
    }, options.timeoutMs);
    answer.then(
      (value) => {
        clearTimeout(timer);
        resolve(decide(value, refusal));
      },
      (error: unknown) => {
        clearTimeout(timer);
        hookFailed(options.logger, hook, client, error);
        resolve(refusal);
      },
    );
  });
}

// true: allowed (undefined); false or anything unexpected: the default refusal; a refusal value: itself.
function decide<Refusal>(answer: HookAnswer<Refusal>, refusal: Refusal): Refusal | undefined {
  if (answer === true) return undefined;
  if (answer === false || answer === undefined || answer === null) return refusal;
  return answer;
}

function hookFailed(logger: Logger, hook: string, client: BrokerClient, error: unknown): void {
  logger.error(
    {
      hook,
      clientId: client.clientId,
      connection: client.id,
      err: error instanceof Error ? { type: error.name, message: error.message } : { message: String(error) },
    },
    'hook failed: refused',
  );
}
