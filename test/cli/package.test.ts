import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connectClient, keygen } from '../helpers/clients.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'emitter-package-'));
after(() => rmSync(work, { recursive: true, force: true }));

// What a fresh clone holds that the package build reads (no dist/): packing a copy leaves the checkout alone.
const SOURCES = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'README.md',
  'LICENSE',
  'emitter.conf.example',
  'src',
  'scripts/build.mjs',
  'scripts/build-dashboard.ts',
  'examples/build-bundle.mjs',
];

/** npm without the test runner's npm_* settings (an `npm test` run passes its own to children). */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith('npm_') && !name.startsWith('EMITTER_')) env[name] = value;
  return env;
}

test('npm pack builds dist/ on prepack; the tarball installs into an empty folder and `npx emitter` serves on defaults', async () => {
  const project = join(work, 'project');
  for (const path of SOURCES) cpSync(join(root, path), join(project, path), { recursive: true });
  symlinkSync(realpathSync(join(root, 'node_modules')), join(project, 'node_modules'), 'dir');
  const install = join(work, 'install');
  mkdirSync(install);

  await run('npm', ['pack', '--silent', '--pack-destination', install], {
    cwd: project,
    env: npmEnv(),
    timeout: 180000,
  });
  const tarball = readdirSync(install).find((name) => /^emitter-ts-.*\.tgz$/.test(name));
  assert.ok(tarball, 'npm pack wrote emitter-ts-<version>.tgz');
  const listing = (await run('tar', ['tzf', join(install, tarball)])).stdout.split('\n');
  for (const file of [
    'package/dist/cli/main.js',
    'package/dist/index.js',
    'package/dist/index.d.ts',
    'package/dist/client/index.js',
    'package/dist/client/browser.js',
    'package/dist/testing/index.js',
    'package/dist/dashboard.browser.js',
    'package/LICENSE',
    'package/README.md',
    'package/emitter.conf.example',
  ])
    assert.ok(listing.includes(file), `the tarball holds ${file}`);
  assert.ok(
    !listing.some((file) => /^package\/(src|test)\//.test(file)),
    'no sources or tests in the tarball',
  );

  // Dependencies come from the npm cache where it has them. Install scripts are skipped: the only one
  // compiles SQLite for the `ssd` storage (minutes on two cores), which the default start does not load.
  await run(
    'npm',
    ['install', `./${tarball}`, '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'],
    { cwd: install, env: npmEnv(), timeout: 180000 },
  );
  assert.ok(
    existsSync(join(install, 'node_modules/.bin/emitter')),
    'the package links its `emitter` command',
  );

  // The library entry points resolve from an application's folder (README "Use it as a library").
  const library = await run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "const m = await import('emitter-ts'); const t = await import('emitter-ts/testing'); console.log(typeof m.createBroker, typeof t.runStorageConformance, typeof t.runSessionStoreConformance);",
    ],
    { cwd: install, env: npmEnv() },
  );
  assert.equal(library.stdout.trim(), 'function function function');

  const version = await run('npx', ['--no-install', 'emitter', 'version'], { cwd: install, env: npmEnv() });
  assert.match(version.stdout, /^emitter-ts \d+\.\d+\.\d+/);

  // Embedded defaults; only the port is moved off :8080, which other tests on this machine may hold.
  // A process group of its own: npm does not pass SIGTERM on to the command it runs, so the test
  // signals both, as a terminal or a service manager would.
  const child = spawn('npx', ['--no-install', 'emitter'], {
    cwd: install,
    env: { ...npmEnv(), EMITTER_LISTEN: '127.0.0.1:0' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // The pipes close once every process of the group has exited (npm and the broker both hold them).
  const closed = Promise.all([once(child.stdout, 'close'), once(child.stderr, 'close')]);
  const group = child.pid ?? 0;
  try {
    const started = await new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start within 30 s: ${output}`)), 30000);
      const check = (): void => {
        const address = /"address":"127\.0\.0\.1:(\d+)"/.exec(output);
        if (!address || !output.includes('"service started"')) return;
        clearTimeout(timer);
        resolve(address);
      };
      child.stdout.on('data', check);
      child.once('exit', () => reject(new Error(`exited before serving: ${output}`)));
    });
    const port = Number(started[1]);
    const secret = /"secret":"([^"]+)"/.exec(output)?.[1];
    assert.ok(secret, 'without a licence the first start prints a new secret');

    const health = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5000) });
    assert.equal(health.status, 200);
    const client = await connectClient(port);
    const key = await keygen(client, secret, 'hello/', 'rw');
    await client.mqtt.subscribeAsync(`${key}/hello/`);
    await client.mqtt.publishAsync(`${key}/hello/`, 'from the package');
    assert.equal((await client.next((m) => m.topic === 'hello/')).payload.toString(), 'from the package');
    await client.end();
  } finally {
    process.kill(-group, 'SIGTERM');
  }
  const timer = setTimeout(() => process.kill(-group, 'SIGKILL'), 15000);
  await closed;
  clearTimeout(timer);
  assert.match(output, /"msg":"stopped"/, 'the broker stopped cleanly on SIGTERM');
});
