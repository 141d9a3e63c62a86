// Bundles the client SDK for browsers (ES module): node examples/build-bundle.mjs [outfile]
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outfile = process.argv[2] ?? `${root}dist/emitter-client.browser.js`;
await build({
  entryPoints: [`${root}src/client/index.ts`],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  outfile,
  logLevel: 'warning',
});
console.log(`wrote ${outfile}`);
