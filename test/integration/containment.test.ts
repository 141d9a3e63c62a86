import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { connectClient, keygen } from '../helpers/clients.js';
import { startTestBroker } from '../helpers/broker.js';
import { scrapeMetrics } from '../helpers/metrics.js';

// A bug in the handling of one client's packet must end that connection only: the process, and every
// other client, go on. Faults are injected into a service, as a bug would be.

/** A logger that keeps its JSON lines in memory. */
function memoryLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

test('a handler that throws (sync or async) closes only that connection, logged with the client id and counted', async () => {
  const { logger, lines } = memoryLogger();
  const server = await startTestBroker({ logger });
  const bystander = await connectClient(server.port, { clientId: 'bystander' });
  try {
    const key = await keygen(bystander, server.secret, 'calm/', 'rw');
    await bystander.mqtt.subscribeAsync(`${key}/calm/`);

    const pubsub = server.broker.pubsub;
    const realSubscribe = pubsub.subscribe.bind(pubsub);
    const realUnsubscribe = pubsub.unsubscribe.bind(pubsub);
    // An async failure (a rejected promise) on SUBSCRIBE, a synchronous throw on UNSUBSCRIBE.
    pubsub.subscribe = (session, channel) =>
      channel.channel === 'boom/'
        ? Promise.reject(new Error('injected async fault'))
        : realSubscribe(session, channel);
    pubsub.unsubscribe = (session, channel) => {
      if (channel.channel === 'boom/') throw new Error('injected sync fault');
      return realUnsubscribe(session, channel);
    };

    for (const [clientId, act] of [
      ['victim-async', (c: Awaited<ReturnType<typeof connectClient>>) => c.mqtt.subscribe(`${key}/boom/`)],
      ['victim-sync', (c: Awaited<ReturnType<typeof connectClient>>) => c.mqtt.unsubscribe(`${key}/boom/`)],
    ] as const) {
      const victim = await connectClient(server.port, { clientId });
      const closed = new Promise<void>((resolve) => victim.mqtt.once('close', () => resolve()));
      act(victim);
      await closed;
      victim.mqtt.end(true);
    }

    // The bystander is still served, and the process never saw an uncaught error.
    await bystander.mqtt.publishAsync(`${key}/calm/`, 'fine');
    assert.equal((await bystander.next((m) => m.topic === 'calm/')).payload.toString(), 'fine');
    const metrics = await scrapeMetrics(server.port);
    assert.equal(metrics.get('emitter_connection_failures_total'), 2);
    const failures = lines.filter(
      (line) => line.msg === 'handling a client packet failed: closed that connection',
    );
    assert.deepEqual(
      failures.map((line) => line.clientId),
      ['victim-async', 'victim-sync'],
    );
    assert.match(JSON.stringify(failures[0].err), /injected async fault/);
    assert.match(JSON.stringify(failures[1].err), /injected sync fault/);
  } finally {
    await bystander.end();
    await server.close();
  }
});
