/** Base64 of the default Note RNN, models/note_rnn.safetensors (written at build time by generate_inline_assets.mjs). */
export declare const NOTE_RNN_MODEL_BASE64: string;
