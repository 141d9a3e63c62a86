import type { IPublishPacket } from 'mqtt-packet';

/**
 * Decodes one whole MQTT 3.1/3.1.1 PUBLISH frame (fixed header included) without going through the
 * general parser: PUBLISH is the one packet on the hot path. The result matches what mqtt-packet's
 * parser emits for the same bytes (tested against it as the oracle), except that a QoS 1/2 frame too short
 * for its packet id is an error here (mqtt-packet reports id -1). `payload` is a view into `frame`.
 */
export function decodePublish(frame: Buffer, headerLength: number): IPublishPacket | Error {
  const flags = frame[0];
  const qos = (flags >> 1) & 3;
  if (qos === 3) return new Error('Packet must not have both QoS bits set to 1');
  let at = headerLength;
  if (at + 2 > frame.length) return new Error('Cannot parse topic');
  const topicLength = frame.readUInt16BE(at);
  at += 2;
  if (at + topicLength > frame.length) return new Error('Cannot parse topic');
  const topic = frame.toString('utf8', at, at + topicLength);
  at += topicLength;
  let messageId: number | undefined;
  if (qos > 0) {
    if (at + 2 > frame.length) return new Error('Cannot parse messageId');
    messageId = frame.readUInt16BE(at);
    at += 2;
  }
  const packet: IPublishPacket = {
    cmd: 'publish',
    retain: (flags & 1) !== 0,
    qos: qos as 0 | 1 | 2,
    dup: (flags & 8) !== 0,
    length: frame.length - headerLength,
    topic,
    payload: frame.subarray(at),
  };
  if (messageId !== undefined) packet.messageId = messageId;
  return packet;
}
