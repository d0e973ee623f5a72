import { describe, expect, it } from 'vitest';
import { formatTimeLeft, modelPath, numberFlag, Progress, reportStream } from '../../src/cli/common.js';

describe('number flags', () => {
  it('are plain decimals in range', () => {
    expect(numberFlag('x', 'lr', '1e-3', 0, 0, 1)).toBe(0.001);
    expect(numberFlag('x', 'lr', undefined, 0.5, 0, 1)).toBe(0.5);
    expect(numberFlag('x', 'count', '1e2', 0, 1, 1000, true)).toBe(100);
    expect(() => numberFlag('x', 'count', '0x10', 0, 1, 1000, true)).toThrow('--count 0x10: expected an integer in 1..1000 (not a plain decimal');
    expect(() => numberFlag('x', 'lr', '1e-400', 0, 0, 1)).toThrow('--lr 1e-400: expected a number in 0..1 (too small: it underflows to 0)');
    expect(() => numberFlag('x', 'count', '2.5', 0, 1, 1000, true)).toThrow('--count 2.5: expected an integer in 1..1000');
    expect(() => numberFlag('x', 'shift', '25', 0, -24, 24, true, 'semitones from -24 to 24')).toThrow('--shift 25: expected semitones from -24 to 24');
  });

  it('an empty model path is an error, not the default', () => {
    expect(() => modelPath('')).toThrow(/--model '': the path is empty/);
  });
});

describe('- for standard output', () => {
  it('takes standard output for one file at most, and sends the report to stderr then', () => {
    expect(reportStream('x', { json: 'a.json', markdown: undefined })).toBe(process.stdout);
    expect(reportStream('x', { json: '-', markdown: 'b.md' })).toBe(process.stderr);
    expect(() => reportStream('x', { json: '-', markdown: '-' })).toThrow('--json - and --markdown -: standard output holds one file; write the others to files');
  });
});

/** A stream that keeps what is written, a terminal or not. */
function fakeStream(isTTY: boolean, columns = 80): NodeJS.WriteStream & { text: string } {
  const stream = { isTTY, columns, text: '', write(chunk: string) { stream.text += chunk; return true; } };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}

describe('Progress', () => {
  it('on a terminal draws a bar with the share done and the time left, rewritten in place and cut to the width', async () => {
    const stream = fakeStream(true, 60);
    const progress = new Progress(false, stream);
    progress.bar(0, 100, 'starting');
    await new Promise((r) => setTimeout(r, 120));
    progress.bar(50, 100, `half ${'x'.repeat(100)}`);
    const frames = stream.text.split('\r\x1b[2K').filter(Boolean);
    expect(frames).toHaveLength(2);
    expect(frames[0]).toBe(`[${'.'.repeat(24)}] 0%  starting`);
    expect(frames[1]).toMatch(/^\[#{12}\.{12}\] 50%, \d+ s left {2}half x+…$/);
    expect(frames[1].length).toBe(59);
    progress.log('a line that stays');
    expect(stream.text.endsWith('\r\x1b[2Ka line that stays\n')).toBe(true);
  });

  it('elsewhere writes a plain line at each tenth of the work, and nothing with quiet', () => {
    const stream = fakeStream(false);
    const progress = new Progress(false, stream);
    for (let done = 0; done <= 1000; done += 25) progress.bar(done, 1000, `step ${done}`);
    const lines = stream.text.trim().split('\n');
    expect(lines.map((l) => l.split('  (')[0])).toEqual(['step 100', 'step 200', 'step 300', 'step 400', 'step 500', 'step 600', 'step 700', 'step 800', 'step 900']);
    expect(lines[4]).toMatch(/^step 500 {2}\(50%(, \d+ s left)?\)$/);
    progress.restart();
    progress.bar(150, 1000, 'again');
    expect(stream.text.trim().split('\n')).toHaveLength(10);
    const silent = fakeStream(false);
    const quiet = new Progress(true, silent);
    for (let done = 0; done <= 10; done++) quiet.bar(done, 10, 'x');
    quiet.log('not shown');
    quiet.note('a result');
    expect(silent.text).toBe('a result\n');
    const noPlain = fakeStream(false);
    new Progress(false, noPlain).bar(5, 10, 'x', false);
    expect(noPlain.text).toBe('');
  });

  it('says time left in the words a reader needs', () => {
    expect([0.2, 8.4, 61, 200, 3600, 7500].map(formatTimeLeft)).toEqual(['1 s', '8 s', '1 min 1 s', '3 min 20 s', '1 h 0 min', '2 h 5 min']);
  });
});
