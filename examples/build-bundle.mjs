// Bundles the client SDK for browsers as one ES module (MQTT.js included): node examples/build-bundle.mjs [outfile]
// Without an outfile it writes the file package.json exports as `emitter-ts/client/browser`.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const exported = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).exports['./client/browser']
  .default;
const outfile = process.argv[2] ?? join(root, exported);
await build({
  entryPoints: [join(root, 'src/client/index.ts')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  outfile,
  logLevel: 'warning',
});
console.log(`wrote ${outfile}`);
