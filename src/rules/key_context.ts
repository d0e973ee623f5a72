/**
 * The rules in any key and mode: the RuleContext tables (key set, tonic, tonic-, fifth- and third-class
 * notes) derived from a tonic and a mode instead of SPEC §1's C major tables. C major gives exactly those
 * tables on the 38 classes.
 *
 * - key set: the specials and every note class whose pitch class is in the mode's scale;
 * - tonic: the tonic-class note nearest C4 (MIDI 60), ties upward (F# → F#4), so C major keeps C4 and
 *   A minor gets A3;
 * - tonic, fifth and third classes: the notes of the scale's 1st, 5th and 3rd degrees, every octave;
 * - noteOffset: how far the key lies above its reference layout (C for major modes, A for minor ones),
 *   in −5..+6 semitones, so rule 4 (autocorrelation) reads a melody the same in every key.
 * The tables list the note classes of one octave above B5 as well (tokens 38..49): the rules are pure
 * functions of integer tokens, and a composition moved into another key (as the tests move the golden
 * compositions) may pass the top of the encoding; the models never play those classes.
 */
import { NO_EVENT, NOTE_OFF, NUM_CLASSES, NUM_SPECIAL, PITCH_OFFSET } from '../music/encoding.js';
import { keyNamed, scaleOf, transpositionToReference, type Key } from '../music/keys.js';
import { ruleContext, type RuleContext } from './rules.js';

/** Highest token the tables list: one octave above the last class. */
const LAST_TABLE_TOKEN = NUM_CLASSES - 1 + 12;
const C4 = 60;

export interface KeyRuleOptions extends Partial<Omit<RuleContext, 'key' | 'tonic' | 'tonicNotes' | 'fifthNotes' | 'thirdNotes' | 'noteOffset'>> {
  /** Tonic name ("C", "F#", "Bb"). Default "C". */
  key?: string;
  /** Mode name (major, minor, dorian, mixolydian, …). Default "major". */
  mode?: string;
}

/** Note tokens (2..LAST_TABLE_TOKEN) whose pitch class is in `pitchClasses`. */
function notesOfPitchClasses(pitchClasses: readonly number[]): Set<number> {
  const notes = new Set<number>();
  for (let token = NUM_SPECIAL; token <= LAST_TABLE_TOKEN; token++) {
    if (pitchClasses.includes((token + PITCH_OFFSET) % 12)) notes.add(token);
  }
  return notes;
}

/** The tables of a key. */
export function keyTables(key: Key): Pick<RuleContext, 'key' | 'tonic' | 'tonicNotes' | 'fifthNotes' | 'thirdNotes' | 'noteOffset'> {
  const scale = scaleOf(key);
  const keySet = notesOfPitchClasses(scale);
  keySet.add(NOTE_OFF);
  keySet.add(NO_EVENT);
  const above = (((key.tonic - C4) % 12) + 12) % 12; // 0..11 semitones from C4 up to the next tonic
  const tonicPitch = above <= 6 ? C4 + above : C4 + above - 12;
  return {
    key: keySet,
    tonic: tonicPitch - PITCH_OFFSET,
    tonicNotes: notesOfPitchClasses([scale[0]]),
    fifthNotes: notesOfPitchClasses([scale[4]]),
    thirdNotes: notesOfPitchClasses([scale[2]]),
    noteOffset: 0 - transpositionToReference(key),
  };
}

/**
 * A rule context for a key and mode, with the other fields (numNotes, tonicDominantBonus) from `options`
 * or the defaults. Throws a KeyNameError naming the value for an unknown tonic or mode.
 */
export function keyRuleContext(options: KeyRuleOptions = {}): RuleContext {
  const { key = 'C', mode = 'major', ...rest } = options;
  return ruleContext({ ...rest, ...keyTables(keyNamed(key, mode)) });
}

/**
 * The tables for a config's `key` and `mode` (TunerConfig), or none when they are C major (so a
 * context passed in, e.g. by a test, keeps its own tables).
 */
export function keyTablesOf(config: { key?: string; mode?: string }): Partial<RuleContext> {
  const key = keyNamed(config.key ?? 'C', config.mode ?? 'major');
  if (key.tonic === 0 && (key.mode === 'major' || key.mode === 'ionian')) return {};
  return keyTables(key);
}
