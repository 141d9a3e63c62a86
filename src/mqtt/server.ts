import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { MqttConnection, type MqttConnectionOptions } from './connection.js';

/** Called with each new client connection. */
export type ClientListener = (client: MqttConnection) => void;

/** A `net.Server` that wraps every socket in an `MqttConnection` and emits it as `client`. */
export class MqttServer extends net.Server {
  constructor(listener?: ClientListener, options: MqttConnectionOptions = {}) {
    super((socket) => {
      socket.setNoDelay(true);
      this.emit('client', new MqttConnection(socket, options));
    });
    if (listener) this.on('client', listener);
  }
}

/** A `tls.Server` that wraps every secure socket in an `MqttConnection` and emits it as `client`. */
export class MqttSecureServer extends tls.Server {
  constructor(secure: tls.TlsOptions, listener?: ClientListener, options: MqttConnectionOptions = {}) {
    super(secure, (socket) => {
      socket.setNoDelay(true);
      this.emit('client', new MqttConnection(socket, options));
    });
    if (listener) this.on('client', listener);
  }
}

/** Creates an MQTT server (mqtt.js server API): `listener` is called on each `client`. */
export function createServer(listener?: ClientListener, options?: MqttConnectionOptions): MqttServer {
  return new MqttServer(listener, options);
}

/** Creates an MQTT server over TLS from a PEM private key file and certificate file. */
export function createSecureServer(
  keyPath: string,
  certPath: string,
  listener?: ClientListener,
  options?: MqttConnectionOptions,
): MqttSecureServer {
  return new MqttSecureServer(
    { key: readFileSync(keyPath), cert: readFileSync(certPath) },
    listener,
    options,
  );
}
