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

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));

test('the presence demo page, on the browser bundle over WebSocket, shows joins and leaves', async () => {
  // Build the bundle and lay the page out in a temp dir, served over HTTP on loopback.
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
  const webPort = (web.address() as { port: number }).port;

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
