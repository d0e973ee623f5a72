/**
 * Files a visitor picks (a tuned model, a primer MIDI) are untrusted, as on the command line: their size
 * is checked against the library's limits before they are read, and they go through the same bounded
 * readers (decodeModel: architecture, tensors and weights checked from the header on; importMidi) and
 * the same ranges for what a model records (tunedModelSettings: a model cannot ask for 2e9-step melodies).
 * Pure: no DOM, so it is tested without a browser (test/web/page_logic.test.ts).
 */
import {
  createArena, decodeModel, keyNamed, KeyNameError, loadModelInto, MAX_MIDI_FILE_BYTES, MAX_MODEL_FILE_BYTES, ModelFileError,
  tunedModelSettings, type DecodedModel, type Key, type Kernels, type LstmModel, type TunedModelSettings,
} from '../src/index.js';

/** Why a picked file is refused by its size alone (named, with the limit), or null when it may be read. */
export function fileSizeProblem(file: { name: string; size: number }, kind: 'model' | 'midi'): string | null {
  const limit = kind === 'model' ? MAX_MODEL_FILE_BYTES : MAX_MIDI_FILE_BYTES;
  if (file.size <= limit) return null;
  const what = kind === 'model' ? 'a model file' : 'a MIDI file';
  return `${file.name} is ${file.size.toLocaleString('en')} bytes, above the ${limit.toLocaleString('en')} bytes ${what} may have`;
}

/** A model file's checked contents and how it plays; throws a ModelFileError naming `name` when the file is refused. */
export function readModelFile(bytes: Uint8Array, name: string): { decoded: DecodedModel; settings: TunedModelSettings; key: Key } {
  const decoded = decodeModel(bytes, name);
  return { decoded, settings: tunedModelSettings(decoded, name), key: recordedKey(decoded, name) };
}

/**
 * The key of a model's notes: a tuned model's are in the key it was tuned in (its recorded config's `key`
 * and `mode`, as the CLI reads them; C major when it records none, as models tuned before keys); a Note
 * RNN's are on the white keys, shown as C major. A recorded key that is not a key is refused, naming the file.
 */
export function recordedKey(decoded: DecodedModel, name: string): Key {
  const notes = decoded.info.notes as { algorithm?: unknown; config?: { key?: unknown; mode?: unknown } } | undefined;
  const config = typeof notes?.config === 'object' && notes.config !== null ? notes.config : {};
  const { key = 'C', mode = 'major' } = config;
  try {
    if (typeof key !== 'string' || typeof mode !== 'string') throw new KeyNameError(`key ${JSON.stringify(key)} / mode ${JSON.stringify(mode)} are not names`);
    return keyNamed(key, mode);
  } catch (error) {
    if (!(error instanceof KeyNameError)) throw error;
    throw new ModelFileError(`${name}: its metadata records a tuning key rltuner does not know (notes.config: ${error.message}); the file is damaged or was edited`);
  }
}

/** The model of a checked file, in its own arena, for sampling one composition at a time. */
export function modelOf(kernels: Kernels, decoded: DecodedModel, name: string): LstmModel {
  const model = createArena(kernels, { model: { config: decoded.config, maxBatch: 1 } }).models.model;
  loadModelInto(model, decoded, name);
  return model;
}
