/**
 * Emitter's error table: every failure a client can see is one of these values, sent as
 * `{"req"?, "status", "message"}` on `emitter/error/` or on the request's own topic.
 */

/** An error with Emitter's status code and exact message text. */
export class EmitterError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'EmitterError';
  }

  /** The JSON body Emitter sends for this error, with `req` when the request carried a packet id. */
  toJSON(req?: number): { req?: number; status: number; message: string } {
    return req
      ? { req, status: this.status, message: this.message }
      : { status: this.status, message: this.message };
  }
}

/** The fixed error values, with the texts of the Go broker (internal/errors/error.go). */
export const Errors = {
  BadRequest: new EmitterError(400, 'the request was invalid or cannot be otherwise served'),
  Unauthorized: new EmitterError(
    401,
    'the security key provided is not authorized to perform this operation',
  ),
  PaymentRequired: new EmitterError(
    402,
    'the request can not be served, as the payment is required to proceed',
  ),
  Forbidden: new EmitterError(
    403,
    'the request is understood, but it has been refused or access is not allowed',
  ),
  NotFound: new EmitterError(404, 'the resource requested does not exist'),
  ServerError: new EmitterError(
    500,
    'an unexpected condition was encountered and no more specific message is suitable',
  ),
  NotImplemented: new EmitterError(
    501,
    'the server either does not recognize the request method, or it lacks the ability to fulfill the request',
  ),
  TargetInvalid: new EmitterError(400, 'channel should end with `/` for strict types or `/#/` for wildcards'),
  TargetTooLong: new EmitterError(400, 'channel can not have more than 23 parts'),
  LinkInvalid: new EmitterError(400, 'the link must be an alphanumeric string of 1 or 2 characters'),
  UnauthorizedExt: new EmitterError(
    401,
    'the security key with extend permission can only be used for private links',
  ),
  /** Ours: a connection already holds `limit.maxSubscriptions` subscriptions. */
  TooManySubscriptions: new EmitterError(429, 'too many subscriptions on this connection'),
  /** Ours: a topic longer than `limit.maxTopicLength` or deeper than `limit.maxTopicLevels`. */
  TopicTooLong: new EmitterError(400, 'the topic is too long or has too many levels'),
  /** Ours: an MQTT 5 PUBLISH whose Payload Format Indicator says UTF-8 and whose payload is not. */
  PayloadFormatInvalid: new EmitterError(400, 'the payload is not valid UTF-8 as its format indicator says'),
  /** Ours: a PUBLISH packet (remaining length) above `limit.messageSize` (Emitter closes the connection instead). */
  MessageTooLarge: new EmitterError(413, 'the message is larger than the maximum message size allowed'),
} as const;
