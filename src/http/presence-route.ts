import type { IncomingMessage, ServerResponse } from 'node:http';
import { EmitterError, Errors } from '../errors.js';
import { BodyTooLarge, readBody } from './read-body.js';

/** Answers a presence status query from a JSON body `{"key","channel"}`: the status, or the error. */
export type PresenceQuery = (body: Buffer) => object | EmitterError;

// A presence body is a key and a channel: a few hundred bytes. Anything near this is not one.
const MAX_BODY = 16 * 1024;

/**
 * Serves `POST /presence`: the body is the `emitter/presence/` request (`key`, `channel`; `status` and
 * `changes` mean nothing without a connection), the reply its status JSON with the HTTP status of the
 * outcome; errors are `{"status","message"}` with Emitter's texts. Other methods get 405.
 */
export function createPresenceRoute(
  query: PresenceQuery,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    if (request.method !== 'POST') {
      response.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'POST' });
      response.end('POST a JSON body {"key":"<channel key with p>","channel":"<channel>/"}\n');
      return;
    }
    readBody(request, MAX_BODY).then(
      (body) => {
        const result = query(body);
        if (result instanceof EmitterError) sendJson(response, result.status, result.toJSON());
        else sendJson(response, 200, result);
      },
      (error: unknown) => {
        if (error instanceof BodyTooLarge) {
          sendJson(
            response,
            413,
            { status: 413, message: `the request body is above ${MAX_BODY} bytes` },
            true,
          );
        } else if (!response.headersSent) {
          sendJson(response, 400, Errors.BadRequest.toJSON(), true);
        }
      },
    );
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown, close = false): void {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-store' };
  // A body left unread cannot be skipped on a kept-alive connection: close it after the reply.
  if (close) headers.connection = 'close';
  response.writeHead(status, headers);
  response.end(JSON.stringify(body));
}
