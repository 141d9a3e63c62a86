import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Broker } from '../../src/broker/broker.js';
import { createKeygenPage } from '../../src/http/keygen-page.js';
import { generateLicense, KeyAuthority } from '../../src/security/index.js';
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
