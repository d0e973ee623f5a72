/**
 * The live reward chart: three SVG polylines (total, music theory, Note RNN log p; each the mean per
 * step over a logging interval) against training steps, rescaled as points arrive.
 */
import type { ProgressPoint } from './protocol.js';

const SERIES = [
  { key: 'total', label: 'total', color: '#222' },
  { key: 'musicTheory', label: 'music theory', color: '#e07a1f' },
  { key: 'noteRnn', label: 'Note RNN log p', color: '#2f6fd0' },
] as const;

const H = 240, LEFT = 50, RIGHT = 14, TOP = 30, BOTTOM = 24;
const SVG = 'http://www.w3.org/2000/svg';

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

export function drawRewardChart(svg: SVGSVGElement, points: ProgressPoint[], totalSteps: number): void {
  const W = Math.max(320, Math.round(svg.clientWidth || 640)); // one user unit per CSS pixel
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.replaceChildren();
  const values = points.flatMap((p) => SERIES.map((s) => p[s.key])).filter(Number.isFinite);
  let lo = values.length ? Math.min(...values) : -1;
  let hi = values.length ? Math.max(...values) : 1;
  if (hi - lo < 1e-6) { lo -= 0.5; hi += 0.5; }
  const pad = (hi - lo) * 0.08;
  lo -= pad; hi += pad;
  const x = (step: number): number => LEFT + (step / Math.max(1, totalSteps)) * (W - LEFT - RIGHT);
  const y = (v: number): number => TOP + ((hi - v) / (hi - lo)) * (H - TOP - BOTTOM);

  svg.append(el('rect', { x: LEFT, y: TOP, width: W - LEFT - RIGHT, height: H - TOP - BOTTOM, fill: '#fbfbfd', stroke: '#d5d9e2' }));
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    svg.append(el('line', { x1: LEFT, x2: W - RIGHT, y1: y(v), y2: y(v), stroke: '#eceef3' }));
    const label = el('text', { x: LEFT - 6, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#667' });
    label.textContent = v.toFixed(1);
    svg.append(label);
  }
  if (lo < 0 && hi > 0) svg.append(el('line', { x1: LEFT, x2: W - RIGHT, y1: y(0), y2: y(0), stroke: '#b9bfcc' }));
  const xLabel = el('text', { x: W - RIGHT, y: H - 6, 'text-anchor': 'end', 'font-size': 11, fill: '#667' });
  xLabel.textContent = `${totalSteps.toLocaleString('en')} steps`;
  svg.append(xLabel);
  const origin = el('text', { x: LEFT, y: H - 6, 'font-size': 11, fill: '#667' });
  origin.textContent = '0';
  svg.append(origin);

  SERIES.forEach((s, i) => {
    const line = el('polyline', {
      points: points.filter((p) => Number.isFinite(p[s.key])).map((p) => `${x(p.step).toFixed(1)},${y(p[s.key]).toFixed(1)}`).join(' '),
      fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-linejoin': 'round',
      'data-series': s.key, 'data-points': points.length,
    });
    svg.append(line);
    const lx = LEFT + i * 140;
    svg.append(el('line', { x1: lx, x2: lx + 18, y1: 12, y2: 12, stroke: s.color, 'stroke-width': 3 }));
    const t = el('text', { x: lx + 24, y: 16, 'font-size': 12, fill: '#333' });
    t.textContent = s.label;
    svg.append(t);
  });
  svg.dataset.points = String(points.length);
}
