import type { IConnectPacket } from 'mqtt-packet';
import type { QoS } from '../../channel/index.js';
import { callHook, type ConnectRefusal } from '../hooks.js';
import type { ClientSession } from '../session.js';

// MQTT 5 CONNACK reason code for a protocol level this broker does not serve.
const UNSUPPORTED_PROTOCOL_VERSION = 0x84;
// MQTT 3.1.1 CONNACK return codes.
const UNACCEPTABLE_PROTOCOL_VERSION = 1;
const IDENTIFIER_REJECTED = 2;
const CONNECT_REFUSALS: Record<ConnectRefusal, number> = { badCredentials: 4, notAuthorized: 5 };

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
  const authenticate = session.core.hooks.authenticate;
  if (authenticate === undefined) return accept(session, clean);
  const password = typeof packet.password === 'string' ? Buffer.from(packet.password) : packet.password;
  const refusal = callHook(
    'authenticate',
    session,
    () => authenticate(session, packet.username, password),
    'notAuthorized' as ConnectRefusal,
    session.core.hookOptions,
  );
  if (!(refusal instanceof Promise))
    return refusal === undefined ? accept(session, clean) : refuse(session, refusal);
  // Packets sent right behind CONNECT wait for the answer (handled in order after it).
  session.waiting = [];
  void refusal.then((answer) => {
    if (!session.online) return;
    if (answer !== undefined) {
      session.waiting = undefined;
      return refuse(session, answer);
    }
    accept(session, clean);
    session.stopWaiting();
  });
}

function accept(session: ClientSession, clean: boolean): void {
  const { serving, present } = session.core.registry.connect(session, clean);
  session.connection.connack({ returnCode: 0, sessionPresent: present });
  serving.accepted = true;
  session.core.sessionConnected(serving);
  if (present) serving.resumeDeliveries();
}

// The will is dropped: a refused client never connected.
function refuse(session: ClientSession, refusal: ConnectRefusal): void {
  session.will = undefined;
  session.connection.connack({ returnCode: CONNECT_REFUSALS[refusal] ?? 5, sessionPresent: false });
  session.connection.end();
}
