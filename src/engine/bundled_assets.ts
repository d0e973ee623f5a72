/**
 * The kernels and the default Note RNN as the package ships them inside JavaScript: base64 text in
 * modules generated at build time (src/generated/, written by src/generated/generate_inline_assets.mjs
 * from dist/*.wasm and models/note_rnn.safetensors). Every runtime and bundler loads JavaScript with no
 * configuration, which is not true of .wasm or .safetensors files. Each module is imported only when first
 * asked for, so an application that never loads the default model does not pay for its 320 KB of text.
 */

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Decodes standard base64 (with `=` padding, no line breaks), as the generator writes it. */
export function decodeBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0) throw new Error(`decodeBase64: length ${text.length} is not a multiple of 4 (a damaged generated module; run npm run build)`);
  const value = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) value[BASE64_ALPHABET.charCodeAt(i)] = i;
  value['='.charCodeAt(0)] = 0;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = new Uint8Array((text.length / 4) * 3 - padding);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    let quad = 0;
    for (let j = 0; j < 4; j++) {
      const code = text.charCodeAt(i + j);
      const v = code < 128 ? value[code] : -1;
      if (v < 0) throw new Error(`decodeBase64: character ${JSON.stringify(text[i + j])} at ${i + j} is not base64 (a damaged generated module; run npm run build)`);
      quad = (quad << 6) | v;
    }
    bytes[o++] = quad >>> 16;
    if (o < bytes.length) bytes[o++] = (quad >>> 8) & 255;
    if (o < bytes.length) bytes[o++] = quad & 255;
  }
  return bytes;
}

/** The plain SIMD kernel build (dist/rltuner.wasm), as bytes. */
export async function bundledKernelBytes(): Promise<Uint8Array> {
  return decodeBase64((await import('../generated/kernels_wasm.js')).KERNELS_WASM_BASE64);
}

/** The relaxed-SIMD kernel build (dist/rltuner-relaxed.wasm), as bytes; check acceptsRelaxedBuild before use. */
export async function bundledRelaxedKernelBytes(): Promise<Uint8Array> {
  return decodeBase64((await import('../generated/kernels_relaxed_wasm.js')).KERNELS_RELAXED_WASM_BASE64);
}

/** The shipped default Note RNN (models/note_rnn.safetensors), as model-file bytes. */
export async function bundledNoteRnnBytes(): Promise<Uint8Array> {
  return decodeBase64((await import('../generated/note_rnn_model.js')).NOTE_RNN_MODEL_BASE64);
}
