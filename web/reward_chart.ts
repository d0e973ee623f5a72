/**
 * The live reward chart: three SVG polylines (total, music theory, Note RNN log p; each the mean per
 * step over a logging interval) against training steps, rescaled as points arrive. Ticks sit at round
 * values (1, 2 or 5 × 10^k) on both axes, both axes have titles, and the legend is HTML beside the SVG
 * so it wraps on a narrow screen instead of losing a series.
 *
 * The total is drawn last, thin and dashed, over a wider music-theory line: for G-learning the reward is
 * s · r_MT alone (the Note RNN enters through G's prior, not the reward), so the two series are the same
 * numbers and one line would hide the other. Drawn so, the music-theory line shows between the dashes,
 * and a note under the legend says that they coincide, and why, whenever the data says they do.
 */
import type { ProgressPoint } from './protocol.js';

export const SERIES = [
  { key: 'total', label: 'total reward', color: '#222', width: 2, dash: '7 5' },
  { key: 'musicTheory', label: 'music-theory reward', color: '#c8640f', width: 4, dash: '' },
  { key: 'noteRnn', label: 'Note RNN log p', color: '#2f6fd0', width: 2, dash: '' },
] as const;
/** The order the lines are drawn in: the dashed total on top. */
const DRAW_ORDER = ['noteRnn', 'musicTheory', 'total'] as const;
const seriesOf = (key: (typeof SERIES)[number]['key']) => SERIES.find((s) => s.key === key)!;

/** True when the total and the music-theory reward are the same numbers at every point (as for G-learning). */
export function totalIsMusicTheory(points: readonly ProgressPoint[]): boolean {
  return points.length > 0 && points.every((p) => Math.abs(p.total - p.musicTheory) <= 1e-9 * Math.max(1, Math.abs(p.total)));
}

/** The note under the legend: why two lines lie on each other, or '' when they do not. */
export function chartNote(points: readonly ProgressPoint[], algorithm: string): string {
  if (!totalIsMusicTheory(points)) return '';
  return algorithm === 'g'
    ? 'The dashed total lies on the music-theory line: for G-learning the reward is the music-theory reward (s · r_MT) ' +
      'alone, and the Note RNN enters through G’s prior, not the reward. Its log p is the blue line.'
    : 'The dashed total lies on the music-theory line: the two are the same numbers in this run.';
}

const H = 260, LEFT = 58, RIGHT = 16, TOP = 12, BOTTOM = 46;
const SVG = 'http://www.w3.org/2000/svg';

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/**
 * Round tick values covering [lo, hi]: a step of 1, 2 or 5 × 10^k chosen so there are at most
 * `maxTicks` intervals, and the axis widened to whole steps. Returns the ticks (first = axis min, last =
 * axis max) and the step.
 */
export function niceTicks(lo: number, hi: number, maxTicks: number): { ticks: number[]; step: number } {
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi >= lo)) throw new RangeError(`niceTicks: need finite lo <= hi, got ${lo}, ${hi}`);
  if (hi === lo) { lo -= 0.5; hi += 0.5; }
  const rough = (hi - lo) / Math.max(1, maxTicks);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough * (1 - 1e-9)) ?? 10 * power;
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(roundTo(i * step, step));
  return { ticks, step };
}

/** Removes floating-point noise (0.30000000000000004 → 0.3) at the precision of `step`. */
function roundTo(value: number, step: number): number {
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(value.toFixed(digits)) + 0;
}

/** A tick label: as many decimals as the step needs. */
function tickLabel(value: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return value.toFixed(decimals).replace('-', '−');
}

/** A step count on the x axis: 50k, 1.5M. */
function stepLabel(value: number): string {
  if (value >= 1e6) return `${+(value / 1e6).toFixed(2)}M`;
  if (value >= 1e3) return `${+(value / 1e3).toFixed(1)}k`;
  return String(value);
}

/** Fills `list` with one item per series: a colour swatch and the series' name. */
export function drawLegend(list: HTMLElement): void {
  list.replaceChildren(...SERIES.map((s) => {
    const item = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    if (s.dash) swatch.style.borderTop = `3px dashed ${s.color}`;
    else swatch.style.background = s.color;
    item.append(swatch, s.label);
    item.dataset.series = s.key;
    return item;
  }));
}

/** Draws the chart; `note` gets chartNote's words (hidden when there are none). */
export function drawRewardChart(svg: SVGSVGElement, points: ProgressPoint[], totalSteps: number, algorithm: string, note?: HTMLElement): void {
  const W = Math.max(300, Math.round(svg.clientWidth || 640)); // one user unit per CSS pixel
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.replaceChildren();
  const values = points.flatMap((p) => SERIES.map((s) => p[s.key])).filter(Number.isFinite);
  const plotW = W - LEFT - RIGHT, plotH = H - TOP - BOTTOM;
  const yAxis = niceTicks(values.length ? Math.min(...values) : -1, values.length ? Math.max(...values) : 1, plotH >= 160 ? 6 : 4);
  const lo = yAxis.ticks[0], hi = yAxis.ticks[yAxis.ticks.length - 1];
  const xAxis = niceTicks(0, Math.max(1, totalSteps), plotW >= 400 ? 8 : 4);
  const xMax = Math.max(1, totalSteps); // ticks past the run's end are not drawn
  const x = (step: number): number => LEFT + (step / Math.max(1, xMax)) * plotW;
  const y = (v: number): number => TOP + ((hi - v) / (hi - lo)) * plotH;

  svg.append(el('rect', { x: LEFT, y: TOP, width: plotW, height: plotH, fill: '#fbfbfd', stroke: '#d5d9e2' }));
  for (const v of yAxis.ticks) {
    svg.append(el('line', { x1: LEFT, x2: W - RIGHT, y1: y(v), y2: y(v), stroke: v === 0 ? '#b9bfcc' : '#eceef3' }));
    const label = el('text', { x: LEFT - 6, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#555b6e', class: 'y-tick' });
    label.textContent = tickLabel(v, yAxis.step);
    svg.append(label);
  }
  for (const v of xAxis.ticks) {
    if (v > xMax) continue;
    svg.append(el('line', { x1: x(v), x2: x(v), y1: TOP + plotH, y2: TOP + plotH + 4, stroke: '#b9bfcc' }));
    const label = el('text', { x: x(v), y: TOP + plotH + 16, 'text-anchor': 'middle', 'font-size': 11, fill: '#555b6e', class: 'x-tick' });
    label.textContent = stepLabel(v);
    svg.append(label);
  }
  const xTitle = el('text', { x: LEFT + plotW / 2, y: H - 6, 'text-anchor': 'middle', 'font-size': 12, fill: '#333' });
  xTitle.textContent = 'training step';
  const yTitle = el('text', {
    x: 0, y: 0, 'text-anchor': 'middle', 'font-size': 12, fill: '#333', transform: `translate(14 ${TOP + plotH / 2}) rotate(-90)`,
  });
  yTitle.textContent = 'reward per step';
  svg.append(xTitle, yTitle);

  for (const key of DRAW_ORDER) {
    const s = seriesOf(key);
    svg.append(el('polyline', {
      points: points.filter((p) => Number.isFinite(p[s.key])).map((p) => `${x(p.step).toFixed(1)},${y(p[s.key]).toFixed(1)}`).join(' '),
      fill: 'none', stroke: s.color, 'stroke-width': s.width, 'stroke-linejoin': 'round',
      ...(s.dash ? { 'stroke-dasharray': s.dash } : {}),
      'data-series': s.key, 'data-points': points.length,
    }));
  }
  if (note) {
    note.textContent = chartNote(points, algorithm);
    note.hidden = note.textContent === '';
  }
  svg.dataset.points = String(points.length);
  const last = points[points.length - 1];
  svg.setAttribute('aria-label', last
    ? `Reward per step during tuning, ${points.length} logging intervals up to step ${last.step.toLocaleString('en')} of ` +
      `${totalSteps.toLocaleString('en')}: latest total ${last.total.toFixed(2)}, music theory ${last.musicTheory.toFixed(2)}, ` +
      `Note RNN log p ${last.noteRnn.toFixed(2)}${totalIsMusicTheory(points) ? ' (the total is the music-theory reward in this run)' : ''}`
    : 'Reward per step during tuning: no data yet');
}
