/** SVG report charts: structure, escaping, edge cases (empty, single-point and NaN series), heat-map cells. */
import { describe, expect, it } from 'vitest';
import { NUM_CLASSES, tokenName } from '../../src/music/encoding.js';
import { ChartInputError, escapeXml, heatmap, lineChart, niceTicks, seriesColour } from '../../src/report/svg.js';

const count = (text: string, pattern: RegExp): number => (text.match(pattern) ?? []).length;

/** Checks that every opening tag is closed in order (a small well-formedness check; no entities in tags). */
function expectBalancedTags(svg: string): void {
  const stack: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing) continue;
    if (closing) expect(stack.pop()).toBe(name);
    else stack.push(name);
  }
  expect(stack).toEqual([]);
  expect(svg).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
}

describe('niceTicks and escapeXml', () => {
  it('ticks are round steps covering the range', () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(-0.3, 0.72, 5)).toEqual([-0.4, -0.2, 0, 0.2, 0.4, 0.6, 0.8].map((v) => expect.closeTo(v, 12)));
    expect(niceTicks(3, 47, 4)).toEqual([0, 10, 20, 30, 40, 50]);
  });

  it('escapes the five XML special characters', () => {
    expect(escapeXml(`a<b & c>"d"'`)).toBe('a&lt;b &amp; c&gt;&quot;d&quot;&apos;');
  });

  it('gives distinct colours to many series', () => {
    const colours = Array.from({ length: 30 }, (_, i) => seriesColour(i));
    expect(new Set(colours).size).toBe(30);
  });
});

describe('lineChart', () => {
  const chart = lineChart({
    title: 'Reward <total> & parts',
    xLabel: 'step',
    yLabel: 'reward',
    series: [
      { name: 'total', points: [[0, -1], [100, 0.5], [200, 2]] },
      { name: 'music theory', points: [[0, -2], [100, NaN], [200, 1]] },
      { name: 'Note RNN', points: [[50, 0]] },
      { name: 'empty', points: [] },
    ],
  });

  it('is a balanced SVG document with the escaped title', () => {
    expect(chart.startsWith('<svg')).toBe(true);
    expect(chart.endsWith('</svg>')).toBe(true);
    expect(count(chart, /<svg/g)).toBe(1);
    expectBalancedTags(chart);
    expect(chart).toContain('Reward &lt;total&gt; &amp; parts');
    expect(chart).not.toContain('<total>');
  });

  it('draws one path per series with data, a dot for lone points, and lists every series', () => {
    expect(count(chart, /<path /g)).toBe(3);
    // The music-theory series is broken by NaN into two single points; Note RNN has one point.
    expect(count(chart, /<circle /g)).toBe(3);
    expect(chart).toMatch(/d="M[\d.]+,[\d.]+ M[\d.]+,[\d.]+"/);
    expect(chart).toContain('>empty (no data)</text>');
    for (const name of ['total', 'music theory', 'Note RNN']) expect(chart).toContain(`>${name}</text>`);
    expect(chart).toContain(`stroke="${seriesColour(0)}"`);
    expect(chart).toContain(`stroke="${seriesColour(1)}"`);
  });

  it('labels the axis ticks with numbers', () => {
    // x spans 0..200 → ticks 0, 50, ..., 200; y spans −2..2 → ticks −2, −1, 0, 1, 2.
    for (const label of ['0', '50', '100', '150', '200', '-2', '-1', '1', '2']) expect(chart).toContain(`>${label}</text>`);
    expect(chart).toContain('>step</text>');
    expect(chart).toContain('>reward</text>');
  });

  it('handles a chart with no data or a single point', () => {
    const empty = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [] });
    expectBalancedTags(empty);
    expect(count(empty, /<path /g)).toBe(0);
    expect(empty).not.toContain('NaN');
    const single = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[3, 5]] }] });
    expect(single).not.toContain('NaN');
    expect(count(single, /<circle /g)).toBe(1);
  });

  it('rejects an unusable size', () => {
    expect(() => lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [], width: 10 })).toThrow(ChartInputError);
  });
});

describe('heatmap', () => {
  const rows = Array.from({ length: NUM_CLASSES }, (_, i) => tokenName(i));
  const columns = 32;
  const values = new Float32Array(NUM_CLASSES * columns);
  for (let c = 0; c < columns; c++) values[(2 + (c % 36)) * columns + c] = 1;
  values[5] = NaN;

  const map = heatmap({ title: 'Note probabilities <Q>', rows, columns, values });

  it('has one cell per value, row labels, a scale legend and the escaped title', () => {
    expect(map.startsWith('<svg')).toBe(true);
    expectBalancedTags(map);
    expect(count(map, /class="cell"/g)).toBe(NUM_CLASSES * columns);
    expect(count(map, /class="scale"/g)).toBeGreaterThan(1);
    expect(map).toContain('Note probabilities &lt;Q&gt;');
    for (const name of ['off', 'hold', 'C3', 'B5', 'C#4']) expect(map).toContain(`>${name}</text>`);
  });

  it('maps the smallest and largest value to the ends of the scale and NaN to grey', () => {
    expect(map).toContain('fill="#440154"><title>off, 0: 0</title>');
    expect(map).toContain('fill="#fde725"><title>C3, 0: 1</title>');
    expect(map).toContain('fill="#cccccc"><title>off, 5: NaN</title>');
  });

  it('rejects values that do not match rows × columns', () => {
    expect(() => heatmap({ title: 't', rows: ['a', 'b'], columns: 3, values: [1, 2, 3] })).toThrow(
      /3 values but 2 rows × 3 columns = 6/,
    );
  });
});
