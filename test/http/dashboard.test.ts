import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { connectClient, keygen, type TestClient } from '../helpers/clients.js';
import { startTestBroker } from '../helpers/broker.js';
import { startRedis } from '../helpers/redis.js';
import { RedisCluster } from '../../src/cluster/index.js';
import { RedisStorage } from '../../src/storage/index.js';
import { generateLicense } from '../../src/security/index.js';

// The screenshot for the README: docs/dashboard.png with UPDATE_SCREENSHOTS=1 (it differs on every run, so
// a plain test run writes it to a temp folder instead of dirtying the checkout).
const SCREENSHOT =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url))
    : join(mkdtempSync(join(tmpdir(), 'emitter-dashboard-')), 'dashboard.png');

const latest = (page: Page, metric: string): Promise<number> =>
  page.$eval(`svg[data-metric="${metric}"]`, (svg) => Number((svg as SVGElement).dataset.latest ?? 0));

test('GET / serves the dashboard page and its script from the broker itself', async () => {
  const server = await startTestBroker();
  try {
    const page = await fetch(`http://127.0.0.1:${server.port}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /connect-src 'self'/);
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/dashboard\.js">/);
    assert.doesNotMatch(html, /https?:\/\/(?!127)/, 'no outside URL (no CDN)');
    // No monitor configured: the page says the stats are off and how to turn them on.
    assert.match(html, /does not publish its stats/);
    const script = await fetch(`http://127.0.0.1:${server.port}/dashboard.js`, {
      headers: { 'accept-encoding': 'gzip' },
    });
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type') ?? '', /javascript/);
    assert.equal(script.headers.get('content-encoding'), 'gzip');
    assert.ok((await script.text()).length > 10000, 'the app with the client SDK');
    const post = await fetch(`http://127.0.0.1:${server.port}/`, { method: 'POST' });
    assert.equal(post.status, 405);
  } finally {
    await server.close();
  }
});

test('the dashboard in Chromium: needs a key, then charts every cluster node live; the message rate rises with traffic', async () => {
  const redis = await startRedis();
  const { license } = generateLicense();
  const logger = pino({ level: 'silent' });
  const node = (name: string) =>
    startTestBroker({
      license,
      monitor: { provider: 'self', interval: 500 },
      storage: new RedisStorage({ url: redis.url, prefix: `${name}:` }),
      cluster: new RedisCluster({ name, urls: [redis.url], deadAfterMs: 3000, logger }),
    });
  const a = await node('node-a');
  const b = await node('node-b');
  const clients: TestClient[] = [];
  const browser = await launchChromium();
  let load: NodeJS.Timeout | undefined;
  let loadDone: Promise<void> = Promise.resolve();
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 780 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`http://127.0.0.1:${a.port}/`);

    // Without a key the page shows nothing and says what it needs.
    assert.equal(await page.textContent('#status'), 'no key');
    assert.match((await page.textContent('#help')) ?? '', /secret key.*stats\/#\/.*\br\b/s);
    assert.equal(await page.textContent('#nodes'), 'no stats yet');

    // A key the broker refuses: the page says so.
    const helper = await connectClient(a.port);
    clients.push(helper);
    const wrongKey = await keygen(helper, a.secret, 'other/', 'r');
    await page.fill('#key', wrongKey);
    await page.click('button[type=submit]');
    await page.waitForSelector('#help.error', { timeout: 10000 });
    assert.match((await page.textContent('#help')) ?? '', /refused this key.*401/);

    // Some clients on both nodes: subscribers everywhere, so messages fan out across the cluster.
    const key = await keygen(helper, a.secret, 'load/#/', 'rws');
    for (const port of [a.port, a.port, b.port, b.port, b.port]) {
      const client = await connectClient(port);
      await client.mqtt.subscribeAsync(`${key}/load/`);
      clients.push(client);
    }

    // The secret key: the page makes itself a read key for stats/#/ and goes live with both nodes.
    await page.fill('#key', a.secret);
    await page.click('button[type=submit]');
    await page.waitForSelector('#status:has-text("live")', { timeout: 10000 });
    await page.waitForSelector('#nodes tr[data-node="node-a"]', { timeout: 10000 });
    await page.waitForSelector('#nodes tr[data-node="node-b"]', { timeout: 10000 });
    const before = await latest(page, 'messagesIn');
    assert.ok(before < 20, `quiet before the load: ${before}/s`);

    // Bounded load, at most 15 s and 60 000 messages: node a's publisher ramps up, then eases off;
    // node b's sends a steady stream, every tenth message stored (ttl).
    const [publisherA, publisherB] = [clients[1], clients[3]];
    const started = Date.now();
    let sent = 0;
    loadDone = new Promise((resolve) => {
      load = setInterval(() => {
        const elapsed = Date.now() - started;
        if (elapsed > 15000 || sent > 60000) {
          clearInterval(load);
          resolve();
          return;
        }
        const burstA = Math.round(60 * Math.sin((Math.PI * elapsed) / 16000) ** 2) + 2;
        for (let i = 0; i < burstA; i++) publisherA.mqtt.publish(`${key}/load/a/`, 'x'.repeat(200));
        for (let i = 0; i < 15; i++)
          publisherB.mqtt.publish(`${key}/load/b/${i % 10 === 0 ? '?ttl=60' : ''}`, 'y'.repeat(100));
        sent += burstA + 15;
      }, 100);
    });
    await page.waitForFunction(
      () => Number(document.querySelector<SVGElement>('svg[data-metric="messagesIn"]')?.dataset.latest) > 150,
      undefined,
      { timeout: 15000, polling: 100 },
    );
    const during = await latest(page, 'messagesIn');
    assert.ok(during > before + 150, `the message rate rose: ${before} -> ${during}`);
    assert.ok((await latest(page, 'messagesOut')) > during, 'each message fans out to several subscribers');
    assert.equal(await latest(page, 'connections'), 7, 'both nodes: helper, five subscribers, the dashboard');
    // Each chart draws one line per node.
    const lines = await page.$$eval(
      'svg[data-metric="messagesIn"] path[fill="none"]',
      (paths) => paths.length,
    );
    assert.equal(lines, 2);
    assert.match((await page.textContent('#total-cluster')) ?? '', /2 nodes · redis/);
    assert.match((await page.textContent('#total-storage')) ?? '', /redis · ok/);

    // The rest of the load makes a chart worth looking at in the README.
    await loadDone;
    await page.waitForFunction(
      () => Number(document.querySelector('tr[data-node="node-b"] td:nth-child(8)')?.textContent) > 0,
      undefined,
      { timeout: 5000, polling: 100 },
    );
    await page.screenshot({ path: SCREENSHOT });
    const png = readFileSync(SCREENSHOT);
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    assert.deepEqual(errors, []);
  } finally {
    clearInterval(load);
    await browser.close();
    for (const client of clients) await client.end();
    await a.close();
    await b.close();
    await redis.stop();
  }
});
