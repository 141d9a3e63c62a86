import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../helpers/browser.js';
import { connectClient, keygen } from '../helpers/clients.js';
import { startTestBroker } from '../helpers/broker.js';
import { freePort } from '../helpers/redis.js';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));

/** Builds the bundle and lays the presence page out in a temp dir, served over HTTP on loopback. */
async function servePresenceDemo(): Promise<{ port: number; close(): void }> {
  const site = mkdtempSync(join(tmpdir(), 'emitter-presence-'));
  execFileSync(process.execPath, [join(examples, 'build-bundle.mjs'), join(site, 'emitter-client.js')]);
  for (const file of ['index.html', 'app.js'])
    copyFileSync(join(examples, 'presence', file), join(site, file));
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };
  const web = createServer((request, response) => {
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
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  return { port: (web.address() as { port: number }).port, close: () => web.close() };
}

test('the presence demo page, on the browser bundle over WebSocket, shows joins and leaves', async () => {
  const web = await servePresenceDemo();
  const webPort = web.port;
  const server = await startTestBroker();
  const helper = await connectClient(server.port);
  const key = await keygen(helper, server.secret, 'presence-demo/', 'rp');
  await helper.end();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const query = new URLSearchParams({
      host: '127.0.0.1',
      port: String(server.port),
      key,
      channel: 'presence-demo/',
    });
    await page.goto(`http://127.0.0.1:${webPort}/index.html?${query}`);
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
  } finally {
    await browser.close();
    await server.close();
    web.close();
  }
});

test('the presence demo page shows the broker refusing a bad or missing key, and an unreachable broker', async () => {
  const web = await servePresenceDemo();
  const server = await startTestBroker();
  const helper = await connectClient(server.port);
  const readOnly = await keygen(helper, server.secret, 'presence-demo/', 'r'); // no p
  await helper.end();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const open = async (params: Record<string, string>): Promise<string> => {
      const query = new URLSearchParams({ host: '127.0.0.1', channel: 'presence-demo/', ...params });
      await page.goto(`http://127.0.0.1:${web.port}/index.html?${query}`);
      await page.waitForSelector('#error:not([hidden])', { timeout: 10000 });
      return (await page.textContent('#error')) ?? '';
    };
    const port = String(server.port);
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
  } finally {
    await browser.close();
    await server.close();
    web.close();
  }
});
