import { describe, expect, it } from 'vitest';
import {
  C_MAJOR_KEY,
  MAX_PITCH,
  MIN_PITCH,
  NO_EVENT,
  NOTE_OFF,
  NUM_CLASSES,
  assertTokens,
  isSpecial,
  pitchToToken,
  tokenName,
  tokenToPitch,
} from '../../src/music/encoding.js';

describe('melody encoding (SPEC §1)', () => {
  it('maps MIDI 48..83 to classes 2..37 and back', () => {
    expect(pitchToToken(48)).toBe(2);
    expect(pitchToToken(60)).toBe(14);
    expect(pitchToToken(83)).toBe(37);
    expect(tokenToPitch(2)).toBe(48);
    expect(tokenToPitch(14)).toBe(60);
    expect(tokenToPitch(37)).toBe(83);
    for (let pitch = MIN_PITCH; pitch <= MAX_PITCH; pitch++) expect(tokenToPitch(pitchToToken(pitch))).toBe(pitch);
  });

  it('rejects pitches and tokens outside the table', () => {
    expect(() => pitchToToken(47)).toThrow(/47/);
    expect(() => pitchToToken(84)).toThrow(/84/);
    expect(() => tokenToPitch(NOTE_OFF)).toThrow();
    expect(() => tokenToPitch(NO_EVENT)).toThrow();
    expect(() => tokenToPitch(NUM_CLASSES)).toThrow();
  });

  it('puts the specials at 0 (note-off) and 1 (no event)', () => {
    expect(NOTE_OFF).toBe(0);
    expect(NO_EVENT).toBe(1);
    expect(isSpecial(0) && isSpecial(1) && !isSpecial(2)).toBe(true);
    expect(tokenName(0)).toBe('off');
    expect(tokenName(1)).toBe('hold');
    expect(tokenName(2)).toBe('C3');
    expect(tokenName(14)).toBe('C4');
    expect(tokenName(37)).toBe('B5');
  });

  it('has a C major key set equal to the specials plus the white-key pitches', () => {
    const whiteKeys = new Set([0, 2, 4, 5, 7, 9, 11]);
    const expected = [0, 1];
    for (let token = 2; token < NUM_CLASSES; token++) if (whiteKeys.has(tokenToPitch(token) % 12)) expected.push(token);
    expect([...C_MAJOR_KEY].sort((a, b) => a - b)).toEqual(expected);
  });

  it('assertTokens names the bad position and value', () => {
    expect(() => assertTokens([14, 1, 38], 'melody')).toThrow('melody[2] = 38');
    expect(() => assertTokens([14, 1.5])).toThrow('tokens[1] = 1.5');
    expect(() => assertTokens(new Uint8Array([0, 1, 37]))).not.toThrow();
  });
});
