/**
 * Fingerprints: what a checkpoint, a trained model or a tuned model was made from, as SHA-256 digests, so
 * that resuming or loading with different inputs is caught and named instead of silently mixing them.
 * Pure (no Node import): the library core and the web page record and check them too.
 */
import { sha256Hex } from './sha256.js';

export interface Fingerprints {
  /** Format and version of the file that records them, e.g. 'rltuner-note-rnn/2'. */
  format: string;
  /** The kernel build that produced the numbers: 'plain' or 'relaxed'. */
  kernelBuild: 'plain' | 'relaxed';
  /** kernelDigest of the wasm that computed the numbers (absent where the module was given precompiled). */
  kernels?: string;
  /** SHA-256 (hex) of the Note RNN model file a tuning started from (also the G prior). */
  noteRnn?: string;
  /** SHA-256 of the priming material: the primer's tokens or the corpus melodies' tokens. */
  priming?: string;
  /** SHA-256 (hex) of the reward model file a tuning's learned preference reward came from (src/prefs). */
  rewardModel?: string;
  /** SHA-256 of the answers a reward model was trained on: every answers file's name and SHA-256 of its bytes, in order. */
  answers?: string;
  /** SHA-256 of the training data list: every file's name and SHA-256 of its bytes, in order. */
  trainingData?: string;
  /** SHA-256 of the validation data list (same digest as trainingData), when it is given apart from it. */
  validationData?: string;
  /** SHA-256 of the test data list (same digest as trainingData), when there is one. */
  testData?: string;
  /** SHA-256 (hex) of the tuned model file a distilled Note RNN learned from (its teacher). */
  teacher?: string;
}

/** The order in which mismatches are listed (fields not named here follow, sorted). */
const FIELD_ORDER = ['format', 'kernelBuild', 'kernels', 'noteRnn', 'priming', 'rewardModel', 'answers', 'trainingData', 'validationData', 'testData', 'teacher'];

/**
 * Digest of melodies (token arrays), in order, length-prefixed: a tag, the count, then per melody its
 * length (u32 little-endian) and its tokens (one byte each), so no two different lists share a digest input.
 */
export function melodiesFingerprint(melodies: readonly ArrayLike<number>[]): string {
  const tag = new TextEncoder().encode('rltuner-melodies\n');
  const total = tag.length + 4 + melodies.reduce((sum, m) => sum + 4 + m.length, 0);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes.set(tag);
  let at = tag.length;
  view.setUint32(at, melodies.length, true);
  at += 4;
  melodies.forEach((melody, index) => {
    view.setUint32(at, melody.length, true);
    at += 4;
    for (let i = 0; i < melody.length; i++) {
      const token = melody[i];
      if (!Number.isInteger(token) || token < 0 || token > 255) {
        throw new RangeError(`melodiesFingerprint: melody ${index} holds ${token} at step ${i}; tokens are integers 0..255`);
      }
      bytes[at++] = token;
    }
  });
  return sha256Hex(bytes);
}

/**
 * SHA-256 (hex) of a kernel module's bytes, every section but the imports: the shared-memory build differs
 * from the plain one only in how it imports its memory (same code, data and exports, the same bits computed),
 * so the two share a digest and a run may resume on another thread count; any change to a kernel's code
 * changes it. Throws a RangeError naming the problem when `wasm` is not a WebAssembly binary.
 */
export function kernelDigest(wasm: Uint8Array): string {
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (wasm.length < 8 || magic.some((b, i) => wasm[i] !== b)) throw new RangeError('kernelDigest: not a WebAssembly (version 1) binary');
  const kept: Uint8Array[] = [wasm.subarray(0, 8)];
  let at = 8;
  while (at < wasm.length) {
    const start = at;
    const id = wasm[at++];
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      if (at >= wasm.length || shift > 28) throw new RangeError(`kernelDigest: a damaged section header at byte ${start}`);
      const byte = wasm[at++];
      size += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) break;
    }
    if (at + size > wasm.length) throw new RangeError(`kernelDigest: section ${id} at byte ${start} runs past the end`);
    if (id !== 2) kept.push(wasm.subarray(start, at + size));
    at += size;
  }
  const joined = new Uint8Array(kept.reduce((n, part) => n + part.length, 0));
  let o = 0;
  for (const part of kept) {
    joined.set(part, o);
    o += part.length;
  }
  return sha256Hex(joined);
}

/**
 * What a tuning was made from, in a file of `format` (a tune checkpoint, a tuned model): the kernel build
 * and its kernelDigest (when known), the Note RNN model file's digest and, when the priming has material (a primer, a corpus), its digest,
 * and the reward model file's digest when the run has a learned preference reward.
 */
export function tuningFingerprints(
  format: string, kernelBuild: Fingerprints['kernelBuild'], noteRnnFile: Uint8Array, primingMaterial: readonly ArrayLike<number>[] | null,
  kernels?: string, rewardModelFile?: Uint8Array | null,
): Fingerprints {
  return {
    format, kernelBuild, ...(kernels ? { kernels } : {}), noteRnn: sha256Hex(noteRnnFile),
    ...(primingMaterial ? { priming: melodiesFingerprint(primingMaterial) } : {}),
    ...(rewardModelFile ? { rewardModel: sha256Hex(rewardModelFile) } : {}),
  };
}

/**
 * Digest of a list of files: one line per file, in the given order, `<sha256 of its bytes> <name as a
 * JSON string>`, then the SHA-256 of those lines. Renaming, reordering, adding, dropping or editing a file
 * changes it.
 */
export function fileListFingerprint(files: readonly { name: string; bytes: Uint8Array }[]): string {
  const lines = files.map((f) => `${sha256Hex(f.bytes)} ${JSON.stringify(f.name)}\n`).join('');
  return sha256Hex(`rltuner-file-list\n${lines}`);
}

/**
 * SHA-256 (hex) of a model's tensors alone, metadata left out: each tensor in name order as its name, its
 * shape (JSON) and its float32 bytes. Two runs that computed the same weights share it whatever their files
 * record about paths, settings or fingerprints.
 */
export function tensorsDigest(tensors: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>): string {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const name of [...tensors.keys()].sort()) {
    const t = tensors.get(name)!;
    parts.push(encoder.encode(`${name}${JSON.stringify(t.shape)}\n`), new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    joined.set(p, at);
    at += p.length;
  }
  return sha256Hex(joined);
}

/** Lines "<field>: <what> has <saved>, this run has <current>" for each differing field (empty: same). */
export function fingerprintMismatches(saved: Partial<Fingerprints>, current: Partial<Fingerprints>, what: string): string[] {
  const fields = new Set([...Object.keys(saved), ...Object.keys(current)]);
  const ordered = [
    ...FIELD_ORDER.filter((f) => fields.has(f)),
    ...[...fields].filter((f) => !FIELD_ORDER.includes(f)).sort(),
  ];
  const shown = (v: unknown) => (v === undefined || v === null ? 'none' : String(v));
  const lines: string[] = [];
  for (const field of ordered) {
    const a = (saved as Record<string, unknown>)[field];
    const b = (current as Record<string, unknown>)[field];
    if ((a ?? null) !== (b ?? null)) lines.push(`${field}: ${what} has ${shown(a)}, this run has ${shown(b)}`);
  }
  return lines;
}
