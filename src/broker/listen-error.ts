/** A listener that could not start: which one, the address, and the system's reason (`EADDRINUSE`, ...). */
export class ListenError extends Error {
  override readonly name = 'ListenError';

  constructor(
    /** `plain` (MQTT, WebSocket, HTTP) or `tls` (the same over TLS). */
    readonly listener: 'plain' | 'tls',
    readonly host: string,
    readonly port: number,
    /** The system error code, when there is one. */
    readonly code: string | undefined,
    cause: unknown,
  ) {
    super(`cannot listen on ${host}:${port}: ${describe(code, cause)}`, { cause });
  }
}

function describe(code: string | undefined, cause: unknown): string {
  switch (code) {
    case 'EADDRINUSE':
      return 'the port is already in use by another program (EADDRINUSE)';
    case 'EADDRNOTAVAIL':
      return 'the address is not one of this machine (EADDRNOTAVAIL)';
    case 'EACCES':
      return 'permission denied: ports below 1024 need privileges (EACCES)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name does not resolve (${code})`;
    default:
      return cause instanceof Error ? cause.message : String(cause);
  }
}
