import type { IConnectPacket } from 'mqtt-packet';
import type { QoS } from '../../channel/index.js';
import type { ClientSession } from '../session.js';

// MQTT 5 CONNACK reason code for a protocol level this broker does not serve.
const UNSUPPORTED_PROTOCOL_VERSION = 0x84;
// MQTT 3.1.1 CONNACK return codes.
const UNACCEPTABLE_PROTOCOL_VERSION = 1;
const IDENTIFIER_REJECTED = 2;

/**
 * CONNECT: checks the protocol level, then finds the client's session (`SessionRegistry.connect`): a
 * clean one, or the persistent one it left (sessionPresent = 1), taking it over from a connection that
 * still holds it. After CONNACK, a resumed session re-sends what its client did not acknowledge.
 */
export function handleConnect(session: ClientSession, packet: IConnectPacket): void {
  const connection = session.connection;
  if (packet.protocolVersion === 5) {
    // Not served yet: MQTT 5 has its own refusal code (a v3 return code cannot be encoded in v5).
    connection.connack({ reasonCode: UNSUPPORTED_PROTOCOL_VERSION, sessionPresent: false });
    connection.end();
    return;
  }
  if (packet.protocolVersion !== 3 && packet.protocolVersion !== 4) {
    connection.connack({ returnCode: UNACCEPTABLE_PROTOCOL_VERSION, sessionPresent: false });
    connection.end();
    return;
  }
  const clean = packet.clean !== false;
  const clientId = packet.clientId ?? '';
  // A session needs a name to be found again [MQTT-3.1.3-8].
  if (!clean && clientId === '') {
    connection.connack({ returnCode: IDENTIFIER_REJECTED, sessionPresent: false });
    connection.end();
    return;
  }
  session.username = packet.username ?? '';
  session.clientId = clientId;
  if (packet.will) {
    const { topic, payload, qos, retain } = packet.will;
    session.will = {
      topic,
      payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
      qos: (qos ?? 0) as QoS,
      retain: retain ?? false,
    };
  }
  const preparing = session.core.registry.prepare(clientId, clean);
  if (preparing === undefined) {
    serve(session, clean);
    return;
  }
  // The session comes from another node or the shared store first; later packets wait for it.
  const release = connection.holdPackets();
  preparing.then(
    () => {
      if (session.online) serve(session, clean);
      release();
    },
    (error: unknown) => {
      session.core.sessionFailed(session, error);
      connection.destroy();
      release();
    },
  );
}

function serve(session: ClientSession, clean: boolean): void {
  const connection = session.connection;
  const { serving, present } = session.core.registry.connect(session, clean);
  connection.connack({ returnCode: 0, sessionPresent: present });
  session.core.sessionConnected(serving);
  if (present) serving.resumeDeliveries();
}
