/**
 * The held-out folder (test/fixtures/held_out): MIDI files made by make_files.mjs from note lists, each
 * beside the import expected of it, written by hand from the notes. Checks that the files are the ones the
 * script makes (so the folder and the note lists cannot drift apart) and that importMidi gives, for each,
 * every figure its JSON names.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importMidi, type ImportResult } from '../../src/music/midi_import.js';
// @ts-expect-error: a plain ES module (node test/fixtures/held_out/make_files.mjs writes the folder)
import { heldOutFiles } from '../fixtures/held_out/make_files.mjs';

const FOLDER = fileURLToPath(new URL('../fixtures/held_out/', import.meta.url));
const made = heldOutFiles() as Record<string, Uint8Array>;
const names = readdirSync(FOLDER).filter((f) => f.endsWith('.mid')).map((f) => f.slice(0, -4)).sort();

/** The figures a JSON may name, read from an import. */
function figures(result: ImportResult): Record<string, unknown> {
  return {
    track: result.track,
    channel: result.channel,
    noteCount: result.noteCount,
    key: result.key.name,
    keySource: result.key.source,
    modeFrom: result.key.modeFrom,
    placeholder: result.key.placeholder,
    signaturesAtOnce: result.key.signaturesAtOnce,
    transposition: result.transposition,
    tokensKey: result.tokensKey,
    octaveShift: result.octaveShift,
    meter: `${result.meter.numerator}/${result.meter.denominator}`,
    meterSource: result.meter.source,
    meterPlaceholder: result.meter.placeholder,
    stepsPerBar: result.meter.stepsPerBar,
    barPosition: result.barPosition,
    qpm: result.qpm,
    gridOffsetTicks: result.gridOffsetTicks,
    offGridNotes: result.offGridNotes,
    tripletGroups: result.tripletGroups,
    graceNotesDropped: result.graceNotesDropped,
    chordNotesDropped: result.chordNotesDropped,
    notesMergedOnStep: result.notesMergedOnStep,
    tokens: [...result.tokens],
    tokensStart: [...result.tokens],
  };
}

describe('the held-out folder', () => {
  it('holds the files make_files.mjs makes, each with its expected import beside it', () => {
    expect(names).toEqual(Object.keys(made).sort());
    expect(names.length).toBeGreaterThanOrEqual(12);
    for (const name of names) {
      expect(Buffer.from(readFileSync(`${FOLDER}${name}.mid`)).equals(Buffer.from(made[name])), `${name}.mid is not what make_files.mjs makes; run it again`).toBe(true);
      expect(() => readFileSync(`${FOLDER}${name}.json`), `${name}.json`).not.toThrow();
    }
  });

  for (const name of names) {
    const expected = JSON.parse(readFileSync(`${FOLDER}${name}.json`, 'utf8')) as Record<string, unknown>;
    it(`${name}: ${expected.what as string}`, () => {
      const result = importMidi(new Uint8Array(readFileSync(`${FOLDER}${name}.mid`)), { name: `${name}.mid` });
      const got = figures(result);
      const checked = Object.keys(expected).filter((k) => k !== 'what' && k !== 'keyNoteMatches');
      expect(checked.length).toBeGreaterThan(2);
      for (const field of checked) {
        expect(field in got, `${name}.json names ${field}, which the test does not read`).toBe(true);
        const value = field === 'tokensStart' ? (got.tokens as number[]).slice(0, (expected.tokensStart as number[]).length) : got[field];
        expect(value, `${name}: ${field}`).toEqual(expected[field]);
      }
      if (typeof expected.keyNoteMatches === 'string') {
        expect(result.key.notes.some((note) => new RegExp(expected.keyNoteMatches as string).test(note)), result.key.notes.join(' | ')).toBe(true);
      }
    });
  }
});
