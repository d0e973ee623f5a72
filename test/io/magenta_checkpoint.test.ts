import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../../src/engine/arena.js';
import type { LstmModel } from '../../src/engine/lstm_model.js';
import {
  exportMagentaCheckpoint, importMagentaCheckpoint, MAGENTA_SHARD_FILE, MagentaCheckpointError,
} from '../../src/io/magenta_checkpoint.js';
import { decodeModel, loadModel, loadModelInto, ModelFileError, type DecodedModel } from '../../src/io/model_file.js';
import { NO_EVENT, NOTE_OFF, NUM_CLASSES } from '../../src/music/encoding.js';
import { importMidi } from '../../src/music/midi_import.js';
import { toNoteSequence } from '../../src/music/note_sequence.js';
import { policyProbabilities } from '../../src/policy/sampling.js';
import { Random } from '../../src/random.js';
import { testKernels } from '../engine/support.js';
import { randomMelody } from '../music/midi_test_files.js';

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const shippedBytes = readFileSync(root('models/note_rnn_basic.safetensors'));
const config = (h: number[]) => ({ inputSize: NUM_CLASSES, hiddenSizes: h, outputSize: NUM_CLASSES });
/** Magenta's class of our class k: 0 (NOTE_OFF) and 1 (NO_EVENT) swap. */
const magentaClass = (k: number) => (k === 0 ? 1 : k === 1 ? 0 : k);

function randomModel(hidden: number[], seed: number): LstmModel {
  const model = createModel(testKernels(), config(hidden), { maxBatch: 1 });
  model.initialize(new Random(seed));
  // Non-zero biases everywhere, so that a bias put in the wrong place shows.
  const rng = new Random(seed + 100);
  const tensors = new Map(model.exportTensors().map((t) => [t.name, t]));
  for (const [name, t] of tensors) if (name.endsWith('.b')) t.data.forEach((v, i) => (t.data[i] = v + rng.float() - 0.5));
  model.importTensors(tensors);
  return model;
}

/** Logits after each token of `tokens`, from the zero state. */
function logitsAlong(model: LstmModel, tokens: number[]): number[][] {
  model.resetState(1);
  return tokens.map((t) => Array.from(model.step([t], 1).subarray(0, NUM_CLASSES)));
}

function loaded(decoded: DecodedModel): LstmModel {
  const model = createModel(testKernels(), decoded.config, { maxBatch: 1 });
  loadModelInto(model, decoded, 'imported');
  return model;
}

/** Runs `load` with console.warn silenced (the old tfjs that @magenta/music pulls in warns at load time). */
function quietly<T>(load: () => T): T {
  const warn = console.warn;
  console.warn = () => {};
  try {
    return load();
  } finally {
    console.warn = warn;
  }
}

describe('Magenta checkpoint export and import', () => {
  it('ours → Magenta → ours returns every tensor bit for bit (forget-gate biases in [0.5, 2])', () => {
    const model = randomModel([10, 6], 1);
    const tensors = model.exportTensors();
    for (const t of tensors) {
      if (!/^lstm\.\d\.b$/.test(t.name)) continue;
      const H = t.shape[0] / 4;
      for (let u = 0; u < H; u++) t.data[H + u] = 0.5 + 1.5 * ((u * 0.37) % 1); // f-gate block
    }
    model.importTensors(new Map(tensors.map((t) => [t.name, t])));
    const decoded = importMagentaCheckpoint(exportMagentaCheckpoint({ config: model.config, tensors: model.exportTensors() }));
    expect(decoded.config).toEqual(model.config);
    for (const t of model.exportTensors()) {
      expect(decoded.tensors.get(t.name)!.shape, t.name).toEqual(t.shape);
      expect(Array.from(decoded.tensors.get(t.name)!.data), t.name).toEqual(Array.from(t.data));
    }
  });

  it('ours → Magenta → ours on the shipped model: identical but for float32 rounding of the ±1 forget bias', () => {
    const decoded = decodeModel(shippedBytes, 'note_rnn.safetensors');
    const back = importMagentaCheckpoint(exportMagentaCheckpoint(decoded, decoded.info));
    let rounded = 0;
    for (const [name, t] of decoded.tensors) {
      const got = back.tensors.get(name)!.data;
      const H = decoded.config.hiddenSizes[0];
      t.data.forEach((v, i) => {
        const isForgetBias = name.endsWith('.b') && i >= H && i < 2 * H;
        if (!isForgetBias) expect(got[i], `${name}[${i}]`).toBe(v);
        else {
          // b − 1 and + 1 in float32: off by at most one unit in the last place of numbers up to max(2, |b| + 1).
          expect(Math.abs(got[i] - v), `${name}[${i}]`).toBeLessThanOrEqual(2 ** -23 * Math.max(2, Math.abs(v) + 1));
          if (got[i] !== v) rounded++;
        }
      });
    }
    expect(rounded).toBeLessThan(decoded.config.hiddenSizes[0]);
  });

  it('writes Magenta\'s layout: kernel rows [x; h] with classes 0/1 swapped, gates i, j, f, o, forget bias − 1', () => {
    const model = randomModel([5], 2);
    const ours = new Map(model.exportTensors().map((t) => [t.name, t.data]));
    const out = exportMagentaCheckpoint({ config: model.config, tensors: model.exportTensors() });
    expect(JSON.parse(out.config)).toEqual({ type: 'MusicRNN', dataConverter: { type: 'MelodyConverter', args: { minPitch: 48, maxPitch: 83 } } });
    const manifest = JSON.parse(out.manifest);
    expect(manifest).toEqual([{
      paths: [MAGENTA_SHARD_FILE],
      weights: [
        { name: 'rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel', shape: [43, 20], dtype: 'float32' },
        { name: 'rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias', shape: [20], dtype: 'float32' },
        { name: 'fully_connected/weights', shape: [5, 38], dtype: 'float32' },
        { name: 'fully_connected/biases', shape: [38], dtype: 'float32' },
      ],
    }]);
    const f32 = new Float32Array(out.shards.get(MAGENTA_SHARD_FILE)!.slice().buffer);
    const kernel = (r: number, c: number) => f32[r * 20 + c];
    const bias = (c: number) => f32[43 * 20 + c];
    const fcW = (r: number, c: number) => f32[43 * 20 + 20 + r * 38 + c];
    const fcB = (c: number) => f32[43 * 20 + 20 + 5 * 38 + c];
    const wx = ours.get('lstm.0.w_x')!, wh = ours.get('lstm.0.w_h')!, b = ours.get('lstm.0.b')!;
    const H = 5;
    // Magenta row 0 is NO_EVENT, our class 1; unit 3 of each gate block.
    expect(kernel(0, 0 * H + 3)).toBe(wx[1 * 20 + 0 * H + 3]); // i
    expect(kernel(0, 1 * H + 3)).toBe(wx[1 * 20 + 2 * H + 3]); // j = our g
    expect(kernel(1, 2 * H + 3)).toBe(wx[0 * 20 + 1 * H + 3]); // f; Magenta NOTE_OFF (1) is our 0
    expect(kernel(17, 3 * H + 3)).toBe(wx[17 * 20 + 3 * H + 3]); // o; pitches keep their index
    expect(kernel(38 + 2, 1 * H + 4)).toBe(wh[2 * 20 + 2 * H + 4]); // recurrent rows follow the input rows
    expect(bias(2 * H + 1)).toBe(Math.fround(b[1 * H + 1] - 1));
    expect(bias(1 * H + 1)).toBe(b[2 * H + 1]);
    expect(fcW(4, 0)).toBe(ours.get('output.w')![4 * 38 + 1]);
    expect(fcB(1)).toBe(ours.get('output.b')![0]);
    expect(fcB(30)).toBe(ours.get('output.b')![30]);
  });

  it('imports uint8 and uint16 quantized weights within the quantization error', () => {
    const model = randomModel([12], 3);
    const exported = exportMagentaCheckpoint({ config: model.config, tensors: model.exportTensors() });
    const floats = new Float32Array(exported.shards.get(MAGENTA_SHARD_FILE)!.slice().buffer);
    const specs = JSON.parse(exported.manifest)[0].weights as { name: string; shape: number[]; dtype: string }[];
    for (const [dtype, levels] of [['uint8', 255], ['uint16', 65535]] as const) {
      const bytes: number[] = [];
      const weights = [];
      let at = 0;
      let maxScale = 0;
      for (const spec of specs) {
        const n = spec.shape.reduce((a, c) => a * c, 1);
        const values = floats.subarray(at, at + n);
        at += n;
        const min = Math.min(...values), max = Math.max(...values);
        const scale = (max - min) / levels;
        maxScale = Math.max(maxScale, scale);
        const q = Array.from(values, (v) => Math.round((v - min) / scale));
        const raw = dtype === 'uint8' ? new Uint8Array(q) : new Uint8Array(new Uint16Array(q).buffer);
        bytes.push(...raw);
        weights.push({ ...spec, quantization: { dtype, scale, min } });
      }
      const decoded = importMagentaCheckpoint({
        config: exported.config, manifest: [{ paths: ['q.bin'], weights }], shards: new Map([['q.bin', Uint8Array.from(bytes)]]),
      }, `quantized-${dtype}`);
      let worst = 0;
      for (const t of model.exportTensors()) {
        const got = decoded.tensors.get(t.name)!.data;
        t.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[i] - v))));
      }
      expect(worst, dtype).toBeGreaterThan(0);
      expect(worst, dtype).toBeLessThanOrEqual(maxScale / 2 + 1e-6);
    }
  });

  it('imports float16 weights (exact for values float16 holds)', () => {
    const model = randomModel([6], 10);
    // Round every weight to a multiple of 2^-10 (exactly representable in float16 for |v| < 2); + 0 turns -0 into 0.
    model.importTensors(new Map(model.exportTensors().map((t) => [t.name, { ...t, data: t.data.map((v) => Math.round(v * 1024) / 1024 + 0) }])));
    const exported = exportMagentaCheckpoint({ config: model.config, tensors: model.exportTensors() });
    const floats = new Float32Array(exported.shards.get(MAGENTA_SHARD_FILE)!.slice().buffer);
    const half = (v: number) => {
      if (v === 0) return 0;
      const e = Math.floor(Math.log2(Math.abs(v)));
      return (v < 0 ? 0x8000 : 0) | ((e + 15) << 10) | Math.round((Math.abs(v) / 2 ** e - 1) * 1024);
    };
    const manifest = JSON.parse(exported.manifest);
    for (const w of manifest[0].weights) w.quantization = { dtype: 'float16' };
    const shard = new Uint8Array(new Uint16Array(Array.from(floats, half)).buffer);
    const decoded = importMagentaCheckpoint({ config: exported.config, manifest, shards: new Map([[MAGENTA_SHARD_FILE, shard]]) });
    for (const t of model.exportTensors()) expect(Array.from(decoded.tensors.get(t.name)!.data), t.name).toEqual(Array.from(t.data));
  });

  it('reads a group whose weights run across several shards', () => {
    const model = randomModel([7], 4);
    const exported = exportMagentaCheckpoint({ config: model.config, tensors: model.exportTensors() });
    const bytes = exported.shards.get(MAGENTA_SHARD_FILE)!;
    const manifest = JSON.parse(exported.manifest);
    manifest[0].paths = ['group1-shard1of3.bin', 'group1-shard2of3.bin', 'group1-shard3of3.bin'];
    const shards = new Map([['group1-shard1of3.bin', bytes.subarray(0, 1001)], ['group1-shard2of3.bin', bytes.subarray(1001, 2002)], ['group1-shard3of3.bin', bytes.subarray(2002)]]);
    const decoded = importMagentaCheckpoint({ config: exported.config, manifest, shards });
    const tokens = randomMelody(new Random(5), 20);
    expect(logitsAlong(loaded(decoded), tokens)).toEqual(logitsAlong(model, tokens));
    // A missing or truncated shard is named.
    shards.delete('group1-shard2of3.bin');
    expect(() => importMagentaCheckpoint({ config: exported.config, manifest, shards }, 'ckpt')).toThrow(/the shard ckpt\/group1-shard2of3\.bin is missing/);
    const short = new Map([[MAGENTA_SHARD_FILE, bytes.subarray(0, bytes.length - 4)]]);
    expect(() => importMagentaCheckpoint({ ...exported, shards: short }, 'ckpt')).toThrow(/ckpt\/weights_manifest\.json: group 0: the shards .* hold \d+ bytes, but fully_connected\/biases needs/);
  });

  it('refuses what rltuner cannot represent, naming the file and the field', () => {
    const model = randomModel([4], 6);
    const good = exportMagentaCheckpoint({ config: model.config, tensors: model.exportTensors() });
    const withConfig = (c: unknown) => () => importMagentaCheckpoint({ ...good, config: c }, 'ckpt');
    const melody = JSON.parse(good.config);
    expect(withConfig({ type: 'MusicVAE' })).toThrow(/ckpt\/config\.json: "type" is "MusicVAE"/);
    expect(withConfig({ type: 'MusicRNN', dataConverter: { type: 'DrumsOneHotConverter', args: {} } })).toThrow(/"dataConverter\.type" is "DrumsOneHotConverter"/);
    expect(withConfig({ ...melody, dataConverter: { type: 'MelodyConverter', args: { minPitch: 36, maxPitch: 81 } } })).toThrow(/minPitch 36 and maxPitch 81/);
    expect(withConfig({ ...melody, chordEncoder: 'PitchChordEncoder' })).toThrow(/"chordEncoder" is "PitchChordEncoder": this model conditions on chords/);
    expect(withConfig({ ...melody, attentionLength: 40 })).toThrow(/"attentionLength" is 40/);
    expect(withConfig('{"type": ')).toThrow(/ckpt\/config\.json: not valid JSON/);
    // A lookback-style input (wider than the 38-class one-hot) is refused by the kernel's shape.
    const lookback = [{ paths: ['w.bin'], weights: [
      { name: 'rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel', shape: [74 + 4, 16], dtype: 'float32' },
      { name: 'rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias', shape: [16], dtype: 'float32' },
      { name: 'fully_connected/weights', shape: [4, 38], dtype: 'float32' },
      { name: 'fully_connected/biases', shape: [38], dtype: 'float32' },
    ] }];
    const zeros = new Map([['w.bin', new Uint8Array(4 * (78 * 16 + 16 + 4 * 38 + 38))]]);
    expect(() => importMagentaCheckpoint({ config: good.config, manifest: lookback, shards: zeros }, 'ckpt'))
      .toThrow(/ckpt\/weights_manifest\.json: rnn\/multi_rnn_cell\/cell_0\/basic_lstm_cell\/kernel has shape \[78,16\], expected \[42, 16\]/);
    const attention = JSON.parse(good.manifest);
    attention[0].weights.push({ name: 'rnn/attention_cell_wrapper/attention_w', shape: [0], dtype: 'float32' });
    expect(() => importMagentaCheckpoint({ ...good, manifest: attention }, 'ckpt')).toThrow(/include attention/);
    // A G-tuned model acts with its prior: no MusicRNN can play it.
    expect(() => exportMagentaCheckpoint({ config: model.config, tensors: model.exportTensors() }, { notes: { algorithm: 'g' } }, 'g_tuned.safetensors'))
      .toThrow(/g_tuned\.safetensors: a G-tuned model acts with its Note RNN prior/);
    expect(() => exportMagentaCheckpoint({ config: model.config, tensors: model.exportTensors() }, { notes: { algorithm: 'q' } })).not.toThrow();
    expect(MagentaCheckpointError.name).toBe('MagentaCheckpointError');
  });

  it('checks what the manifest claims before reading a shard: dtypes by name only, whole shapes, byte counts, each shard once', () => {
    const model = randomModel([4], 7);
    const good = exportMagentaCheckpoint({ config: model.config, tensors: model.exportTensors() });
    const manifest = () => JSON.parse(good.manifest) as { paths: string[]; weights: { name: string; shape: unknown[]; dtype: string }[] }[];
    const read = (m: unknown) => () => importMagentaCheckpoint({ ...good, manifest: m }, 'ckpt');
    // Names found on every object's prototype are not dtypes.
    for (const dtype of ['constructor', '__proto__', 'toString', 'float64']) {
      const m = manifest();
      m[0].weights.unshift({ name: 'pad', shape: [1], dtype });
      expect(read(m)).toThrow(`ckpt/weights_manifest.json: group 0: weight pad has dtype ${JSON.stringify(dtype)}, which tfjs does not write`);
    }
    const huge = manifest();
    huge[0].weights.unshift({ name: 'pad', shape: [1e308, 1e308, 0], dtype: 'float32' });
    expect(read(huge)).toThrow('ckpt/weights_manifest.json: group 0: weight pad has shape [1e+308,1e+308,0]: dimension 1e+308 is not a whole number from 0 to 2^53 − 1');
    const big = manifest();
    big[0].weights.unshift({ name: 'pad', shape: [400_000_000], dtype: 'float32' });
    expect(read(big)).toThrow(/ckpt\/weights_manifest\.json: group 0: the shards \["group1-shard1of1\.bin"\] hold \d+ bytes, but pad needs bytes 0\.\.1600000000/);
    const twice = manifest();
    twice.push({ paths: [...twice[0].paths], weights: [] });
    expect(read(twice)).toThrow('ckpt/weights_manifest.json: group 1 lists the shard group1-shard1of1.bin again (first in group 0)');
    expect(read(manifest())).not.toThrow();
  });

  it('a Magenta manifest or config handed over as a model file says what it is and how to convert it', () => {
    const exported = exportMagentaCheckpoint(decodeModel(shippedBytes));
    const manifestBytes = new TextEncoder().encode(exported.manifest);
    expect(() => decodeModel(manifestBytes, 'ckpt/weights_manifest.json')).toThrow(ModelFileError);
    expect(() => decodeModel(manifestBytes, 'ckpt/weights_manifest.json')).toThrow(/ckpt\/weights_manifest\.json: this is a Magenta\/tfjs weights manifest .*rltuner convert/);
    expect(() => decodeModel(new TextEncoder().encode(exported.config), 'config.json')).toThrow(/checkpoint's config\.json \(type "MusicRNN"\).*rltuner convert/);
  });
});

describe('checked by the real client', () => {
  const folder = mkdtempSync(join(tmpdir(), 'rltuner-magenta-'));
  let server: Server;
  let url = '';
  const shipped = loadModel(testKernels(), shippedBytes, { maxBatch: 1 }, 'note_rnn.safetensors');

  beforeAll(async () => {
    const exported = exportMagentaCheckpoint(shipped.decoded, shipped.decoded.info, 'note_rnn.safetensors');
    writeFileSync(join(folder, 'config.json'), exported.config);
    writeFileSync(join(folder, 'weights_manifest.json'), exported.manifest);
    for (const [name, bytes] of exported.shards) writeFileSync(join(folder, name), bytes);
    server = createServer((req, res) => {
      const name = decodeURIComponent((req.url ?? '').split('?')[0].replace(/^\/ckpt\//, ''));
      if (!readdirSync(folder).includes(name)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': name.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
      res.end(readFileSync(join(folder, name)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/ckpt`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(folder, { recursive: true, force: true });
  });

  it('@magenta/music MusicRNN loads the exported default model and gives rltuner\'s next-step probabilities (100 primers, 1e-5)', async () => {
    // Magenta.js's Node build and the tfjs it was built against (CPU backend: no GPU in Node).
    const require = createRequire(import.meta.url);
    const musicRnnPath = require.resolve('@magenta/music/node/music_rnn.js');
    const mmTf = quietly(() => createRequire(musicRnnPath)('@tensorflow/tfjs'));
    await mmTf.setBackend('cpu');
    const { MusicRNN } = quietly(() => require(musicRnnPath)); // tfjs 2 registers its kernels twice, warning for each
    const musicRnn = new MusicRNN(url);
    await musicRnn.initialize();

    // Primers: 60 random melodies and 40 windows of Nottingham tunes, each starting with a note.
    const random = new Random(2024);
    const primers: number[][] = Array.from({ length: 60 }, () => randomMelody(random, 1 + random.int(40)));
    const tunes = readdirSync(root('data/nottingham/melody')).filter((f) => f.endsWith('.mid')).sort();
    while (primers.length < 100) {
      const file = tunes[random.int(tunes.length)];
      const tokens = importMidi(readFileSync(join(root('data/nottingham/melody'), file)), { name: file }).tokens;
      const onsets = [...tokens.keys()].filter((i) => tokens[i] >= 2 && i + 8 <= tokens.length);
      const start = onsets[random.int(onsets.length)];
      primers.push(Array.from(tokens.subarray(start, start + 8 + random.int(40))));
    }

    // What is compared: Magenta.js feeds the primer (its MelodyConverter one-hot of our NoteSequence) and
    // returns softmax(logits) of the next step (continueSequenceAndReturnProbabilities, 1 step, no
    // temperature: argmax sampling, probabilities unscaled); rltuner's are policyProbabilities at step 0.
    let worst = 0;
    for (const primer of primers) {
      const { probs } = await musicRnn.continueSequenceAndReturnProbabilities(toNoteSequence(primer), 1);
      const ours = policyProbabilities([shipped.model], primer, [NO_EVENT], 1);
      expect(probs).toHaveLength(1);
      for (let k = 0; k < NUM_CLASSES; k++) worst = Math.max(worst, Math.abs(probs[0][magentaClass(k)] - ours[k]));
    }
    musicRnn.dispose();
    expect(worst).toBeLessThan(1e-5);
    // The comparison is not vacuous: the distributions differ from primer to primer.
    const a = policyProbabilities([shipped.model], primers[0], [NO_EVENT], 1);
    const b = policyProbabilities([shipped.model], primers[1], [NO_EVENT], 1);
    expect(Math.max(...a.map((v, k) => Math.abs(v - b[k])))).toBeGreaterThan(1e-3);
  }, 60_000);

  it('a checkpoint written by tfjs\'s weight writer with Magenta\'s names imports to the same logits', async () => {
    // Magenta's tensors built here with tfjs ops from our model's tensors (not with exportMagentaCheckpoint).
    const model = randomModel([9, 5], 8);
    const ours = new Map(model.exportTensors().map((t) => [t.name, t]));
    const swap01 = [1, 0, ...Array.from({ length: NUM_CLASSES - 2 }, (_, k) => k + 2)];
    const named: tf.NamedTensorMap = {};
    const tensor = (name: string) => tf.tensor(ours.get(name)!.data, ours.get(name)!.shape);
    model.config.hiddenSizes.forEach((H, l) => {
      const wx = l === 0 ? tf.gather(tensor(`lstm.${l}.w_x`), swap01) : tensor(`lstm.${l}.w_x`);
      const [i, f, g, o] = tf.split(tf.concat([wx, tensor(`lstm.${l}.w_h`)], 0), 4, 1);
      named[`rnn/multi_rnn_cell/cell_${l}/basic_lstm_cell/kernel`] = tf.concat([i, g, f, o], 1);
      const [bi, bf, bg, bo] = tf.split(tensor(`lstm.${l}.b`), 4);
      named[`rnn/multi_rnn_cell/cell_${l}/basic_lstm_cell/bias`] = tf.concat([bi, bg, tf.sub(bf, 1), bo]);
    });
    named['fully_connected/weights'] = tf.gather(tensor('output.w'), swap01, 1);
    named['fully_connected/biases'] = tf.gather(tensor('output.b'), swap01);
    const { data, specs } = await tf.io.encodeWeights(named);
    const decoded = importMagentaCheckpoint({
      config: JSON.stringify({ type: 'MusicRNN', dataConverter: { type: 'MelodyConverter', args: { minPitch: 48, maxPitch: 83 } } }),
      manifest: JSON.stringify([{ paths: ['group1-shard1of1.bin'], weights: specs }]),
      shards: new Map([['group1-shard1of1.bin', new Uint8Array(data as ArrayBuffer)]]),
    }, 'tfjs-written');
    expect(decoded.config.hiddenSizes).toEqual([9, 5]);
    const tokens = randomMelody(new Random(9), 40);
    const got = logitsAlong(loaded(decoded), tokens);
    const want = logitsAlong(model, tokens);
    const worst = Math.max(...got.flatMap((row, t) => row.map((v, k) => Math.abs(v - want[t][k]))));
    expect(worst).toBeLessThan(1e-5);
    tf.dispose(Object.values(named));
  });
});
