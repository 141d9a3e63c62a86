import type { IDisconnectPacket } from 'mqtt-packet';
import { MqttErrorCode } from '../../mqtt/index.js';
import type { ClientSession } from '../session.js';

// MQTT 5 DISCONNECT reason: close, and publish the will anyway.
const DISCONNECT_WITH_WILL = 0x04;

/**
 * DISCONNECT from the client. A normal one discards the last will (MQTT 3.1.1 and 5; Emitter publishes
 * it anyway); MQTT 5's 0x04 keeps it [MQTT-3.14.4-3]. An MQTT 5 client may change its Session Expiry
 * Interval here, except from 0 to more [MQTT-3.14.2-2].
 */
export function handleDisconnect(session: ClientSession, packet: IDisconnectPacket): void {
  const v5 = session.v5;
  const expiry = packet.properties?.sessionExpiryInterval;
  if (v5 !== undefined && expiry !== undefined) {
    if (v5.expiryMs === 0 && expiry > 0) {
      session.connection.protocolError(
        MqttErrorCode.ProtocolError,
        'session expiry interval set at DISCONNECT after 0 at CONNECT',
      );
      return;
    }
    session.setExpiry(expiry);
  }
  if (v5 === undefined || packet.reasonCode !== DISCONNECT_WITH_WILL) session.will = undefined;
  session.connection.end();
}
