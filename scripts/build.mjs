// Builds dist/: the compiled server and client SDK (tsc), the client's browser bundle and the dashboard's
// (esbuild).
//   node scripts/build.mjs             build
//   node scripts/build.mjs --clean     remove dist/ first (npm pack: no stale file from a deleted source)
//   node scripts/build.mjs --if-stale  build only when a source is newer than dist/ (npm start)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const flags = new Set(process.argv.slice(2));
const dist = join(root, 'dist');
// What the build writes last-or-alone; the oldest of them dates the build.
const outputs = [
  'dist/cli/main.js',
  'dist/index.js',
  'dist/client/index.js',
  'dist/client/browser.js',
  'dist/dashboard.browser.js',
];
// What the build reads.
const inputs = [
  'src',
  'tsconfig.json',
  'tsconfig.build.json',
  'examples/build-bundle.mjs',
  'scripts/build-dashboard.ts',
];

if (flags.has('--if-stale') && isCurrent()) process.exit(0);
if (flags.has('--clean')) rmSync(dist, { recursive: true, force: true });
run(createRequire(import.meta.url).resolve('typescript/bin/tsc'), ['-p', join(root, 'tsconfig.build.json')]);
// The client bundle goes where package.json exports it (`emitter-ts/client/browser`).
run(join(root, 'examples/build-bundle.mjs'), []);
run(join(root, 'scripts/build-dashboard.ts'), [], ['--import', 'tsx']);

function run(script, args, nodeFlags = []) {
  const result = spawnSync(process.execPath, [...nodeFlags, script, ...args], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (result.status !== 0) {
    console.error(`build: ${script} failed`);
    process.exit(result.status ?? 1);
  }
}

function isCurrent() {
  let built = Infinity;
  for (const output of outputs) {
    const path = join(root, output);
    if (!existsSync(path)) return false;
    built = Math.min(built, statSync(path).mtimeMs);
  }
  return inputs.every((input) => newest(join(root, input)) <= built);
}

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs; // a deleted or renamed file changes its folder
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}
