import { describe, expect, it } from 'vitest';
import { NO_EVENT as H, NOTE_OFF as OFF, pitchToToken } from '../../src/music/encoding.js';
import { durationName, melodyAsText } from '../../src/music/notes.js';

const C4 = pitchToToken(60);
const D4 = pitchToToken(62);
const Bb3 = pitchToToken(58);

describe('melodyAsText', () => {
  it('names notes, rests and durations, with bar lines from the bar length', () => {
    // C4 quarter, D4 8th, rest 8th | Bb3 dotted half, held over the bar line into the next bar
    const tokens = [C4, H, H, H, D4, H, OFF, H, Bb3, H, H, H, H, H, H, H, H, H, H, H];
    expect(melodyAsText(tokens, 8)).toBe('C4 quarter, D4 8th, rest 8th | Bb3 dotted half');
    expect(melodyAsText(tokens, 16)).toBe('C4 quarter, D4 8th, rest 8th, Bb3 dotted half');
  });

  it('counts bars from a pickup and writes a leading rest', () => {
    expect(melodyAsText([H, H, C4, H, D4, H, H, H], 4, 2)).toBe('rest 8th | C4 8th, D4 quarter');
    expect(melodyAsText([OFF, H, C4, H], 4)).toBe('rest 8th, C4 8th');
  });

  it('names the usual durations and counts the others in sixteenths', () => {
    expect([1, 2, 3, 4, 6, 8, 12, 16, 5].map(durationName))
      .toEqual(['16th', '8th', 'dotted 8th', 'quarter', 'dotted quarter', 'half', 'dotted half', 'whole', '5 16ths']);
  });
});

describe('melodyAsText with a transposition', () => {
  it('moves the names as the MIDI export moves the notes', () => {
    expect(melodyAsText([C4, H, D4, H], 16, 0, 2)).toBe('D4 8th, E4 8th');
    expect(melodyAsText([Bb3, H, H, H], 16, 0, -1)).toBe('A3 quarter');
  });
});
