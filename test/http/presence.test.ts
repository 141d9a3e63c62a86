import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connectClient, keygen, type TestClient } from '../helpers/clients.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

describe('HTTP POST /presence (Decision 4: served, with the key from the body)', () => {
  let server: TestBroker;
  let device: TestClient;
  let presenceKey: string;
  const channel = 'http-presence/room/';

  before(async () => {
    server = await startTestBroker();
    device = await connectClient(server.port, { clientId: 'device', username: 'sensor-7' });
    presenceKey = await keygen(device, server.secret, channel, 'rp');
    await device.mqtt.subscribeAsync(`${presenceKey}/${channel}`);
  });
  after(async () => {
    await device.end();
    await server.close();
  });

  const post = (body: string): Promise<Response> =>
    fetch(`http://127.0.0.1:${server.port}/presence`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });

  test('answers the same status as emitter/presence/, who and occupancy included', async () => {
    await device.mqtt.publishAsync('emitter/me/', '');
    const me = await device.nextJson('emitter/me/');
    const response = await post(JSON.stringify({ key: presenceKey, channel: 'http-presence/room' }));
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    const status = (await response.json()) as Record<string, unknown>;
    assert.equal(status.status, 200);
    assert.equal(status.event, 'status');
    assert.equal(status.channel, channel, 'a missing trailing slash is added, as over MQTT');
    assert.equal(status.occupancy, 1);
    assert.deepEqual(status.who, [{ id: me.id, username: 'sensor-7' }]);
    assert.equal(typeof status.time, 'number');
  });

  test('a key without p, or a foreign one, is 401 with the error body; a bad body is 400', async () => {
    const readOnly = await keygen(device, server.secret, channel, 'r');
    const refused = await post(JSON.stringify({ key: readOnly, channel }));
    assert.equal(refused.status, 401);
    assert.deepEqual(await refused.json(), {
      status: 401,
      message: 'the security key provided is not authorized to perform this operation',
    });
    const unknown = await post(JSON.stringify({ key: 'not-a-key-of-this-broker-at-all!', channel }));
    assert.equal(unknown.status, 401);
    await unknown.arrayBuffer();
    const bad = await post('not json');
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), {
      status: 400,
      message: 'the request was invalid or cannot be otherwise served',
    });
  });

  test('GET is 405 naming POST; a body above 16 KiB is 413 and nothing else is harmed', async () => {
    const get = await fetch(`http://127.0.0.1:${server.port}/presence`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    await get.arrayBuffer();

    // A raw request, so the 413 is seen even though the body is still being sent.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: server.port, path: '/presence', method: 'POST' },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.setTimeout(5000, () => req.destroy(new Error('no reply to an oversized body')));
      req.on('error', reject);
      req.end(Buffer.alloc(64 * 1024, 0x20));
    });
    assert.equal(status, 413);
    const again = await post(JSON.stringify({ key: presenceKey, channel }));
    assert.equal(again.status, 200);
    await again.arrayBuffer();
  });
});
