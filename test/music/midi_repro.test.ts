// Files that used to hang or break the importer (test/fixtures/midi_repro/README.md), and the bounds the
// importer promises: any file is read within 1 s and 64 MB of memory per MB of input. These tests time
// and measure on purpose: the bound is the behaviour under test. The command-line tests need
// `npm run build` (which `npm test` runs first).
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_STEPS_LIMIT, MidiImportError, importMidi } from '../../src/music/midi_import.js';
import { heapInUse } from '../fuzz/runner.js';
import { denseNoteFile, manyKeySignaturesFile, manyPartsFile, manyTinyTracksFile } from './midi_test_files.js';
import { measureReaderWithin } from '../support/fresh_process.js';
import { rltuner } from '../support/cli.js';

const REPRO_DIR = fileURLToPath(new URL('../fixtures/midi_repro/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'rltuner-midi-repro-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** What each file must end in: the exact message (after the file name), or a melody. */
const EXPECTED: Record<string, { reason: string; detail: string } | 'melody'> = {
  'sysex_length_overflow.mid': {
    reason: 'unreadable',
    detail: 'not a readable MIDI file: track 0: the length of the sysex event at byte 31 (starting at byte 32) is a variable-length quantity longer than 4 bytes (corrupt file)',
  },
  'fuzz_insert_4_bytes.mid': {
    reason: 'unreadable',
    detail: 'not a readable MIDI file: track 0: the length of the sysex event at byte 280 (starting at byte 281) is a variable-length quantity longer than 4 bytes (corrupt file)',
  },
  'valid_130kb_lyric.mid': 'melody',
  // Its delta times are 5-byte quantities after the first (0x0FFFFFFF ticks at 1 tick per quarter):
  // refused while reading, whatever maxSteps is.
  'too_long_for_max_steps.mid': {
    reason: 'unreadable',
    detail: 'not a readable MIDI file: track 0: the delta time starting at byte 33 is a variable-length quantity longer than 4 bytes (corrupt file)',
  },
};

function outcome(bytes: Uint8Array, name: string, options = {}): { tokens?: Uint8Array; error?: MidiImportError; ms: number } {
  const started = performance.now();
  try {
    const { tokens } = importMidi(bytes, { name, ...options });
    return { tokens, ms: performance.now() - started };
  } catch (error) {
    if (!(error instanceof MidiImportError)) throw error;
    return { error, ms: performance.now() - started };
  }
}


describe('the regression files in test/fixtures/midi_repro', () => {
  it('are the four files the README lists', () => {
    expect(readdirSync(REPRO_DIR).filter((f) => f.endsWith('.mid')).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [file, expected] of Object.entries(EXPECTED)) {
    it(`${file}: ${expected === 'melody' ? 'a melody' : `a named '${expected.reason}' error`} within 1 s through importMidi, at any maxSteps`, () => {
      const bytes = new Uint8Array(readFileSync(join(REPRO_DIR, file)));
      for (const maxSteps of [undefined, MAX_STEPS_LIMIT]) {
        const result = outcome(bytes, file, { maxSteps });
        expect(result.ms).toBeLessThan(1000);
        if (expected === 'melody') {
          expect(result.error).toBeUndefined();
          expect(result.tokens!.length).toBeGreaterThanOrEqual(8);
          expect(Math.max(...result.tokens!)).toBeLessThan(38);
        } else {
          expect(result.error?.reason).toBe(expected.reason);
          expect(result.error?.message).toBe(`${file}: ${expected.detail}`);
        }
      }
    });

    it(`${file}: the same through \`rltuner generate --primer\`, in under 3 s with node start-up`, async () => {
      const primer = join(REPRO_DIR, file);
      const result = await rltuner(['generate', '--primer', primer, '--count', '1', '--out', join(work, file)], { cwd: work });
      expect(result.ms).toBeLessThan(3000);
      if (expected === 'melody') {
        expect(result.code, result.stderr).toBe(0);
        expect(readdirSync(join(work, file))).toEqual(['melody_001.mid']);
      } else {
        expect(result.code).toBe(1);
        expect(result.stderr).toBe(`rltuner generate: ${primer}: ${expected.detail}\n`);
      }
    });
  }
});

describe('step counts are decided before tokens are allocated', () => {
  // Two one-step notes at 96 ticks per quarter (24 ticks per step), the second at step 2^22: a valid file
  // with 4-byte delta times, a melody one step too long for the largest maxSteps.
  const gapTicks = 24 * (MAX_STEPS_LIMIT - 1); // from the end of the first note to the start of the second
  const delta = [0x80 | ((gapTicks >>> 21) & 0x7f), 0x80 | ((gapTicks >>> 14) & 0x7f), 0x80 | ((gapTicks >>> 7) & 0x7f), gapTicks & 0x7f];
  const trackBytes = [0x00, 0x90, 60, 90, 0x18, 60, 0, ...delta, 64, 90, 0x18, 64, 0, 0x00, 0xff, 0x2f, 0x00];
  const longFile = new Uint8Array([
    ...[0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 0, 0, 1, 0, 96],
    ...[0x4d, 0x54, 0x72, 0x6b, 0, 0, 0, trackBytes.length],
    ...trackBytes,
  ]);

  it('a melody longer than maxSteps is a named too-long error at the default and at the largest maxSteps', () => {
    expect(outcome(longFile, 'long.mid').error?.message).toBe(
      "long.mid: melody is 4194305 steps long, above the maximum of 65536 (beyond the 4194304 steps any import allows; the file's delta times are corrupt or it is not a melody)",
    );
    const heapBefore = heapInUse();
    const atLimit = outcome(longFile, 'long.mid', { maxSteps: MAX_STEPS_LIMIT });
    const heapGrowth = heapInUse() - heapBefore;
    expect(atLimit.error?.reason).toBe('too-long');
    expect(atLimit.error?.message).toMatch(/4194305 steps long, above the maximum of 4194304 \(beyond the 4194304 steps any import allows/);
    expect(heapGrowth).toBeLessThan(1024 * 1024); // the 4 MB token array was never made
  });

  it('maxSteps itself is bounded: above 2^22, or not a positive integer, is a bad option', () => {
    for (const maxSteps of [MAX_STEPS_LIMIT + 1, 0, 1.5, Number.NaN, Infinity]) {
      const { error } = outcome(longFile, 'long.mid', { maxSteps });
      expect(error?.reason).toBe('bad-option');
      expect(error?.message).toMatch(/^long\.mid: maxSteps .* is out of range; expected an integer in 1\.\.4194304$/);
    }
  });
});

describe('dense large files read within 1 s and 64 MB of resident memory per MB', () => {
  // Measured in a fresh node process (test/support/fresh_process.ts): the call's own peak resident memory
  // over the resident memory before it, heap, buffers and the collector's space alike; not heap growth.
  // A run over the time bound is made again (at most three in all): a pause on a shared machine hits one.
  const MB = 1e6;
  const WARM_UP = fileURLToPath(new URL('../../data/nottingham/melody/ashover1.mid', import.meta.url));
  const measure = async (bytes: Uint8Array, label: string) => {
    const path = join(work, `${label}.mid`);
    writeFileSync(path, bytes);
    const measured = await measureReaderWithin('midi', WARM_UP, path, Math.max(100, (1000 * bytes.length) / MB));
    console.log(`${label} ${(bytes.length / MB).toFixed(2)} MB: ${measured.ms.toFixed(0)} ms, peak resident memory +${(measured.peakGrowthBytes / MB).toFixed(1)} MB ` +
      `(${(measured.peakGrowthBytes / bytes.length).toFixed(1)} per input byte, ${measured.peakFrom})`);
    return { ...measured, outcome: measured.outcome.replace(`MidiImportError: ${path}`, 'dense.mid') };
  };

  it('8 MB of note-ons one step apart: a named too-long error', async () => {
    const bytes = denseNoteFile(8 * MB, 1);
    const { ms, peakGrowthBytes, outcome: result } = await measure(bytes, 'dense-steps');
    expect(result).toBe('dense.mid: melody is 2666656 steps long, above the maximum of 65536 (corrupt delta times? raise maxSteps, up to 4194304, if the file is right)');
    expect(ms).toBeLessThan((1000 * bytes.length) / MB);
    expect(peakGrowthBytes).toBeLessThan(64 * bytes.length);
  }, 30_000);

  it('8 MB of 64-note chords: a melody', async () => {
    const bytes = denseNoteFile(8 * MB, 64);
    const { ms, peakGrowthBytes, outcome: result } = await measure(bytes, 'dense-chords');
    expect(result).toBe('ok 41667 steps');
    expect(ms).toBeLessThan((1000 * bytes.length) / MB);
    expect(peakGrowthBytes).toBeLessThan(64 * bytes.length);
  }, 30_000);

  it('4 MB of one-note tracks, and 4 MB of key signatures: per-track and per-event costs stay in the bound', async () => {
    for (const [label, bytes, expected] of [
      ['tiny-tracks', manyTinyTracksFile(4 * MB), /^dense\.mid: melody is 1 steps long, below the minimum of 8/],
      ['key-signatures', manyKeySignaturesFile(4 * MB), /^dense\.mid: melody is 1 steps long/],
    ] as const) {
      const { ms, peakGrowthBytes, outcome: result } = await measure(bytes, label);
      expect(result).toMatch(expected);
      expect(ms).toBeLessThan((1000 * bytes.length) / MB);
      expect(peakGrowthBytes).toBeLessThan(64 * bytes.length);
    }
  }, 30_000);

  it('65,536 one-note parts (4,096 tracks of 16 channels), and 262,144 of them: at most 64 bytes of resident memory per input byte', async () => {
    // A part costs the file 4.5 bytes (a delta time, a status and two data bytes, and its share of a track
    // header): the cheapest way to make the importer hold per-part records. At main a874bc3 the first
    // peaked at 112 MB per MB of file.
    for (const tracks of [4096, 16_384]) {
      const bytes = manyPartsFile(tracks);
      const { ms, peakGrowthBytes, outcome: result } = await measure(bytes, `parts-${tracks * 16}`);
      expect(result).toMatch(/^dense\.mid: melody is 1 steps long, below the minimum of 8/);
      expect(ms).toBeLessThan(Math.max(100, (1000 * bytes.length) / MB));
      expect(peakGrowthBytes).toBeLessThan(64 * bytes.length);
    }
  }, 30_000);
});
