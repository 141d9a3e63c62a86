import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { connectClient, keygen } from '../helpers/clients.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { freePort } from '../helpers/redis.js';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));

// A page as the README shows it: the bundle imported from a <script type="module">, used in both styles.
const PAGE = `<!doctype html>
<html>
  <body>
    <pre id="out"></pre>
    <script type="module">
      import emitter from './emitter-client.js';

      const params = new URLSearchParams(location.search);
      const options = { host: '127.0.0.1', port: Number(params.get('port')), reconnectPeriod: 0 };
      const secret = params.get('secret');
      const results = {};
      try {
        // emitter-io's style: callbacks and events.
        results.callbacks = await new Promise((resolve, reject) => {
          setTimeout(() => reject(new Error('callbacks timed out')), 8000);
          const client = emitter.connect(options, () => {
            client.keygen({ key: secret, channel: 'web/cb/', type: 'rw', ttl: 0 });
          });
          client.on('keygen', (reply) => {
            client.subscribe({ key: reply.key, channel: 'web/cb/' });
            client.publish({ key: reply.key, channel: 'web/cb/', message: 'hello from callbacks' });
          });
          client.on('message', (message) => {
            resolve({ channel: message.channel, text: message.asString(), bytes: message.binary.length });
            client.disconnect();
          });
        });

        // Promises.
        const client = await emitter.connectAsync({ ...options, username: 'web' });
        const { key } = await client.promises.keygen({ key: secret, channel: 'web/p/', type: 'rwslp' });
        const received = new Promise((resolve) => client.on('message', resolve));
        await client.promises.subscribe({ key, channel: 'web/p/' });
        await client.promises.publish({ key, channel: 'web/p/', message: new Uint8Array([0, 1, 254, 255]), ttl: 60 });
        const message = await received;
        const presence = await client.promises.presence({ key, channel: 'web/p/' });
        const history = await client.promises.history({ key, channel: 'web/p/', last: 5 });
        const refused = await client.promises.publish({ key: 'nope', channel: 'web/p/', message: 'x' }).catch((e) => e);
        results.promises = {
          bytes: [...message.asBinary()],
          who: presence.who.map((w) => w.username),
          history: history.map((m) => [...m.asBinary()]),
          refused: [refused.name, refused.status],
          me: await client.promises.me(),
        };
        await client.promises.disconnect();
      } catch (error) {
        results.error = String(error && error.stack || error);
      }
      window.results = results;
      document.getElementById('out').textContent = 'done';
    </script>
  </body>
</html>
`;

/** Serves a folder over HTTP on loopback. */
async function serve(site: string): Promise<{ server: Server; port: number }> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };
  const server = createServer((request, response) => {
    const path = join(site, (request.url ?? '/').split('?')[0].replace(/^\/$/, '/index.html'));
    let body: Buffer;
    try {
      body = readFileSync(path);
    } catch {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

describe('the browser bundle in Chromium', () => {
  let site: string;
  let web: { server: Server; port: number };
  let broker: TestBroker;
  let browser: Browser;

  before(async () => {
    // Build the bundle as the package ships it, and lay the pages out beside it.
    site = mkdtempSync(join(tmpdir(), 'emitter-browser-'));
    execFileSync(process.execPath, [join(examples, 'build-bundle.mjs'), join(site, 'emitter-client.js')]);
    for (const file of ['index.html', 'app.js'])
      copyFileSync(join(examples, 'presence', file), join(site, file));
    writeFileSync(join(site, 'both-styles.html'), PAGE);
    web = await serve(site);
    broker = await startTestBroker();
    browser = await launchChromium();
  });
  after(async () => {
    await browser.close();
    await broker.close();
    web.server.close();
  });

  test('a <script type="module"> page uses both styles over WebSocket', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const query = new URLSearchParams({ port: String(broker.port), secret: broker.secret });
    await page.goto(`http://127.0.0.1:${web.port}/both-styles.html?${query}`);
    await page.waitForSelector('#out:has-text("done")', { timeout: 20000 });
    const results = (await page.evaluate(() => (window as unknown as { results: unknown }).results)) as {
      callbacks?: unknown;
      promises?: { me: { id: string; links: object } };
      error?: string;
    };
    assert.equal(results.error, undefined);
    assert.deepEqual(results.callbacks, { channel: 'web/cb/', text: 'hello from callbacks', bytes: 20 });
    const { me, ...promises } = results.promises ?? { me: { id: '', links: {} } };
    assert.deepEqual(promises, {
      bytes: [0, 1, 254, 255],
      who: ['web'],
      history: [[0, 1, 254, 255]],
      refused: ['EmitterRequestError', 401],
    });
    assert.match(me.id, /^[A-Z2-7]{26}$/);
    assert.deepEqual(me, { id: me.id, links: {} });
    assert.deepEqual(errors, []);
  });

  test('the presence demo page shows joins and leaves', async () => {
    const helper = await connectClient(broker.port);
    const key = await keygen(helper, broker.secret, 'presence-demo/', 'rp');
    await helper.end();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const query = new URLSearchParams({
      host: '127.0.0.1',
      port: String(broker.port),
      key,
      channel: 'presence-demo/',
    });
    await page.goto(`http://127.0.0.1:${web.port}/index.html?${query}`);
    await page.waitForSelector('#status:has-text("watching")', { timeout: 10000 });
    assert.equal(await page.textContent('#occupancy'), '0');

    const names = () => page.$$eval('#users li', (items) => items.map((item) => item.textContent));
    await page.click('#toggle-alan');
    await page.waitForSelector('#users li:has-text("Alan")', { timeout: 10000 });
    await page.click('#toggle-margaret');
    await page.waitForSelector('#users li:has-text("Margaret")', { timeout: 10000 });
    assert.deepEqual(await names(), ['Alan', 'Margaret']);
    assert.equal(await page.textContent('#occupancy'), '2');

    await page.click('#toggle-alan');
    await page.waitForSelector('#users li:has-text("Alan")', { state: 'detached', timeout: 10000 });
    assert.deepEqual(await names(), ['Margaret']);
    assert.equal(await page.textContent('#occupancy'), '1');
    assert.deepEqual(errors, []);
  });

  test('the presence demo page shows the broker refusing a bad or missing key, and an unreachable broker', async () => {
    const helper = await connectClient(broker.port);
    const readOnly = await keygen(helper, broker.secret, 'presence-demo/', 'r'); // no p
    await helper.end();
    const page = await browser.newPage();
    const open = async (params: Record<string, string>): Promise<string> => {
      const query = new URLSearchParams({ host: '127.0.0.1', channel: 'presence-demo/', ...params });
      await page.goto(`http://127.0.0.1:${web.port}/index.html?${query}`);
      await page.waitForSelector('#error:not([hidden])', { timeout: 10000 });
      return (await page.textContent('#error')) ?? '';
    };
    const port = String(broker.port);
    assert.match(await open({ port, key: readOnly }), /refused the presence request: 401 the security key/);
    assert.equal(await page.textContent('#status'), 'refused');
    const missing = await open({ port });
    assert.match(missing, /refused the presence request: 400 the request was invalid/);
    assert.match(missing, /no key given: open this page with &key=/);

    // A device without the key's permission: its refusal is shown too.
    await open({ port, key: 'x' });
    await page.click('#toggle-alan');
    await page.waitForSelector('#error:has-text("Alan could not join")', { timeout: 10000 });

    const closed = await freePort();
    assert.match(
      await open({ port: String(closed), key: readOnly }),
      /Cannot reach the broker at ws:\/\/127\.0\.0\.1:/,
    );
    assert.equal(await page.textContent('#status'), 'not connected');
  });
});
