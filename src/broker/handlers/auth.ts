import { MqttErrorCode } from '../../mqtt/index.js';
import type { ClientSession } from '../session.js';

/**
 * AUTH from the client. The broker supports no enhanced authentication method, so a CONNECT naming one
 * is refused (`connect.ts`, CONNACK 0x8C) and no connection ever has one: an AUTH is then a protocol
 * error [MQTT-4.12.0-7], answered with DISCONNECT 0x82 and the close.
 */
export function handleAuth(session: ClientSession): void {
  session.connection.protocolError(
    MqttErrorCode.ProtocolError,
    'AUTH without an Authentication Method in CONNECT: this server supports no enhanced authentication',
  );
}
