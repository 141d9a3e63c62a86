// A small hand-written SVG line chart for the dashboard (browser code): time on x, one line per node.

/** One line: points are [time ms, value]. */
export interface ChartSeries {
  readonly label: string;
  readonly colour: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

/** The time window shown and how values are written on the axis. */
export interface ChartRange {
  readonly from: number;
  readonly to: number;
  readonly format: (value: number) => string;
  /** Round the axis top in powers of 1024 (bytes) rather than 10. */
  readonly binary?: boolean;
}

const PAD = { left: 46, right: 10, top: 10, bottom: 20 };

/** Redraws `svg` with the series over the range (the y axis starts at 0 and ends on a round number). */
export function drawChart(svg: SVGSVGElement, series: readonly ChartSeries[], range: ChartRange): void {
  const width = Math.max(200, Math.round(svg.clientWidth || 400));
  const height = Math.max(80, Math.round(svg.clientHeight || 150));
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  let max = 0;
  for (const line of series) for (const [t, v] of line.points) if (t >= range.from && v > max) max = v;
  const top = range.binary ? niceBinaryCeiling(max) : niceCeiling(max);
  const x = (t: number): number => PAD.left + ((t - range.from) / (range.to - range.from)) * plotW;
  const y = (v: number): number => PAD.top + plotH - (v / top) * plotH;
  const parts: string[] = [];
  const empty = !series.some((line) => line.points.length > 0);
  for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
    const gy = y(top * fraction).toFixed(1);
    parts.push(`<line class="grid" x1="${PAD.left}" x2="${width - PAD.right}" y1="${gy}" y2="${gy}"/>`);
    if (fraction % 0.5 === 0 && !empty)
      parts.push(
        `<text class="axis" x="${PAD.left - 6}" y="${Number(gy) + 3.5}" text-anchor="end">${escapeText(range.format(top * fraction))}</text>`,
      );
  }
  const span = range.to - range.from;
  const step = [5, 10, 15, 30, 60, 120].map((s) => s * 1000).find((s) => span / s <= 6) ?? 120000;
  for (let back = 0; back <= span; back += step) {
    const tx = x(range.to - back);
    const label = back === 0 ? 'now' : back < 60000 ? `-${back / 1000} s` : `-${back / 60000} min`;
    const anchor = back === 0 ? 'end' : 'middle';
    parts.push(
      `<text class="axis" x="${tx.toFixed(1)}" y="${height - 5}" text-anchor="${anchor}">${label}</text>`,
    );
  }
  for (const line of series) {
    const visible = line.points.filter(([t]) => t >= range.from - 5000);
    if (visible.length === 0) continue;
    const coords = visible.map(([t, v]) => `${Math.max(PAD.left, x(t)).toFixed(1)},${y(v).toFixed(1)}`);
    const path = `M${coords.join('L')}`;
    const first = Math.max(PAD.left, x(visible[0][0])).toFixed(1);
    const last = x(visible[visible.length - 1][0]).toFixed(1);
    const base = (PAD.top + plotH).toFixed(1);
    parts.push(
      `<path d="${path}L${last},${base}L${first},${base}Z" fill="${line.colour}" fill-opacity="0.08"/>`,
    );
    parts.push(
      `<path d="${path}" fill="none" stroke="${line.colour}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>`,
    );
  }
  if (empty)
    parts.push(
      `<text class="axis" x="${PAD.left + plotW / 2}" y="${PAD.top + plotH / 2}" text-anchor="middle">no data yet</text>`,
    );
  svg.innerHTML = parts.join('');
}

// 0.8 -> 1, 7 -> 10, 130 -> 200, 4100 -> 5000: 1, 2 or 5 times a power of ten (at least 1).
function niceCeiling(value: number): number {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) if (m * power >= value) return m * power;
  return 10 * power;
}

// 80.5 KB -> 100 KB: a round number of the unit formatBytes will show.
function niceBinaryCeiling(value: number): number {
  if (value <= 1024) return 1024;
  const unit = 1024 ** Math.min(4, Math.floor(Math.log(value) / Math.log(1024)));
  return niceCeiling(value / unit) * unit;
}

function escapeText(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** 0, 2.5, 340, 1.2k, 3.4M */
export function formatCount(value: number): string {
  if (value >= 1e6) return `${trim(value / 1e6)}M`;
  if (value >= 1e4) return `${trim(value / 1e3)}k`;
  if (value >= 100 || Number.isInteger(value)) return String(Math.round(value));
  return trim(value);
}

/** 0 B, 512 B, 1.2 KB, 3.4 MB */
export function formatBytes(value: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? Math.round(value) : trim(value)} ${units[unit]}`;
}

function trim(value: number): string {
  return value >= 100 ? String(Math.round(value)) : String(Number(value.toFixed(1)));
}
