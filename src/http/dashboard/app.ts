// The dashboard in the browser (bundled with the client SDK into /dashboard.js). It subscribes to the stats
// every node publishes on `<channel>/<node>/` (monitor provider `self`) over the broker's own WebSocket,
// keeps the last five minutes per node and draws them. Browser code: the server never imports it.
import { connectAsync, EmitterRequestError, type Emitter, type EmitterMessage } from '../../client/index.js';
import { drawChart, formatBytes, formatCount, type ChartSeries } from './chart.js';

/** A snapshot as `src/broker/monitor.ts` publishes it. */
interface Snapshot {
  node: string;
  timestamp?: number;
  time: number;
  connections: number;
  subscriptions: number;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  storedMessages?: number;
  rss: number;
  uptime: number;
  storage?: { provider: string; ok: boolean };
  cluster?: { provider: string; connected: boolean; peers: string[] };
}

/** One point of a node's history: gauges as they were, counters as rates since the previous snapshot. */
interface Sample {
  t: number;
  connections: number;
  subscriptions: number;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
}

type Metric = Exclude<keyof Sample, 't'>;

const WINDOW_MS = 5 * 60 * 1000;
const COLOURS = ['#3b6cf6', '#17a364', '#e4572e', '#9b5de5', '#f0a202', '#00a6a6', '#d6336c', '#5c7080'];
const CHARTS: ReadonlyArray<{ metric: Metric; title: string; format: (n: number) => string }> = [
  { metric: 'messagesIn', title: 'Messages in /s', format: formatCount },
  { metric: 'messagesOut', title: 'Messages out /s', format: formatCount },
  { metric: 'connections', title: 'Connections', format: formatCount },
  { metric: 'bytesIn', title: 'Bytes in /s', format: formatBytes },
  { metric: 'bytesOut', title: 'Bytes out /s', format: formatBytes },
  { metric: 'subscriptions', title: 'Subscriptions', format: formatCount },
];

const body = document.body;
const channel = body.dataset.channel ?? 'stats';
const interval = Number(body.dataset.interval) || 1000;
const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const status = byId('status');
const help = byId('help');

const nodes = new Map<string, { last: Snapshot; seenAt: number; samples: Sample[]; colour: string }>();
let client: Emitter | undefined;
let attempt = 0;

function setStatus(kind: 'idle' | 'connecting' | 'live' | 'error', text: string): void {
  status.className = `pill ${kind}`;
  status.textContent = text;
}

function showError(text: string): void {
  setStatus('error', 'no access');
  help.className = 'notice error';
  help.textContent = text;
}

// --- charts ---------------------------------------------------------------------------------------
const chartsRoot = byId('charts');
const charts = CHARTS.map(({ metric, title, format }) => {
  const box = document.createElement('div');
  box.className = 'chart';
  const heading = document.createElement('h3');
  const name = document.createElement('span');
  name.textContent = title;
  const now = document.createElement('span');
  now.className = 'now';
  now.textContent = '–';
  heading.append(name, now);
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.dataset.metric = metric;
  const legend = document.createElement('div');
  legend.className = 'legend';
  box.append(heading, svg, legend);
  chartsRoot.append(box);
  return { metric, format, svg, now, legend };
});

let renderPending = false;

// Snapshots of many nodes arrive close together: draw once per frame (and not at all in a hidden tab).
function scheduleRender(): void {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    render();
  });
}

function render(): void {
  const now = Date.now();
  const first = Math.min(...[...nodes.values()].map((n) => n.samples[0]?.t ?? now));
  // The window grows with the data (at least 10 s) up to five minutes, so a fresh page is not a blip.
  const span = Math.min(WINDOW_MS, Math.max(10000, now - first));
  for (const chart of charts) {
    const series: ChartSeries[] = [];
    let total = 0;
    for (const [node, state] of nodes) {
      series.push({
        label: node,
        colour: state.colour,
        points: state.samples.map((s) => [s.t, s[chart.metric]]),
      });
      total += state.samples.at(-1)?.[chart.metric] ?? 0;
    }
    drawChart(chart.svg, series, {
      from: now - span,
      to: now,
      format: chart.format,
      binary: chart.format === formatBytes,
    });
    chart.svg.dataset.latest = String(total);
    chart.now.textContent = nodes.size > 0 ? chart.format(total) : '–';
    chart.legend.replaceChildren(
      ...series.map(({ label, colour }) => {
        const item = document.createElement('span');
        const swatch = document.createElement('i');
        swatch.style.background = colour;
        item.append(swatch, label);
        return item;
      }),
    );
  }
  renderCards(now);
  renderTable(now);
}

// --- cards and table --------------------------------------------------------------------------------
function renderCards(now: number): void {
  if (nodes.size === 0) return;
  const live = [...nodes.values()].filter((n) => now - n.seenAt < interval * 3 + 2000);
  const sum = (metric: Metric): number =>
    live.reduce((total, n) => total + (n.samples.at(-1)?.[metric] ?? 0), 0);
  byId('total-nodes').textContent = `${live.length}${live.length < nodes.size ? ` / ${nodes.size}` : ''}`;
  byId('total-connections').textContent = formatCount(sum('connections'));
  byId('total-subscriptions').textContent = formatCount(sum('subscriptions'));
  byId('total-messagesIn').textContent = formatCount(sum('messagesIn'));
  byId('total-messagesOut').textContent = formatCount(sum('messagesOut'));
  const storage = byId('total-storage');
  const failing = live.filter((n) => n.last.storage && !n.last.storage.ok).map((n) => n.last.node);
  const providers = [...new Set(live.map((n) => n.last.storage?.provider ?? '?'))].join(', ');
  storage.textContent = failing.length > 0 ? `failing on ${failing.join(', ')}` : `${providers || '–'} · ok`;
  storage.className = `value small ${failing.length > 0 ? 'bad' : 'ok'}`;
  const cluster = byId('total-cluster');
  const cut = live.filter((n) => n.last.cluster && !n.last.cluster.connected).map((n) => n.last.node);
  const redis = live.some((n) => n.last.cluster?.provider === 'redis');
  cluster.textContent =
    cut.length > 0
      ? `cut off: ${cut.join(', ')}`
      : redis
        ? `${live.length} node${live.length === 1 ? '' : 's'} · redis`
        : 'single node';
  cluster.className = `value small ${cut.length > 0 ? 'bad' : 'ok'}`;
}

function renderTable(now: number): void {
  const rows = [...nodes.entries()].sort(([a], [b]) => a.localeCompare(b));
  if (rows.length === 0) return;
  const tbody = byId('nodes');
  tbody.replaceChildren(
    ...rows.map(([node, state]) => {
      const s = state.last;
      const rate = state.samples.at(-1);
      const stale = now - state.seenAt > interval * 3 + 2000;
      const tr = document.createElement('tr');
      tr.dataset.node = node;
      const cell = (text: string, className = ''): HTMLTableCellElement => {
        const td = document.createElement('td');
        td.textContent = text;
        if (className) td.className = className;
        return td;
      };
      const name = cell(node, stale ? 'stale' : '');
      const dot = document.createElement('span');
      dot.className = 'dot';
      dot.style.background = stale ? '#b8c0cc' : state.colour;
      name.prepend(dot);
      const storage = s.storage
        ? cell(`${s.storage.provider} ${s.storage.ok ? '✓' : '✗ failing'}`, s.storage.ok ? 'ok' : 'bad')
        : cell('–');
      const cluster = s.cluster
        ? s.cluster.provider === 'local'
          ? cell('single')
          : cell(
              s.cluster.connected
                ? `${s.cluster.peers.length} peer${s.cluster.peers.length === 1 ? '' : 's'}`
                : '✗ cut off',
              s.cluster.connected ? 'ok' : 'bad',
            )
        : cell('–');
      tr.append(
        name,
        cell(formatCount(s.connections)),
        cell(formatCount(s.subscriptions)),
        cell(formatCount(rate?.messagesIn ?? 0)),
        cell(formatCount(rate?.messagesOut ?? 0)),
        cell(formatBytes(rate?.bytesIn ?? 0)),
        cell(formatBytes(rate?.bytesOut ?? 0)),
        cell(formatCount(s.storedMessages ?? 0)),
        storage,
        cluster,
        cell(formatBytes(s.rss)),
        cell(
          stale ? `silent ${Math.round((now - state.seenAt) / 1000)} s` : formatUptime(s.uptime),
          stale ? 'stale' : '',
        ),
      );
      return tr;
    }),
  );
}

function formatUptime(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86400)} d`;
}

// --- stats ----------------------------------------------------------------------------------------
function onStats(message: EmitterMessage): void {
  let snapshot: Snapshot;
  try {
    snapshot = message.asObject<Snapshot>();
  } catch {
    return; // not a snapshot (someone else published on the stats channel)
  }
  if (typeof snapshot.node !== 'string' || typeof snapshot.messagesIn !== 'number') return;
  const t = snapshot.timestamp ?? snapshot.time * 1000;
  let state = nodes.get(snapshot.node);
  if (!state) {
    state = { last: snapshot, seenAt: Date.now(), samples: [], colour: COLOURS[nodes.size % COLOURS.length] };
    nodes.set(snapshot.node, state);
    // The first snapshot only gives the counters a base: rates start with the second.
    state.samples.push({ ...gauges(snapshot, t), messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 });
    scheduleRender();
    return;
  }
  const previous = state.last;
  const seconds = (t - (previous.timestamp ?? previous.time * 1000)) / 1000;
  if (seconds <= 0) return;
  // A counter that went down means the node restarted: count from zero.
  const rate = (now: number, before: number): number =>
    Math.max(0, now >= before ? now - before : now) / seconds;
  state.samples.push({
    ...gauges(snapshot, t),
    messagesIn: rate(snapshot.messagesIn, previous.messagesIn),
    messagesOut: rate(snapshot.messagesOut, previous.messagesOut),
    bytesIn: rate(snapshot.bytesIn, previous.bytesIn),
    bytesOut: rate(snapshot.bytesOut, previous.bytesOut),
  });
  state.last = snapshot;
  state.seenAt = Date.now();
  while (state.samples.length > 0 && state.samples[0].t < t - WINDOW_MS) state.samples.shift();
  scheduleRender();
}

function gauges(snapshot: Snapshot, t: number): Pick<Sample, 't' | 'connections' | 'subscriptions'> {
  return { t, connections: snapshot.connections, subscriptions: snapshot.subscriptions };
}

// --- connection ----------------------------------------------------------------------------------
async function start(key: string): Promise<void> {
  const mine = ++attempt;
  const previous = client;
  client = undefined;
  if (previous) await previous.promises.disconnect().catch(() => {});
  setStatus('connecting', 'connecting…');
  const secure = location.protocol === 'https:';
  let connection: Emitter;
  try {
    connection = await connectAsync({
      host: location.hostname,
      port: Number(location.port) || (secure ? 443 : 80),
      secure,
      username: 'dashboard',
    });
  } catch (error) {
    if (mine === attempt) showError(`cannot reach the broker's WebSocket: ${(error as Error).message}`);
    return;
  }
  if (mine !== attempt) return void connection.promises.disconnect();
  client = connection;
  let subscribed = false;
  connection.on('message', (message: EmitterMessage) => {
    if (message.channel.startsWith(`${channel}/`)) onStats(message);
  });
  connection.on('offline', () => setStatus('connecting', 'reconnecting…'));
  connection.on('connect', () => {
    if (subscribed) setStatus('live', 'live');
  });
  const topic = `${channel}/+/`;
  try {
    await connection.promises.subscribe({ key, channel: topic });
  } catch (refused) {
    // Perhaps the secret key: make a read key for the stats channel with it (valid for a day).
    try {
      const made = await connection.promises.keygen({ key, channel: `${channel}/#/`, type: 'r', ttl: 86400 });
      await connection.promises.subscribe({ key: made.key, channel: topic });
    } catch {
      const reason =
        refused instanceof EmitterRequestError ? `${refused.status} ${refused.message}` : String(refused);
      if (mine === attempt)
        showError(
          `The broker refused this key for ${channel}/ (${reason}). Use the secret key or a key for ${channel}/#/ with r.`,
        );
      await connection.promises.disconnect().catch(() => {});
      return;
    }
  }
  subscribed = true;
  sessionStorage.setItem('emitter-dashboard-key', key);
  help.className = 'notice';
  help.textContent = `Reading ${channel}/<node>/ (a snapshot every ${interval / 1000} s per node); charts keep the last five minutes.`;
  setStatus('live', 'live');
}

const form = byId<HTMLFormElement>('key-form');
const input = byId<HTMLInputElement>('key');
form.addEventListener('submit', (event) => {
  event.preventDefault();
  const key = input.value.trim();
  if (key) void start(key);
});
render();
// Re-draw while idle too, so a silent node shows as such and the time axis moves on.
setInterval(() => {
  if (nodes.size > 0) render();
}, 2000);

// A key in the fragment (never sent to the server) or from earlier in this tab starts at once.
const fromHash = new URLSearchParams(location.hash.slice(1)).get('key');
if (fromHash) history.replaceState(null, '', location.pathname + location.search);
const initial = fromHash ?? sessionStorage.getItem('emitter-dashboard-key');
if (initial) {
  input.value = initial;
  void start(initial);
}
