import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Broker } from '../../src/broker/broker.js';
import { createKeygenPage } from '../../src/http/keygen-page.js';
import { generateLicense, KeyAuthority, Permission } from '../../src/security/index.js';
import { launchChromium } from '../helpers/browser.js';
import { connectClient } from '../helpers/clients.js';

test('the /keygen page makes a working key in a real browser, and shows errors', async () => {
  const { license } = generateLicense();
  const authority = new KeyAuthority(license);
  const broker = new Broker({
    license,
    authority,
    listen: { host: '127.0.0.1', port: 0 },
    logger: pino({ level: 'silent' }),
    httpRoutes: { '/keygen': createKeygenPage(authority) },
  });
  const { port } = await broker.listen();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/keygen`);
    await page.fill('#key', license.newMasterKey());
    await page.fill('#channel', 'web/#/');
    await page.check('input[name=pub]');
    await page.check('input[name=sub]');
    await page.click('#generate');
    const key = (await page.textContent('#generatedKey', { timeout: 10000 })) ?? '';
    assert.match(key, /^[A-Za-z0-9_-]{32}$/);
    assert.match((await page.textContent('#keygenResponse')) ?? '', /channel: web\/#\//);

    const client = await connectClient(port);
    await client.mqtt.subscribeAsync(`${key}/web/page/`);
    await client.mqtt.publishAsync(`${key}/web/page/`, 'made in the browser');
    assert.equal((await client.next()).payload.toString(), 'made in the browser');
    await client.end();

    await page.fill('#key', 'this-is-not-a-secret-key-at-all!');
    await page.click('#generate');
    await page.waitForSelector('#keygenResponse.error', { timeout: 10000 });
    assert.equal(
      await page.textContent('#keygenResponse'),
      'the security key provided is not authorized to perform this operation',
    );
    await page.fill('#key', license.newMasterKey());
    await page.fill('#channel', 'no-trailing-slash');
    await page.click('#generate');
    await page.waitForSelector('#keygenResponse.error', { timeout: 10000 });
    assert.match((await page.textContent('#keygenResponse')) ?? '', /channel should end with/);
  } finally {
    await browser.close();
    await broker.close();
  }
});

test('the /keygen form refuses values it cannot have sent with "invalid arguments", as Emitter', async () => {
  const { license } = generateLicense();
  const authority = new KeyAuthority(license);
  const broker = new Broker({
    license,
    authority,
    listen: { host: '127.0.0.1', port: 0 },
    logger: pino({ level: 'silent' }),
    httpRoutes: { '/keygen': createKeygenPage(authority) },
  });
  const { port } = await broker.listen();
  const secret = license.newMasterKey();
  const post = async (fields: Record<string, string>): Promise<string> => {
    const response = await fetch(`http://127.0.0.1:${port}/keygen`, {
      method: 'POST',
      body: new URLSearchParams(fields),
    });
    assert.equal(response.status, 200);
    const html = await response.text();
    return /<pre id="keygenResponse"[^>]*>([\s\S]*?)<\/pre>/.exec(html)?.[1] ?? '(no response)';
  };
  try {
    assert.equal(await post({ key: secret, channel: 'a/', sub: 'maybe' }), 'invalid arguments');
    assert.equal(await post({ key: secret, channel: 'a/', pub: 'true' }), 'invalid arguments');
    assert.equal(await post({ key: secret, channel: 'a/', sub: 'on', ttl: 'soon' }), 'invalid arguments');
    assert.equal(await post({ key: secret, channel: 'a/', sub: 'on', ttl: '1e3' }), 'invalid arguments');
    assert.equal(await post({ key: secret, channel: 'a/', sub: 'on', ttl: '-5' }), 'invalid arguments');
    // Unreadable values are reported before missing fields, as Emitter does.
    assert.equal(await post({ channel: 'a/', sub: 'maybe' }), 'invalid arguments');
    assert.equal(await post({ channel: 'a/', sub: 'on' }), 'Missing SecretKey');

    // "on", "off" and empty are what a browser sends; a key is made with exactly the "on" boxes.
    const made = await post({ key: secret, channel: 'a/', sub: 'on', pub: 'off', load: '', ttl: '60' });
    const key = /key {4}: <span id="generatedKey">([^<]+)<\/span>/.exec(made)?.[1] ?? '';
    assert.match(key, /^[A-Za-z0-9_-]{32}$/, made);
    const decrypted = authority.decrypt(key);
    assert.ok(decrypted);
    assert.equal(decrypted.permissions, Permission.Read);
    assert.ok(decrypted.expires > 0, 'ttl 60 gives the key an expiry');
  } finally {
    await broker.close();
  }
});
