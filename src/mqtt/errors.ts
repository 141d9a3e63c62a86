/** Stable codes for the protocol violations that close a connection. */
export const MqttErrorCode = {
  PacketTooLarge: 'MQTT_ERR_PACKET_TOO_LARGE',
  Malformed: 'MQTT_ERR_MALFORMED',
  FirstPacket: 'MQTT_ERR_FIRST_PACKET',
  SecondConnect: 'MQTT_ERR_SECOND_CONNECT',
  KeepaliveTimeout: 'MQTT_ERR_KEEPALIVE_TIMEOUT',
  ConnectTimeout: 'MQTT_ERR_CONNECT_TIMEOUT',
  /** MQTT 5: more QoS > 0 PUBLISHes unacknowledged than our Receive Maximum. */
  ReceiveMaximumExceeded: 'MQTT_ERR_RECEIVE_MAXIMUM',
  /** MQTT 5: a topic alias of 0, above our maximum, or unknown. */
  TopicAliasInvalid: 'MQTT_ERR_TOPIC_ALIAS',
  /** MQTT 5: any other protocol error (reason code 0x82). */
  ProtocolError: 'MQTT_ERR_PROTOCOL',
  /** Not the peer's fault: handling its packet threw; the connection is closed to contain it. */
  HandlerFailed: 'MQTT_ERR_HANDLER_FAILED',
} as const;

export type MqttErrorCode = (typeof MqttErrorCode)[keyof typeof MqttErrorCode];

/**
 * A protocol violation by the peer (or a failure handling its packet, `HandlerFailed`, with the thrown
 * value as `cause`); the connection is closed after it is emitted.
 */
export class MqttProtocolError extends Error {
  override readonly name = 'MqttProtocolError';
  constructor(
    readonly code: MqttErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
