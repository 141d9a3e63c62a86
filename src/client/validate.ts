// Argument checks with emitter-io's messages: a call with a missing field throws before anything is sent.

/** Throws unless `request[field]` is a string. */
export function requireString(method: string, request: object | undefined, field: string): void {
  if (typeof member(request, field) !== 'string')
    throw new TypeError(`emitter.${method}: request object does not contain a '${field}' string.`);
}

/** Throws unless `request[field]` is a boolean. */
export function requireBoolean(method: string, request: object | undefined, field: string): void {
  if (typeof member(request, field) !== 'boolean')
    throw new TypeError(`emitter.${method}: request object does not contain '${field}'.`);
}

/** Throws unless `request.message` is a string or bytes. */
export function requireMessage(method: string, request: object | undefined): void {
  const message = member(request, 'message');
  if (typeof message !== 'string' && !(message instanceof Uint8Array))
    throw new TypeError(`emitter.${method}: request object does not contain a 'message' object.`);
}

function member(request: object | undefined, field: string): unknown {
  return request === null || typeof request !== 'object'
    ? undefined
    : (request as Record<string, unknown>)[field];
}
