import type { IClientOptions } from 'mqtt';

/**
 * How to reach the broker: emitter-io's options (`host`, `port`, `secure`, `keepalive`, `username`,
 * `password`) and, as with emitter-io, any MQTT.js option (`clientId`, `clean`, `reconnectPeriod`, `will`,
 * TLS options...), which pass through to MQTT.js.
 */
export interface ConnectRequest extends Omit<IClientOptions, 'host' | 'port' | 'protocol' | 'hostname'> {
  /** Default `api.emitter.io` (as emitter-io); a `scheme://` prefix is ignored. */
  host?: string;
  /** Default 8080, or 443 when `secure`. */
  port?: number;
  /** TLS (`wss://`, or `mqtts://` over TCP). Default: false, or in a browser true on an `https:` page. */
  secure?: boolean;
  /** `ws` (default, as emitter-io; the only one in browsers) or `tcp` (Node). */
  transport?: 'ws' | 'tcp';
  /** Seconds between keep-alive pings; default 30. */
  keepalive?: number;
  /** Shown in presence. */
  username?: string;
  password?: string;
  /** With `clean: false`, the broker keeps this client's session across connections under this id. */
  clientId?: string;
  /** Default true; false asks the broker to keep subscriptions and QoS 1 messages while disconnected. */
  clean?: boolean;
  /** Milliseconds between reconnect attempts; 0 disables reconnecting. Default 1000. */
  reconnectPeriod?: number;
  /** Milliseconds a promise request (`promises.keygen`, ...) waits for its answer; default 10000. */
  requestTimeout?: number;
  /** MQTT.js options applied last (kept from earlier versions of this SDK). */
  mqtt?: IClientOptions;
}

// Our own fields; everything else in a ConnectRequest goes to MQTT.js as it is.
const OWN = new Set(['host', 'port', 'secure', 'transport', 'requestTimeout', 'mqtt']);

/** The MQTT.js URL and options for a connect request. */
export function mqttOptions(request: ConnectRequest): { url: string; options: IClientOptions } {
  const secure = request.secure ?? pageIsSecure();
  const transport = request.transport ?? 'ws';
  const host = (request.host ?? 'api.emitter.io').replace(/.*?:\/\//g, '');
  const port = request.port ?? (secure ? 443 : 8080);
  const scheme = transport === 'tcp' ? (secure ? 'mqtts' : 'mqtt') : secure ? 'wss' : 'ws';
  const url = `${scheme}://${host}:${port}${transport === 'tcp' ? '' : '/'}`;
  const passed: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(request)) if (!OWN.has(name)) passed[name] = value;
  const options: IClientOptions = {
    keepalive: 30,
    reconnectPeriod: 1000,
    connectTimeout: 30000,
    protocolVersion: 4,
    ...passed,
    ...request.mqtt,
    // The client subscribes again itself, knowing what the broker kept (see Emitter's restore).
    resubscribe: false,
  };
  return { url, options };
}

function pageIsSecure(): boolean {
  const location = (globalThis as { location?: { protocol?: string } }).location;
  return location?.protocol === 'https:';
}
