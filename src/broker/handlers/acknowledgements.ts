/** PUBACK, PUBREC and PUBCOMP from the client: the QoS 1 and 2 exchanges of deliveries to it. */

import type { ClientSession } from '../session.js';

/** PUBACK: a QoS 1 delivery arrived; its slot in the in-flight window is free. */
export function handlePuback(session: ClientSession, packetId: number): void {
  session.outbox?.acknowledge(session, packetId, 1);
}

/** PUBREC: a QoS 2 delivery arrived; we answer PUBREL and wait for PUBCOMP. */
export function handlePubrec(session: ClientSession, packetId: number): void {
  if (session.outbox) session.outbox.received(session, packetId);
  else session.connection.pubrel({ messageId: packetId });
}

/** PUBCOMP: a QoS 2 delivery is complete; its slot in the in-flight window is free. */
export function handlePubcomp(session: ClientSession, packetId: number): void {
  session.outbox?.acknowledge(session, packetId, 2);
}
