// Writes the dashboard's browser bundle (the app with the client SDK) next to the compiled broker, where
// `GET /dashboard.js` serves it from: node --import tsx scripts/build-dashboard.ts [outfile]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDashboardBundle } from '../src/http/dashboard/bundle.js';

const outfile = process.argv[2] ?? fileURLToPath(new URL('../dist/dashboard.browser.js', import.meta.url));
const bundle = await buildDashboardBundle();
mkdirSync(dirname(outfile), { recursive: true });
writeFileSync(outfile, bundle);
console.log(`wrote ${outfile} (${Math.round(bundle.length / 1024)} KB)`);
