import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/** A route on the HTTP side of the shared port. */
export type Route = (request: IncomingMessage, response: ServerResponse) => void;

/** What the HTTP side needs to know about the broker. */
export interface HttpStatusSource {
  /** True while the broker serves normally; false while shutting down or degraded. */
  healthy(): boolean;
  /** A small status object for `/health`. */
  status(): Record<string, unknown>;
}

/** Builds the request listener for the shared port: `/health` plus any extra routes. */
export function createHttpHandler(
  source: HttpStatusSource,
  routes: Record<string, Route> = {},
): RequestListener {
  const table: Record<string, Route> = {
    '/health': (request, response) => health(source, request, response),
    ...routes,
  };
  return (request, response) => {
    const path = (request.url ?? '/').split('?', 1)[0];
    const route = table[path];
    if (route) {
      route(request, response);
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    response.end('not found\n');
  };
}

function health(source: HttpStatusSource, request: IncomingMessage, response: ServerResponse): void {
  const ok = source.healthy();
  const body = JSON.stringify({ status: ok ? 'ok' : 'unavailable', ...source.status() });
  response.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(request.method === 'HEAD' ? undefined : body);
}
