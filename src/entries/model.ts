/**
 * `rltuner/model`: the shipped default Note RNN (models/note_rnn.safetensors) as model-file bytes, for
 * loadNoteRnn or tune; decoded from the generated base64 module, so it loads in every runtime and bundler.
 * `loadDefaultNoteRnn(kernels)` from the main entry does the same without a second import.
 */
import { decodeBase64 } from '../engine/bundled_assets.js';
import { NOTE_RNN_MODEL_BASE64 } from '../generated/note_rnn_model.js';

const noteRnnModelBytes: Uint8Array = decodeBase64(NOTE_RNN_MODEL_BASE64);
export default noteRnnModelBytes;
