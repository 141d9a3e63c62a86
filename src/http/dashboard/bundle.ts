import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** Where `npm run build` writes the dashboard's browser bundle (the app with the client SDK). */
export const DASHBOARD_BUNDLE = fileURLToPath(new URL('../../dashboard.browser.js', import.meta.url));

let cached: Promise<Buffer> | undefined;

/**
 * The dashboard's script: the bundle from the build (`dist/dashboard.browser.js`, what a package install
 * has), or, when running from source, bundled now with esbuild (a dev dependency). Made once per process.
 */
export function dashboardBundle(): Promise<Buffer> {
  cached ??= readFile(DASHBOARD_BUNDLE).catch(() => buildDashboardBundle());
  return cached;
}

/** Bundles `app.ts` (browser code) with the client SDK into one minified ES module. */
export async function buildDashboardBundle(): Promise<Buffer> {
  const app = fileURLToPath(new URL('./app.ts', import.meta.url));
  if (!existsSync(app)) {
    throw new Error(`the dashboard bundle ${DASHBOARD_BUNDLE} is missing: run "npm run build"`);
  }
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [app],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  return Buffer.from(result.outputFiles[0].contents);
}
