import { gzipSync } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from '../handler.js';
import { dashboardBundle } from './bundle.js';

/** What the dashboard page needs to know about the broker's stats. */
export interface DashboardOptions {
  /** `monitor.provider`: only `self` publishes the stats the page reads; it says so otherwise. */
  readonly provider: string;
  /** The stats channel prefix (`monitor.config.channel`, default `stats`). */
  readonly channel: string;
  /** Milliseconds between snapshots. */
  readonly interval: number;
}

/**
 * `GET /` (the page) and `GET /dashboard.js` (the app with the client SDK). Everything is served by the
 * broker itself: no CDN. The page connects back over the broker's own WebSocket and shows nothing until
 * given a key that can read the stats channel.
 */
export function createDashboardRoutes(options: DashboardOptions): Record<string, Route> {
  const html = Buffer.from(renderPage(options));
  let script: Promise<{ plain: Buffer; gzip: Buffer }> | undefined;
  return {
    '/': (request, response) => {
      if (!readOnly(request, response)) return;
      response.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-cache',
        'content-security-policy': CSP,
        'x-content-type-options': 'nosniff',
      });
      response.end(request.method === 'HEAD' ? undefined : html);
    },
    '/dashboard.js': (request, response) => {
      if (!readOnly(request, response)) return;
      script ??= dashboardBundle().then((plain) => ({ plain, gzip: gzipSync(plain) }));
      script.then(
        ({ plain, gzip }) => {
          const zipped = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
          const body = zipped ? gzip : plain;
          response.writeHead(200, {
            'content-type': 'text/javascript; charset=utf-8',
            'content-length': body.length,
            'cache-control': 'no-cache',
            'x-content-type-options': 'nosniff',
            vary: 'accept-encoding',
            ...(zipped ? { 'content-encoding': 'gzip' } : {}),
          });
          response.end(request.method === 'HEAD' ? undefined : body);
        },
        (error: Error) => {
          response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          response.end(`${error.message}\n`);
        },
      );
    },
  };
}

// The page runs only its own script and talks only to its own origin (the WebSocket included).
const CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'";

function readOnly(request: IncomingMessage, response: ServerResponse): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return true;
  response.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' });
  response.end('method not allowed\n');
  return false;
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

function renderPage(options: DashboardOptions): string {
  const channel = escapeHtml(options.channel);
  const off =
    options.provider === 'self'
      ? ''
      : `<p class="notice warn" id="monitor-off">This broker does not publish its stats: <code>monitor.provider</code> is
      <code>${escapeHtml(options.provider)}</code>. Set it to <code>self</code> to see them here.</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>emitter-ts dashboard</title>
<style>${STYLE}</style>
</head>
<body data-channel="${channel}" data-provider="${escapeHtml(options.provider)}" data-interval="${options.interval}">
<header>
  <div class="brand"><span class="logo">◆</span> emitter-ts <span class="sub">dashboard</span></div>
  <div id="status" class="pill idle">no key</div>
  <form id="key-form" autocomplete="off">
    <input id="key" type="password" placeholder="secret key, or a key for ${channel}/#/ with r" aria-label="key">
    <button type="submit">Show</button>
  </form>
</header>
<main>
  ${off}
  <p class="notice" id="help">Live stats of every node, read from <code>${channel}/&lt;node&gt;/</code> over this
    broker's WebSocket. They need the <b>secret key</b> or a channel key for <code>${channel}/#/</code> with
    <code>r</code> (make one on <a href="/keygen">/keygen</a>); the key stays in this tab.</p>
  <section class="cards" id="cards">
    <div class="card"><span class="label">Nodes</span><span class="value" id="total-nodes">–</span></div>
    <div class="card"><span class="label">Connections</span><span class="value" id="total-connections">–</span></div>
    <div class="card"><span class="label">Subscriptions</span><span class="value" id="total-subscriptions">–</span></div>
    <div class="card"><span class="label">Messages in /s</span><span class="value" id="total-messagesIn">–</span></div>
    <div class="card"><span class="label">Messages out /s</span><span class="value" id="total-messagesOut">–</span></div>
    <div class="card"><span class="label">Storage</span><span class="value small" id="total-storage">–</span></div>
    <div class="card"><span class="label">Cluster</span><span class="value small" id="total-cluster">–</span></div>
  </section>
  <section class="charts" id="charts"></section>
  <section class="nodes">
    <table>
      <thead><tr><th>Node</th><th>Connections</th><th>Subscriptions</th><th>In /s</th><th>Out /s</th>
        <th>Bytes in /s</th><th>Bytes out /s</th><th>Stored</th><th>Storage</th><th>Cluster</th><th>Memory</th><th>Uptime</th></tr></thead>
      <tbody id="nodes"><tr class="empty"><td colspan="12">no stats yet</td></tr></tbody>
    </table>
  </section>
</main>
<script type="module" src="/dashboard.js"></script>
</body>
</html>
`;
}

const STYLE = `
:root { --bg:#f4f6fa; --panel:#fff; --ink:#1b2330; --muted:#6b7689; --line:#e3e8ef; --accent:#3b6cf6;
  --ok:#17a364; --warn:#d98b06; --bad:#d9363e; color-scheme: light; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink); font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; }
header { display:flex; align-items:center; gap:16px; padding:12px 24px; background:#111827; color:#fff; }
.brand { font-weight:650; font-size:17px; letter-spacing:.2px; }
.brand .logo { color:#7aa2ff; } .brand .sub { color:#9aa6b8; font-weight:500; margin-left:4px; }
.pill { padding:3px 10px; border-radius:999px; font-size:12px; font-weight:600; background:#374151; color:#e5e7eb; }
.pill.live { background:#0f5132; color:#b7f5d3; } .pill.error { background:#7f1d1d; color:#fecaca; }
.pill.connecting { background:#5b4a0f; color:#fde68a; }
form { margin-left:auto; display:flex; gap:8px; }
input { width:340px; padding:6px 10px; border-radius:6px; border:1px solid #374151; background:#1f2937; color:#fff; }
button { padding:6px 14px; border-radius:6px; border:0; background:var(--accent); color:#fff; font-weight:600; cursor:pointer; }
main { padding:18px 24px 32px; max-width:1400px; margin:0 auto; }
.notice { margin:0 0 14px; color:var(--muted); }
.notice.warn { color:#7a4a00; background:#fff4d6; border:1px solid #f3d58a; padding:8px 12px; border-radius:8px; }
.notice.error { color:#7f1d1d; background:#fde8e8; border:1px solid #f5b5b5; padding:8px 12px; border-radius:8px; }
code { font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace; background:#e9edf5; padding:1px 5px; border-radius:4px; }
a { color:var(--accent); }
.cards { display:grid; grid-template-columns:repeat(7,minmax(0,1fr)); gap:12px; margin-bottom:16px; }
.card { background:var(--panel); border:1px solid var(--line); border-radius:10px; padding:10px 14px; display:flex; flex-direction:column; }
.card .label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.4px; }
.card .value { font-size:24px; font-weight:650; font-variant-numeric:tabular-nums; }
.card .value.small { font-size:15px; padding-top:6px; }
.charts { display:grid; grid-template-columns:repeat(3,minmax(0,1fr)); gap:12px; margin-bottom:16px; }
.chart { background:var(--panel); border:1px solid var(--line); border-radius:10px; padding:10px 12px 6px; }
.chart h3 { margin:0 0 2px; font-size:13px; font-weight:600; display:flex; justify-content:space-between; }
.chart h3 .now { font-variant-numeric:tabular-nums; color:var(--ink); }
.chart svg { display:block; width:100%; height:150px; }
.chart .legend { display:flex; gap:12px; flex-wrap:wrap; font-size:12px; color:var(--muted); min-height:18px; }
.chart .legend i { display:inline-block; width:10px; height:3px; border-radius:2px; margin-right:5px; vertical-align:middle; }
.grid { stroke:var(--line); stroke-width:1; } .axis { fill:var(--muted); font-size:10.5px; }
table { width:100%; border-collapse:collapse; background:var(--panel); border:1px solid var(--line); border-radius:10px; overflow:hidden; }
th, td { text-align:right; padding:7px 10px; border-bottom:1px solid var(--line); font-variant-numeric:tabular-nums; white-space:nowrap; }
th { font-size:12px; color:var(--muted); font-weight:600; background:#fafbfd; }
th:first-child, td:first-child { text-align:left; }
tr.empty td { text-align:center; color:var(--muted); }
.dot { display:inline-block; width:8px; height:8px; border-radius:50%; margin-right:7px; }
.ok { color:var(--ok); } .bad { color:var(--bad); } .stale { color:var(--muted); }
@media (max-width: 1100px) { .cards { grid-template-columns:repeat(4,1fr); } .charts { grid-template-columns:repeat(2,1fr); } }
`;
