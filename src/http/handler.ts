import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/** A route on the HTTP side of the shared port. */
export type Route = (request: IncomingMessage, response: ServerResponse) => void;

/** The node's state for `/health`: `ok` and `degraded` answer 200, `unavailable` answers 503. */
export interface HealthReport {
  readonly status: 'ok' | 'degraded' | 'unavailable';
  readonly [detail: string]: unknown;
}

/** What the HTTP side needs to know about the broker. */
export interface HttpStatusSource {
  /** The state `/health` reports (a load balancer takes a node out on 503). */
  health(): HealthReport;
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
  const report = source.health();
  const body = JSON.stringify(report);
  response.writeHead(report.status === 'unavailable' ? 503 : 200, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}
