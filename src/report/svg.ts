/**
 * Dependency-free SVG charts for run reports (SPEC §7): line charts for reward curves (total, music-theory
 * and Note RNN parts) and heat maps of note probabilities over a composition. Every function returns a
 * standalone `<svg>` string; all text is XML-escaped; no ids are emitted, so several charts can be inlined
 * in one HTML page.
 */

export interface LineSeries {
  name: string;
  /** [x, y] pairs, drawn in the given order; a non-finite coordinate breaks the line. */
  points: [number, number][];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  /** Pixels; default 640. */
  width?: number;
  /** Pixels; default 360. */
  height?: number;
}

export interface HeatmapOptions {
  title: string;
  /** Row labels, drawn top to bottom in this order (e.g. tokenName of each class). */
  rows: string[];
  /** Number of columns (e.g. composition steps). */
  columns: number;
  /** Row-major rows × columns values; non-finite values are drawn grey. */
  values: Float32Array | number[];
  /** Pixels; default 720. */
  width?: number;
  /** Pixels; default 80 + 12 per row. */
  height?: number;
}

/** Chart input that cannot be drawn; the message names the value and what to pass instead. */
export class ChartInputError extends Error {
  override name = 'ChartInputError';
}

/** Categorical colours (Tableau 10); further series get hues spaced by the golden angle. */
const SERIES_COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
/** Sequential colour scale from low to high (viridis control points). */
const SCALE_STOPS: readonly [number, number, number][] = [
  [0x44, 0x01, 0x54],
  [0x3b, 0x52, 0x8b],
  [0x21, 0x91, 0x8c],
  [0x5e, 0xc9, 0x62],
  [0xfd, 0xe7, 0x25],
];
const MISSING_COLOUR = '#cccccc';
const FONT = 'font-family="sans-serif" font-size="12"';

/** Escapes text for use in XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Colour of series `index`: distinct for every index. */
export function seriesColour(index: number): string {
  return index < SERIES_COLOURS.length ? SERIES_COLOURS[index] : `hsl(${((index * 137.508) % 360).toFixed(1)}, 65%, 45%)`;
}

/** Evenly spaced round tick values (steps of 1, 2 or 5 × 10^k) covering [min, max] with about `count` ticks. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  const step = niceStep(min, max, count);
  const first = Math.floor(min / step + 1e-9);
  const last = Math.ceil(max / step - 1e-9);
  return Array.from({ length: last - first + 1 }, (_, i) => (first + i) * step);
}

function niceStep(min: number, max: number, count: number): number {
  const rough = (max - min) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const residual = rough / magnitude;
  return (residual < 1.5 ? 1 : residual < 3 ? 2 : residual < 7 ? 5 : 10) * magnitude;
}

/** Tick label with just enough decimals for the tick spacing. */
function formatTick(value: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return (Math.abs(value) < step * 1e-9 ? 0 : value).toFixed(decimals);
}

/** [min, max] of the finite values, widened when empty or a single value. */
function finiteExtent(values: Iterable<number>): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min > max) return [0, 1];
  if (min === max) {
    const pad = Math.abs(min) * 0.1 || 1;
    return [min - pad, max + pad];
  }
  return [min, max];
}

function checkSize(what: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 100)) {
    throw new ChartInputError(`chart ${what} ${value} is too small or not a number; pass at least 100 pixels`);
  }
  return value;
}

const px = (v: number): string => v.toFixed(1);

/** An axis's ticks and the linear map from data to pixels. */
interface Axis {
  ticks: number[];
  step: number;
  toPixel: (v: number) => number;
}

function makeAxis(values: number[], from: number, to: number, tickCount: number): Axis {
  const [min, max] = finiteExtent(values);
  const ticks = niceTicks(min, max, tickCount);
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
  const low = ticks[0];
  const high = ticks[ticks.length - 1];
  return { ticks, step, toPixel: (v) => from + ((v - low) / (high - low)) * (to - from) };
}

/** The SVG path data of one series: a move at the start and after every break, lines elsewhere. */
function seriesPath(points: [number, number][], x: Axis, y: Axis): { d: string; isolated: [number, number][] } {
  const commands: string[] = [];
  const isolated: [number, number][] = [];
  let run: [number, number][] = [];
  const endRun = (): void => {
    if (run.length === 1) isolated.push(run[0]);
    run = [];
  };
  for (const [xValue, yValue] of points) {
    if (!Number.isFinite(xValue) || !Number.isFinite(yValue)) {
      endRun();
      continue;
    }
    const point: [number, number] = [x.toPixel(xValue), y.toPixel(yValue)];
    commands.push(`${run.length === 0 ? 'M' : 'L'}${px(point[0])},${px(point[1])}`);
    run.push(point);
  }
  endRun();
  return { d: commands.join(' '), isolated };
}

function svgOpen(width: number, height: number, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>` +
    `<title>${escapeXml(title)}</title>` +
    `<rect width="${width}" height="${height}" fill="white"/>` +
    `<text x="${px(width / 2)}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`
  );
}

/**
 * A line chart with ticked, labelled axes and a legend: one `<path>` per series with at least one finite
 * point (single points also get a dot); series without data are listed in the legend as "(no data)".
 */
export function lineChart(options: LineChartOptions): string {
  const width = checkSize('width', options.width ?? 640);
  const height = checkSize('height', options.height ?? 360);
  const legendWidth = 150;
  const left = 64;
  const right = width - legendWidth;
  const top = 40;
  const bottom = height - 48;
  const allPoints = options.series.flatMap((s) => s.points);
  const x = makeAxis(allPoints.map((p) => p[0]), left, right, 6);
  const y = makeAxis(allPoints.map((p) => p[1]), bottom, top, 5);

  const parts = [svgOpen(width, height, options.title)];
  parts.push(`<g stroke="#e0e0e0">`);
  for (const t of x.ticks) parts.push(`<line x1="${px(x.toPixel(t))}" y1="${top}" x2="${px(x.toPixel(t))}" y2="${bottom}"/>`);
  for (const t of y.ticks) parts.push(`<line x1="${left}" y1="${px(y.toPixel(t))}" x2="${right}" y2="${px(y.toPixel(t))}"/>`);
  parts.push(`</g>`);
  parts.push(`<g stroke="black"><line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}"/><line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}"/></g>`);
  for (const t of x.ticks) {
    parts.push(`<text x="${px(x.toPixel(t))}" y="${bottom + 16}" text-anchor="middle">${formatTick(t, x.step)}</text>`);
  }
  for (const t of y.ticks) {
    parts.push(`<text x="${left - 6}" y="${px(y.toPixel(t) + 4)}" text-anchor="end">${formatTick(t, y.step)}</text>`);
  }
  parts.push(`<text x="${px((left + right) / 2)}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  const yLabelY = px((top + bottom) / 2);
  parts.push(`<text x="16" y="${yLabelY}" text-anchor="middle" transform="rotate(-90 16 ${yLabelY})">${escapeXml(options.yLabel)}</text>`);

  options.series.forEach((series, index) => {
    const colour = seriesColour(index);
    const { d, isolated } = seriesPath(series.points, x, y);
    if (d !== '') parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    for (const [cx, cy] of isolated) parts.push(`<circle cx="${px(cx)}" cy="${px(cy)}" r="3" fill="${colour}"/>`);
    const legendY = top + 8 + index * 18;
    const label = escapeXml(series.name) + (d === '' ? ' (no data)' : '');
    parts.push(`<line x1="${right + 12}" y1="${legendY}" x2="${right + 32}" y2="${legendY}" stroke="${colour}" stroke-width="3"/>`);
    parts.push(`<text x="${right + 38}" y="${legendY + 4}">${label}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Colour of a value at position `fraction` (0..1) of the sequential scale. */
function scaleColour(fraction: number): string {
  const position = Math.min(1, Math.max(0, fraction)) * (SCALE_STOPS.length - 1);
  const index = Math.min(SCALE_STOPS.length - 2, Math.floor(position));
  const within = position - index;
  const [a, b] = [SCALE_STOPS[index], SCALE_STOPS[index + 1]];
  const channel = (i: number): string => Math.round(a[i] + (b[i] - a[i]) * within).toString(16).padStart(2, '0');
  return `#${channel(0)}${channel(1)}${channel(2)}`;
}

/** Column label spacing: the smallest power of two giving at most 16 labels. */
function columnLabelEvery(columns: number): number {
  let every = 1;
  while (columns / every > 16) every *= 2;
  return every;
}

/**
 * A heat map of `rows × columns` values: one `<rect class="cell">` per value (with a tooltip), row labels on
 * the left, column (step) labels below, and a colour-scale legend from the smallest to the largest value.
 */
export function heatmap(options: HeatmapOptions): string {
  const { rows, columns, values } = options;
  if (rows.length === 0) throw new ChartInputError('heatmap has no rows; pass at least one row label');
  if (!Number.isInteger(columns) || columns < 1) {
    throw new ChartInputError(`heatmap columns ${columns} is not a positive integer`);
  }
  if (values.length !== rows.length * columns) {
    throw new ChartInputError(
      `heatmap has ${values.length} values but ${rows.length} rows × ${columns} columns = ${rows.length * columns}; pass row-major values of that size`,
    );
  }
  const width = checkSize('width', options.width ?? 720);
  const height = checkSize('height', options.height ?? 80 + 12 * rows.length);
  const left = 56;
  const right = width - 90;
  const top = 36;
  const bottom = height - 40;
  const cellWidth = (right - left) / columns;
  const cellHeight = (bottom - top) / rows.length;
  const [low, high] = finiteExtent(values);

  const parts = [svgOpen(width, height, options.title)];
  const labelSize = Math.min(11, Math.max(6, cellHeight * 0.9)).toFixed(1);
  rows.forEach((name, r) => {
    const y = top + r * cellHeight;
    parts.push(`<text x="${left - 4}" y="${px(y + cellHeight / 2 + 4)}" text-anchor="end" font-size="${labelSize}">${escapeXml(name)}</text>`);
    for (let c = 0; c < columns; c++) {
      const value = values[r * columns + c];
      const fill = Number.isFinite(value) ? scaleColour((value - low) / (high - low)) : MISSING_COLOUR;
      parts.push(
        `<rect class="cell" x="${px(left + c * cellWidth)}" y="${px(y)}" width="${px(cellWidth)}" height="${px(cellHeight)}" fill="${fill}">` +
          `<title>${escapeXml(name)}, ${c}: ${formatValue(value)}</title></rect>`,
      );
    }
  });
  const every = columnLabelEvery(columns);
  for (let c = 0; c < columns; c += every) {
    parts.push(`<text x="${px(left + (c + 0.5) * cellWidth)}" y="${bottom + 14}" text-anchor="middle">${c}</text>`);
  }
  parts.push(`<text x="${px((left + right) / 2)}" y="${height - 8}" text-anchor="middle">step</text>`);
  parts.push(colourLegend(right + 24, top, bottom, low, high));
  parts.push('</svg>');
  return parts.join('');
}

/** A vertical bar of the colour scale (high at the top) with its end values. */
function colourLegend(x: number, top: number, bottom: number, low: number, high: number): string {
  const bands = 24;
  const bandHeight = (bottom - top) / bands;
  const parts: string[] = [];
  for (let i = 0; i < bands; i++) {
    const y = bottom - (i + 1) * bandHeight;
    parts.push(`<rect class="scale" x="${px(x)}" y="${px(y)}" width="14" height="${px(bandHeight + 0.5)}" fill="${scaleColour((i + 0.5) / bands)}"/>`);
  }
  parts.push(`<text x="${px(x + 18)}" y="${px(top + 8)}">${formatValue(high)}</text>`);
  parts.push(`<text x="${px(x + 18)}" y="${px(bottom)}">${formatValue(low)}</text>`);
  return parts.join('');
}

function formatValue(value: number): string {
  return Number.isFinite(value) ? Number(value.toPrecision(3)).toString() : String(value);
}
