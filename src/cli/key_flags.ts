/**
 * The --key / --mode flags shared by evaluate and generate (tune takes them as config fields), the key of
 * a model's notes, and the import flags shared by the commands that read MIDI: --keep-key, --transpose-by
 * and --timing.
 *
 * One meaning of --key / --mode everywhere: the key of the notes. `tune --key D --mode dorian` makes a
 * model whose notes are in D dorian (the rules reward D dorian); `generate` and `evaluate` take a model's
 * key by default, and the same flags name the same key; moving melodies for playback is --transpose.
 */
import type { DecodedModel } from '../io/model_file.js';
import { isMajorMode, KeyNameError, keyName, keyNamed, sameScale, type Key } from '../music/keys.js';
import { TIMING_RULES, TRANSPOSE_RULES, type ImportOptions, type TimingRule, type TransposeRule } from '../music/midi_import.js';
import { UsageError } from './common.js';
import type { FlagSpec } from './flags.js';

/**
 * The key of a model's notes, from what the file records: a tuned model's notes are in the key it was
 * tuned in (its config's key and mode; C major for tuned models from before keys); a Note RNN's are where
 * its training melodies were moved: by key, tonics on C (major-third modes) or A (minor-third modes); by
 * note count (the shipped model, and models that record no import), on the white keys; kept, anywhere.
 */
export type ModelKey =
  | { kind: 'tuned'; key: Key }
  | { kind: 'reference' }
  | { kind: 'white-keys' }
  | { kind: 'kept' };

export function modelKeyOf(decoded: DecodedModel): ModelKey {
  const notes = decoded.info.notes as { algorithm?: unknown; config?: { key?: unknown; mode?: unknown } } | undefined;
  if (typeof notes?.algorithm === 'string') {
    const config = notes.config ?? {};
    return { kind: 'tuned', key: keyNamed(typeof config.key === 'string' ? config.key : 'C', typeof config.mode === 'string' ? config.mode : 'major') };
  }
  const record = (decoded.info.data as { import?: { transposeBy?: string; keepKey?: boolean } } | undefined)?.import;
  if (record === undefined || (record.transposeBy === undefined && record.keepKey === undefined)) return { kind: 'white-keys' };
  if (record.keepKey) return { kind: 'kept' };
  return record.transposeBy === 'note-count' ? { kind: 'white-keys' } : { kind: 'reference' };
}

/** The model's key in words, for messages: "D dorian (the key it was tuned in)". */
export function describeModelKey(modelKey: ModelKey): string {
  switch (modelKey.kind) {
    case 'tuned': return `${keyName(modelKey.key)} (the key it was tuned in)`;
    case 'reference': return 'C for modes with a major third, A for modes with a minor third (its training melodies were moved there by key)';
    case 'white-keys': return 'the white keys, C major\'s notes (its training melodies were moved there by note count)';
    case 'kept': return 'the keys of its training melodies (they kept their keys)';
  }
}

/** Same tonic and mode (major = ionian, minor = aeolian). */
export function sameKey(a: Key, b: Key): boolean {
  const plain = (k: Key) => (k.mode === 'ionian' ? 'major' : k.mode === 'aeolian' ? 'minor' : k.mode);
  return a.tonic === b.tonic && plain(a) === plain(b);
}

/**
 * Checks that `asked` (from --key/--mode) can be the key of the model's notes; the message names the
 * model's key and what to pass instead (--transpose moves melodies for playback). Returns nothing.
 */
export function checkKeyOfModel(command: string, asked: Key, modelKey: ModelKey, modelPath: string): void {
  const fix = 'leave --key/--mode out to take the model\'s key, and move the melodies for playback with --transpose <semitones>';
  if (modelKey.kind === 'tuned' && !sameKey(asked, modelKey.key)) {
    throw new UsageError(`--key/--mode ${keyName(asked)}: ${modelPath} was tuned in ${keyName(modelKey.key)}, so its notes are in ${keyName(modelKey.key)}; ${fix}`, command);
  }
  if (modelKey.kind === 'reference' && asked.tonic !== (isMajorMode(asked.mode) ? 0 : 9)) {
    throw new UsageError(`--key/--mode ${keyName(asked)}: the notes of ${modelPath} are in ${describeModelKey(modelKey)}; pass --key ${isMajorMode(asked.mode) ? 'C' : 'A'} --mode ${asked.mode}, or ${fix}`, command);
  }
  if (modelKey.kind === 'white-keys' && !sameScale(asked, { tonic: 0, mode: 'major' })) {
    throw new UsageError(`--key/--mode ${keyName(asked)}: the notes of ${modelPath} are on ${describeModelKey(modelKey)}, and ${keyName(asked)} is not; name a key of C major's notes (C major, A minor, D dorian, G mixolydian, ...), or ${fix}`, command);
  }
}

/**
 * --keep-key / --transpose-by / --timing: how MIDI files are imported. `asModel`: the command reads files
 * for a model (generate, score), and by default imports them as the model's training data was imported.
 */
export function importFlagRows(asModel: boolean) {
  return [
    { name: 'keep-key', kind: 'boolean', doc: 'keep each melody in its own key', defaultText: asModel ? "as the model's training data" : 'transpose its tonic to C (major) or A (minor)' },
    {
      name: 'transpose-by', kind: 'choice', values: TRANSPOSE_RULES, arg: '<rule>',
      doc: "key: move the tonic of the file's key (signature, else estimated) to C or A; note-count: the first importer's rule (most notes on white keys), which the shipped model was trained with",
      defaultText: asModel ? "as the model's training data was imported" : 'key',
    },
    {
      name: 'timing', kind: 'choice', values: TIMING_RULES, arg: '<rule>',
      doc: "aligned: remove a whole file's constant offset from the 16th grid, drop grace notes (a 32nd or shorter, leading into the next note), keep the note nearer the step when two successive notes round onto one; nearest: round every note as it is and keep the highest of each step, the first importer's rule",
      defaultText: asModel ? "as the model's training data" : 'aligned',
    },
  ] as const satisfies readonly FlagSpec[];
}

/** The values of the import flags, as parsed. */
export interface ImportFlagValues {
  'keep-key'?: boolean;
  'transpose-by'?: string;
  timing?: string;
}

/** The key named by --key / --mode, or null when neither is given. */
export function keyFlag(command: string, values: { key?: string; mode?: string }): Key | null {
  const { key, mode } = values;
  if (key === undefined && mode === undefined) return null;
  try {
    return keyNamed(key ?? 'C', mode ?? 'major');
  } catch (e) {
    if (e instanceof KeyNameError) throw new UsageError(`--${e.message.startsWith('mode') ? 'mode' : 'key'}: ${e.message}`, command);
    throw e;
  }
}

/** The import options of --keep-key / --transpose-by / --timing (their values checked by the table). */
export function importFlags(command: string, values: ImportFlagValues): Pick<ImportOptions, 'transpose' | 'transposeBy' | 'timing'> {
  const out: Pick<ImportOptions, 'transpose' | 'transposeBy' | 'timing'> = {};
  if (values.timing !== undefined) out.timing = values.timing as TimingRule;
  if (values['keep-key'] === true) out.transpose = false;
  if (values['transpose-by'] !== undefined) {
    if (out.transpose === false) throw new UsageError('--keep-key and --transpose-by contradict each other; pass one of them', command);
    out.transposeBy = values['transpose-by'] as TransposeRule;
  }
  return out;
}
