import { randomBytes } from 'node:crypto';
import type { IConnackPacket, IConnectPacket } from 'mqtt-packet';
import type { QoS } from '../../channel/index.js';
import { ReasonCode } from '../../mqtt/index.js';
import { packetSizeFor } from '../mqtt5.js';
import { callHook, type ConnectRefusal } from '../hooks.js';
import { plainAccessOf } from '../plain.js';
import type { ClientSession } from '../session.js';

// MQTT 3.1.1 CONNACK return codes.
const UNACCEPTABLE_PROTOCOL_VERSION = 1;
const IDENTIFIER_REJECTED = 2;
// Session Expiry Interval meaning "never" [MQTT-3.1.2.11.2].
const NEVER_EXPIRES = 0xffffffff;
const CONNECT_REFUSALS: Record<ConnectRefusal, number> = { badCredentials: 4, notAuthorized: 5 };

/**
 * CONNECT: checks the protocol level, then finds the client's session (`SessionRegistry.connect`): a
 * clean one, or the persistent one it left (sessionPresent = 1), taking it over from a connection that
 * still holds it. After CONNACK, a resumed session re-sends what its client did not acknowledge.
 */
export function handleConnect(session: ClientSession, packet: IConnectPacket): void {
  const connection = session.connection;
  const level = packet.protocolVersion;
  if (level !== 3 && level !== 4 && level !== 5) {
    // The connection refuses unknown levels before parsing; this is for a level the parser let through.
    connection.connack({ returnCode: UNACCEPTABLE_PROTOCOL_VERSION, sessionPresent: false });
    connection.end();
    return;
  }
  if (level === 5) return connectV5(session, packet);
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
  session.will = willOf(packet);
  if (!admitPlain(session, packet)) return;
  authenticateThen(session, packet, () =>
    whenPrepared(session, clientId, clean, () => {
      const { serving, present } = session.core.registry.connect(session, clean);
      connection.connack({ returnCode: 0, sessionPresent: present });
      connected(session, serving, present);
    }),
  );
}

/**
 * Plain MQTT access (README "Plain MQTT clients"): with `keyPassword`, a password that is not a valid
 * channel key of this licence is refused here (CONNACK 5 / 0x87), before any hook; false when refused.
 */
function admitPlain(session: ClientSession, packet: IConnectPacket): boolean {
  const core = session.core;
  const access = plainAccessOf(packet, core.plain, core.authority);
  if (access === 'refused') {
    refuse(session, 'notAuthorized');
    return false;
  }
  session.plain = access;
  return true;
}

/**
 * Runs `accept` once the application's `authenticate` hook (if any) let the client in; refuses it
 * otherwise. Packets sent right behind CONNECT wait for an async answer (handled in order after it).
 */
function authenticateThen(session: ClientSession, packet: IConnectPacket, accept: () => void): void {
  const authenticate = session.core.hooks.authenticate;
  if (authenticate === undefined) return accept();
  const password = typeof packet.password === 'string' ? Buffer.from(packet.password) : packet.password;
  const refusal = callHook(
    'authenticate',
    session,
    () => authenticate(session, packet.username, password),
    'notAuthorized' as ConnectRefusal,
    session.core.hookOptions,
  );
  if (!(refusal instanceof Promise)) return refusal === undefined ? accept() : refuse(session, refusal);
  session.waiting = [];
  void refusal.then((answer) => {
    if (!session.online) return;
    if (answer === undefined) return accept();
    session.waiting = undefined;
    refuse(session, answer);
  });
}

/** The client is in: `serving` (itself, or the persistent session it resumed) serves it from now on. */
function connected(session: ClientSession, serving: ClientSession, present: boolean): void {
  serving.accepted = true;
  session.core.sessionConnected(serving);
  if (present) serving.resumeDeliveries();
  // Packets that came while an async authenticate answered go to the session now serving, in order.
  const waiting = session.waiting;
  session.waiting = undefined;
  if (waiting !== undefined) for (const packet of waiting) serving.handlePacket(packet);
}

/**
 * Runs `serve` once the client id's session is ready here: at once on a single node, or after the other
 * cluster nodes let it go and the shared store gave it up; later packets wait for it meanwhile.
 */
function whenPrepared(session: ClientSession, clientId: string, clean: boolean, serve: () => void): void {
  const connection = session.connection;
  const preparing = session.core.registry.prepare(clientId, clean);
  if (preparing === undefined) {
    serve();
    return;
  }
  const release = connection.holdPackets();
  preparing.then(
    () => {
      if (session.online) serve();
      release();
    },
    (error: unknown) => {
      session.core.sessionFailed(session, error);
      connection.destroy();
      release();
    },
  );
}

/**
 * MQTT 5 CONNECT: Clean Start and Session Expiry Interval instead of clean session, the client's limits
 * (Receive Maximum, Maximum Packet Size) and ours in CONNACK, an assigned client id for an empty one.
 */
function connectV5(session: ClientSession, packet: IConnectPacket): void {
  const connection = session.connection;
  const core = session.core;
  const properties = packet.properties ?? {};
  const settings = core.mqtt5;
  const ack: NonNullable<IConnackPacket['properties']> = {};
  let clientId = packet.clientId ?? '';
  if (clientId === '') {
    // The server assigns an id and says which [MQTT-3.1.3-6, MQTT-3.2.2-16].
    clientId = `auto-${randomBytes(12).toString('hex')}`;
    ack.assignedClientIdentifier = clientId;
  }
  const maxExpiryMs = core.sessionLimits.expiryMs;
  const asked = properties.sessionExpiryInterval ?? 0;
  let expiryMs = asked === NEVER_EXPIRES ? Infinity : asked * 1000;
  if (maxExpiryMs > 0 && expiryMs > maxExpiryMs) {
    // Ours is shorter: CONNACK says which one applies [MQTT-3.2.2.3.2].
    expiryMs = maxExpiryMs;
    ack.sessionExpiryInterval = Math.floor(maxExpiryMs / 1000);
  }
  if (properties.requestProblemInformation === false) connection.reasonStrings = false;
  if (properties.maximumPacketSize !== undefined) connection.peerMaxPacketSize = properties.maximumPacketSize;
  session.username = packet.username ?? '';
  session.clientId = clientId;
  session.will = willOf(packet);
  session.v5 = {
    receiveMaximum: properties.receiveMaximum ?? 65535,
    expiryMs,
    incomingQos1: 0,
    aliases: undefined,
    clientAliasMaximum: properties.topicAliasMaximum ?? 0,
    outAliases: undefined,
  };
  if (settings.receiveMaximum < 65535) ack.receiveMaximum = settings.receiveMaximum;
  ack.maximumPacketSize = packetSizeFor(core.limits.messageSize);
  if (settings.topicAliasMaximum > 0) ack.topicAliasMaximum = settings.topicAliasMaximum;
  ack.retainAvailable = true;
  ack.wildcardSubscriptionAvailable = true;
  ack.subscriptionIdentifiersAvailable = true;
  ack.sharedSubscriptionAvailable = true;
  if (settings.serverKeepAlive > 0 && settings.serverKeepAlive !== packet.keepalive) {
    ack.serverKeepAlive = settings.serverKeepAlive;
    connection.keepAlive(settings.serverKeepAlive);
  }
  const cleanStart = packet.clean !== false;
  if (!admitPlain(session, packet)) return;
  authenticateThen(session, packet, () =>
    whenPrepared(session, clientId, cleanStart, () => {
      const { serving, present } = core.registry.connect(session, cleanStart, expiryMs > 0);
      connection.connack({ reasonCode: ReasonCode.Success, sessionPresent: present, properties: ack });
      connected(session, serving, present);
    }),
  );
}

function willOf(packet: IConnectPacket): ClientSession['will'] {
  if (!packet.will) return undefined;
  const { topic, payload, qos, retain } = packet.will;
  const will = {
    topic,
    payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
    qos: (qos ?? 0) as QoS,
    retain: retain ?? false,
  };
  if (packet.protocolVersion !== 5 || !packet.will.properties) return will;
  const { willDelayInterval, ...properties } = packet.will.properties;
  return {
    ...will,
    properties,
    ...(willDelayInterval ? { delayMs: willDelayInterval * 1000 } : {}),
  };
}

// The will is dropped: a refused client never connected.
function refuse(session: ClientSession, refusal: ConnectRefusal): void {
  session.will = undefined;
  const connection = session.connection;
  if (connection.protocolVersion === 5) {
    // MQTT 5's own codes: Bad User Name or Password 0x86, Not Authorized 0x87.
    const reasonCode = refusal === 'badCredentials' ? 0x86 : 0x87;
    connection.connack({ reasonCode, sessionPresent: false });
  } else {
    connection.connack({ returnCode: CONNECT_REFUSALS[refusal] ?? 5, sessionPresent: false });
  }
  connection.end();
}
