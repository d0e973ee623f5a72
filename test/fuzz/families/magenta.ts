/**
 * The Magenta family: Magenta.js MusicRNN checkpoints (config.json, weights_manifest.json and the shards
 * it lists) through importMagentaCheckpoint, what `rltuner convert` does with a checkpoint folder.
 *
 * Seeds are small checkpoints written here with exportMagentaCheckpoint and rewritten the ways tfjs also
 * writes them: weights quantized to uint8, uint16 and float16, a group split over three shards, a second
 * group of int32, bool and string weights. Each input changes the manifest where a reader could be
 * misled (a weight's dtype, including "constructor" and "__proto__"; its shape, to 1e308, −1, many
 * dimensions; its quantization; the shard paths, listed twice or missing; weights and groups dropped,
 * doubled, reordered, a 400,000,000-value weight put first), the config (another model type, converter,
 * pitch range, chords, attention, not JSON), or the shards (cut, extended, values set to NaN or 3e38,
 * one missing), and now and then flips a byte of the manifest's text.
 *
 * The check: importMagentaCheckpoint returns a Note RNN within rltuner's limits (layers, units, weights
 * finite and within ±MAX_ABS_WEIGHT, exactly the tensors of its architecture, an arena within the
 * memory bound for the checkpoint's size), or throws a MagentaCheckpointError naming the checkpoint's file.
 */
import { MAX_HIDDEN_UNITS, MAX_LAYERS, planParameters, type LstmStackConfig } from '../../../src/engine/layout.js';
import { LstmModel } from '../../../src/engine/lstm_model.js';
import { exportMagentaCheckpoint, importMagentaCheckpoint, MagentaCheckpointError } from '../../../src/io/magenta_checkpoint.js';
import { MAX_ABS_WEIGHT } from '../../../src/io/model_file.js';
import { numberToFloat16 } from '../../../src/io/safetensors.js';
import { NUM_CLASSES } from '../../../src/music/encoding.js';
import { Random } from '../../../src/random.js';
import {
  checkNamedError, errorKind, FuzzFailure, heapBoundBytes, INTERESTING_NUMBERS, interestingJsonValue, isRecord, pick, type FuzzFamily, type FuzzInput,
} from '../runner.js';

/** A checkpoint's files: the two JSON texts and the shard bytes by path. */
export interface CheckpointFiles {
  config: string;
  manifest: string;
  shards: Map<string, Uint8Array>;
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

interface Seed {
  name: string;
  files: CheckpointFiles;
}

function exported(hiddenSizes: number[], random: Random): { config: string; specs: WeightSpec[]; values: Float32Array[] } {
  const config: LstmStackConfig = { inputSize: NUM_CLASSES, hiddenSizes, outputSize: NUM_CLASSES };
  const tensors = planParameters(config).tensors.map((spec) => ({
    name: spec.name,
    shape: spec.shape,
    data: Float32Array.from({ length: spec.shape.reduce((a, b) => a * b, 1) }, () => random.float() * 2 - 1),
  }));
  const checkpoint = exportMagentaCheckpoint({ config, tensors });
  const [group] = JSON.parse(checkpoint.manifest) as { weights: WeightSpec[] }[];
  const shard = [...checkpoint.shards.values()][0];
  const values: Float32Array[] = [];
  let offset = 0;
  for (const w of group.weights) {
    const count = w.shape.reduce((a, b) => a * b, 1);
    values.push(new Float32Array(shard.slice(offset, offset + 4 * count).buffer));
    offset += 4 * count;
  }
  return { config: checkpoint.config, specs: group.weights, values };
}

/** The weights stored as `quantization` (uint8 / uint16: q·scale + min; float16), one shard. */
function quantized(hiddenSizes: number[], random: Random, dtype: 'uint8' | 'uint16' | 'float16'): CheckpointFiles {
  const { config, specs, values } = exported(hiddenSizes, random);
  const pieces: Uint8Array[] = [];
  const weights = specs.map((spec, i) => {
    const v = values[i];
    if (dtype === 'float16') {
      pieces.push(new Uint8Array(Uint16Array.from(v, numberToFloat16).buffer));
      return { ...spec, quantization: { dtype } };
    }
    const levels = dtype === 'uint8' ? 255 : 65535;
    const min = Math.min(...v);
    const scale = (Math.max(...v) - min) / levels || 1;
    const q = Array.from(v, (x) => Math.round((x - min) / scale));
    pieces.push(dtype === 'uint8' ? Uint8Array.from(q) : new Uint8Array(Uint16Array.from(q).buffer));
    return { ...spec, quantization: { dtype, scale, min } };
  });
  return { config, manifest: JSON.stringify([{ paths: ['q.bin'], weights }]), shards: new Map([['q.bin', joined(pieces)]]) };
}

function plain(hiddenSizes: number[], random: Random, shardCount = 1, extraGroup = false): CheckpointFiles {
  const { config, specs, values } = exported(hiddenSizes, random);
  const all = joined(values.map((v) => new Uint8Array(v.buffer)));
  const cut = Array.from({ length: shardCount + 1 }, (_, k) => Math.round((k * all.length) / shardCount));
  const paths = Array.from({ length: shardCount }, (_, k) => `group1-shard${k + 1}of${shardCount}.bin`);
  const shards = new Map<string, Uint8Array>(paths.map((p, k) => [p, all.slice(cut[k], cut[k + 1])]));
  const manifest: { paths: string[]; weights: WeightSpec[] }[] = [{ paths, weights: specs }];
  if (extraGroup) {
    // A second group of weights rltuner skips: int32, bool and a string (length-prefixed).
    const text = new TextEncoder().encode('step');
    const extra = joined([new Uint8Array(new Int32Array([7, 8]).buffer), Uint8Array.from([1, 0, 1]), new Uint8Array(new Uint32Array([text.length]).buffer), text]);
    manifest.push({ paths: ['group2-shard1of1.bin'], weights: [
      { name: 'global_step', shape: [2], dtype: 'int32' }, { name: 'flags', shape: [3], dtype: 'bool' }, { name: 'label', shape: [1], dtype: 'string' },
    ] });
    shards.set('group2-shard1of1.bin', extra);
  }
  return { config, manifest: JSON.stringify(manifest), shards };
}

function joined(pieces: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function loadSeeds(): Seed[] {
  const random = new Random(20_251_208);
  return [
    { name: 'h4 float32', files: plain([4], random) },
    { name: 'h6x3 in 3 shards', files: plain([6, 3], random, 3) },
    { name: 'h5 uint8', files: quantized([5], random, 'uint8') },
    { name: 'h3 uint16', files: quantized([3], random, 'uint16') },
    { name: 'h4 float16', files: quantized([4], random, 'float16') },
    { name: 'h2x2 with int32, bool and string weights', files: plain([2, 2], random, 1, true) },
  ];
}

const DTYPES = ['float32', 'int32', 'bool', 'complex64', 'string', 'uint8', 'float16', 'float64', 'constructor', '__proto__', 'valueOf', 'hasOwnProperty', 5, null];

class CheckpointMutator {
  private index = 0;
  constructor(private readonly seeds: readonly Seed[], private readonly random: Random) {}

  next(): FuzzInput<CheckpointFiles> {
    const r = this.random;
    const seed = pick(r, this.seeds);
    const files: CheckpointFiles = { config: seed.files.config, manifest: seed.files.manifest, shards: new Map([...seed.files.shards].map(([p, b]) => [p, b.slice()])) };
    const mutations: string[] = [];
    const manifest = JSON.parse(files.manifest) as unknown;
    let changedManifest: unknown = manifest;
    for (let m = 1 + (r.float() < 0.3 ? r.int(3) : 0); m > 0; m--) {
      const where = r.int(10);
      if (where < 6) changedManifest = this.mutateManifest(changedManifest, files, mutations);
      else if (where < 8) this.mutateConfig(files, mutations);
      else this.mutateShards(files, mutations);
    }
    files.manifest = JSON.stringify(changedManifest) ?? 'undefined';
    if (r.float() < 0.05) {
      const at = r.int(files.manifest.length);
      files.manifest = files.manifest.slice(0, at) + pick(r, ['"', '{', '}', ']', ',', '9', '-', '\u0000']) + files.manifest.slice(at + 1);
      mutations.push(`manifest character ${at} changed`);
    }
    const index = this.index++;
    const size = files.config.length + files.manifest.length + [...files.shards.values()].reduce((n, b) => n + b.length, 0);
    return { index, name: `fuzz checkpoint ${index}`, seedName: seed.name, mutations, value: files, size };
  }

  private mutateManifest(manifest: unknown, files: CheckpointFiles, log: string[]): unknown {
    const r = this.random;
    if (!Array.isArray(manifest) || manifest.length === 0 || r.int(40) === 0) {
      const value = interestingJsonValue(r);
      log.push(`manifest = ${JSON.stringify(value)?.slice(0, 60)}`);
      return value;
    }
    const group = pick(r, manifest) as unknown;
    if (!isRecord(group)) return manifest;
    const weights = Array.isArray(group.weights) ? (group.weights as unknown[]) : [];
    const chosen = weights.length > 0 ? pick(r, weights) : null;
    const weight = isRecord(chosen) ? chosen : null;
    const wname = weight ? String(weight.name).slice(0, 40) : '?';
    switch (r.int(8)) {
      case 0:
        if (!weight) return manifest;
        weight.dtype = pick(r, DTYPES);
        log.push(`${wname} dtype ${String(weight.dtype)}`);
        return manifest;
      case 1: {
        if (!weight) return manifest;
        const shape = Array.isArray(weight.shape) ? [...(weight.shape as unknown[])] : [];
        const kind = r.int(4);
        if (kind === 0 && shape.length > 0) shape[r.int(shape.length)] = pick(r, INTERESTING_NUMBERS);
        else if (kind === 1) for (let k = 1 + r.int(10); k > 0; k--) shape.push(pick(r, [1, 2, 0, 1e308, 2 ** 31]));
        else if (kind === 2) shape.reverse();
        weight.shape = kind === 3 ? interestingJsonValue(r) : shape;
        log.push(`${wname} shape ${JSON.stringify(weight.shape)?.slice(0, 60)}`);
        return manifest;
      }
      case 2: {
        if (!weight) return manifest;
        const kind = r.int(3);
        weight.quantization = kind === 0 ? undefined : kind === 1 ? interestingJsonValue(r)
          : { dtype: pick(r, ['uint8', 'uint16', 'float16', 'int8', 'constructor']), scale: r.int(2) ? pick(r, INTERESTING_NUMBERS) : 0.01, min: r.int(2) ? pick(r, INTERESTING_NUMBERS) : -1 };
        log.push(`${wname} quantization ${JSON.stringify(weight.quantization)?.slice(0, 80)}`);
        return manifest;
      }
      case 3: {
        const paths = Array.isArray(group.paths) ? [...(group.paths as unknown[])] : [];
        const kind = r.int(6);
        if (kind === 0 && paths.length > 0) paths.push(pick(r, paths));
        else if (kind === 1) manifest.push({ paths: paths.slice(0, 1), weights: [] });
        else if (kind === 2 && paths.length > 0) paths[r.int(paths.length)] = pick(r, ['missing.bin', '../outside.bin', '', 'x/../../y.bin', 5]);
        else if (kind === 3) paths.pop();
        else if (kind === 4) for (let k = 0; k < 200; k++) paths.push(paths[0] ?? 'a.bin');
        else group.paths = interestingJsonValue(r);
        if (kind !== 5) group.paths = paths;
        log.push(`paths ${JSON.stringify(group.paths)?.slice(0, 80)}`);
        return manifest;
      }
      case 4: {
        const kind = r.int(4);
        if (kind === 0 && weights.length > 0) weights.splice(r.int(weights.length), 1);
        else if (kind === 1 && weight) weights.push({ ...weight });
        else if (kind === 2 && weights.length > 1) weights.reverse();
        else weights.unshift({ name: 'pad', shape: pick(r, [[400_000_000], [1e308, 1e308, 0], [1], [2 ** 26, 8]]), dtype: pick(r, ['float32', 'constructor', 'string']) });
        group.weights = weights;
        log.push(`weights: ${['dropped one', 'doubled one', 'reversed', 'pad first'][kind]}`);
        return manifest;
      }
      case 5:
        manifest.push(r.int(2) ? { ...group } : interestingJsonValue(r));
        log.push('group added');
        return manifest;
      case 6:
        if (!weight) return manifest;
        weight.name = pick(r, ['rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel', 'rnn/attention_cell_wrapper/x', 'fully_connected/weights', 5, '']);
        log.push(`${wname} renamed ${String(weight.name)}`);
        return manifest;
      default:
        group.weights = r.int(2) ? interestingJsonValue(r) : weights.concat(weights, weights);
        log.push(`weights = ${JSON.stringify(group.weights)?.slice(0, 60)}`);
        return manifest;
    }
  }

  private mutateConfig(files: CheckpointFiles, log: string[]): void {
    const r = this.random;
    let parsed: unknown;
    try {
      parsed = JSON.parse(files.config);
    } catch {
      parsed = null;
    }
    const config: Record<string, unknown> = isRecord(parsed) ? parsed : {};
    const converter = isRecord(config.dataConverter) ? config.dataConverter : {};
    const args = isRecord(converter.args) ? converter.args : {};
    switch (r.int(6)) {
      case 0: config.type = pick(r, ['MusicVAE', 'musicrnn', 5, null]); break;
      case 1: converter.type = pick(r, ['DrumsConverter', 'MelodyConverter', null]); break;
      case 2: args[pick(r, ['minPitch', 'maxPitch'])] = pick(r, [0, 36, 48, 83, 84, 127, '48', null]); break;
      case 3: config[pick(r, ['chordEncoder', 'attentionLength', 'auxInputs'])] = interestingJsonValue(r); break;
      case 4:
        files.config = pick(r, ['{"type": ', '[]', 'null', '"MusicRNN"', '']);
        log.push(`config text ${files.config}`);
        return;
      default: config.dataConverter = interestingJsonValue(r);
    }
    files.config = JSON.stringify(config);
    log.push(`config ${files.config.slice(0, 100)}`);
  }

  private mutateShards(files: CheckpointFiles, log: string[]): void {
    const r = this.random;
    const paths = [...files.shards.keys()];
    if (paths.length === 0) return;
    const path = pick(r, paths);
    const bytes = files.shards.get(path)!;
    switch (r.int(5)) {
      case 0: {
        const at = r.int(bytes.length + 1);
        files.shards.set(path, bytes.slice(0, at));
        log.push(`${path} cut to ${at}`);
        return;
      }
      case 1: {
        const grown = new Uint8Array(bytes.length + 1 + r.int(64));
        grown.set(bytes);
        files.shards.set(path, grown);
        log.push(`${path} extended to ${grown.length}`);
        return;
      }
      case 2:
        files.shards.delete(path);
        log.push(`${path} missing`);
        return;
      case 3:
        files.shards.set(`unlisted-${r.int(3)}.bin`, new Uint8Array(1 + r.int(100)));
        log.push('unlisted shard');
        return;
      default: {
        if (bytes.length < 4) return;
        const at = 4 * r.int(bytes.length >> 2);
        const value = pick(r, [Number.NaN, Infinity, 3e38, -1e7, MAX_ABS_WEIGHT, 0]);
        new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setFloat32(at, value, true);
        log.push(`${path} f32 at ${at} = ${value}`);
      }
    }
  }
}

/** Kinds of refusal, by the words of the message (after the checkpoint's name). */
const ERROR_KINDS: readonly (readonly [string, RegExp])[] = [
  ['too-deep', /nests arrays and objects/],
  ['config', /^config\.json/],
  ['not-json', /not valid JSON/],
  ['dtype', /dtype/],
  ['shape', /has shape|dimensions|is not \{name/],
  ['quantization', /quantization/],
  ['shard-listed-twice', /again/],
  ['shard-missing', /is missing \(the manifest/],
  ['bytes', /hold \d+ bytes|shards end inside/],
  ['limits', /MAX_|rltuner supports/],
  ['structure', /is not \{paths|expected a list/],
  ['weights', /missing|expected \[|should be|no rnn|attention/],
  ['weight-value', /holds/],
];

export const magentaFamily: FuzzFamily<CheckpointFiles> = {
  name: 'magenta',
  description: 'Magenta.js MusicRNN checkpoints (config, manifest and shards) through importMagentaCheckpoint',
  accepted: 'model',
  inputs(random) {
    const mutator = new CheckpointMutator(loadSeeds(), random);
    return () => mutator.next();
  },
  check(input) {
    try {
      const decoded = importMagentaCheckpoint(input.value, input.name);
      const { hiddenSizes } = decoded.config;
      if (hiddenSizes.length < 1 || hiddenSizes.length > MAX_LAYERS || hiddenSizes.some((h) => !Number.isInteger(h) || h < 1 || h > MAX_HIDDEN_UNITS)) {
        throw new FuzzFailure(input, `accepted an architecture of layers [${hiddenSizes}]`);
      }
      const expected = planParameters(decoded.config).tensors;
      if (expected.length !== decoded.tensors.size) throw new FuzzFailure(input, `gave ${decoded.tensors.size} tensors for an architecture of ${expected.length}`);
      for (const spec of expected) {
        const t = decoded.tensors.get(spec.name);
        if (!t || t.shape.join() !== spec.shape.join() || t.data.length !== spec.shape.reduce((a, b) => a * b, 1)) throw new FuzzFailure(input, `gave tensor ${spec.name} not of shape [${spec.shape}]`);
        if (t.data.some((v) => !(Math.abs(v) <= MAX_ABS_WEIGHT))) throw new FuzzFailure(input, `accepted a weight of ${spec.name} beyond ±${MAX_ABS_WEIGHT} or not finite`);
      }
      const arena = LstmModel.planBytes(decoded.config, { maxBatch: 1 });
      if (arena > heapBoundBytes(input.size)) throw new FuzzFailure(input, `a checkpoint of ${input.size} bytes plans an arena of ${arena} bytes`);
      return 'model';
    } catch (error) {
      return errorKind(checkNamedError(input, error, MagentaCheckpointError, `${input.name}/`), ERROR_KINDS);
    }
  },
  files: (input) => {
    const encoder = new TextEncoder();
    const out: Record<string, Uint8Array> = { 'config.json': encoder.encode(input.value.config), 'weights_manifest.json': encoder.encode(input.value.manifest) };
    // Shards under the names the manifest gives (escaped so none leaves the folder), so the folder converts as it was read.
    for (const [path, bytes] of input.value.shards) out[path === '' || path === '.' || path === '..' ? `shard${encodeURIComponent(path)}` : encodeURIComponent(path)] = bytes;
    return out;
  },
};
