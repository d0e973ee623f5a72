/**
 * The rules in any key and mode: the RuleContext tables (key set, tonic, tonic-, fifth- and third-class
 * notes) derived from a tonic and a mode instead of SPEC §1's C major tables. C major gives exactly those
 * tables on the 38 classes.
 *
 * - key set: the specials and every note class whose pitch class is in the mode's scale;
 * - noteOffset: how far the key lies above its reference layout, in −5..+6 semitones: the layout is C
 *   major's for the modes with a major third (major, lydian, mixolydian) and A minor's for the modes with
 *   a minor third (minor, dorian, phrygian, locrian), the tonics an import moves a tune's tonic to
 *   (transpositionToReference, SPEC §2.3);
 * - tonic: the reference tonic (C4 for major-third modes, A3 for minor-third ones) moved up by noteOffset,
 *   so C major keeps C4, A minor gets A3, D major D4, F# major F#4, G major G3, E minor E3 and D dorian D4.
 *   Rule 2 (tonic) and rule 4 (autocorrelation) then read the tonic in the same octave, and a melody moved
 *   from the reference layout into any key scores the same on every rule (test/rules/key_context.test.ts);
 * - tonic, fifth and third classes: the notes of the scale's 1st, 5th and 3rd degrees, every octave.
 * The tables list the note classes of one octave above B5 as well (tokens 38..49): the rules are pure
 * functions of integer tokens, and a composition moved into another key (as the tests move the golden
 * compositions) may pass the top of the encoding; the models never play those classes.
 */
import { NO_EVENT, NOTE_OFF, NUM_CLASSES, NUM_SPECIAL, PITCH_OFFSET } from '../music/encoding.js';
import { isMajorMode, keyNamed, scaleOf, transpositionToReference, type Key } from '../music/keys.js';
import { ruleContext, type RuleContext } from './rules.js';

/** Highest token the tables list: one octave above the last class. */
const LAST_TABLE_TOKEN = NUM_CLASSES - 1 + 12;
const C4 = 60;
const A3 = 57;

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
  const noteOffset = 0 - transpositionToReference(key); // −5..+6 (0 - turns −0 into 0)
  const tonicPitch = (isMajorMode(key.mode) ? C4 : A3) + noteOffset;
  return {
    key: keySet,
    tonic: tonicPitch - PITCH_OFFSET,
    tonicNotes: notesOfPitchClasses([scale[0]]),
    fifthNotes: notesOfPitchClasses([scale[4]]),
    thirdNotes: notesOfPitchClasses([scale[2]]),
    noteOffset,
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
