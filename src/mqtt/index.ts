export {
  MqttConnection,
  type MqttConnectionEvents,
  type MqttConnectionHandler,
  type MqttConnectionOptions,
} from './connection.js';
export { decodePublish, decodePublishV5 } from './decode-publish.js';
export { decodePublishProperties, encodePublishProperties } from './publish-properties.js';
export { encodeAck, encodePublish, encodePublishV5, type OutgoingPublish } from './encode.js';
export { Delivery, patchPacketId, type Message, type PublishProperties, type QoS } from './delivery.js';
export { MqttErrorCode, MqttProtocolError } from './errors.js';
export { ReasonCode } from './reason-codes.js';
export { readFixedHeader, type FixedHeader } from './framing.js';
export {
  createSecureServer,
  createServer,
  MqttSecureServer,
  MqttServer,
  type ClientListener,
} from './server.js';
export { selectSubprotocol, webSocketStream } from './transport/websocket.js';
export {
  listenSharedPort,
  type SharedPortOptions,
  type SharedPortServer,
  type Transport,
} from './transport/shared-port.js';
