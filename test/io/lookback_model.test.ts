// A lookback Note RNN through the model file and Magenta's lookback_rnn checkpoint layout: round trips,
// and the exported weights run in tfjs on inputs built the way Magenta's Python builds them (its class
// order, its input layout) give rltuner's probabilities. (@magenta/music has no lookback data converter,
// so its MusicRNN cannot be the client here; tfjs's BasicLSTMCell is what it would run.)
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/engine/arena.js';
import type { LstmModel } from '../../src/engine/lstm_model.js';
import { exportMagentaCheckpoint, importMagentaCheckpoint, LOOKBACK_CONFIG, MagentaCheckpointError } from '../../src/io/magenta_checkpoint.js';
import { decodeModel, encodeModel, loadModelInto } from '../../src/io/model_file.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { NO_EVENT, NOTE_OFF, NUM_CLASSES } from '../../src/music/encoding.js';
import { encodingConfig, encodingOf, LOOKBACK_ENCODING, PHRASE_ENCODING } from '../../src/music/encodings.js';
import { Random } from '../../src/random.js';
import { testKernels } from '../engine/support.js';

function randomLookbackModel(hidden: number[], seed: number): LstmModel {
  const model = createModel(testKernels(), encodingConfig(LOOKBACK_ENCODING, hidden), { maxBatch: 1 });
  model.initialize(new Random(seed));
  const rng = new Random(seed + 1);
  const tensors = new Map(model.exportTensors().map((t) => [t.name, t]));
  // Non-zero biases and a larger w_x, so a row or bias put in the wrong place shows in the logits.
  for (const [name, t] of tensors) {
    if (name.endsWith('.b')) t.data.forEach((v, i) => (t.data[i] = v + rng.float() - 0.5));
    if (name === 'lstm.0.w_x') t.data.forEach((v, i) => (t.data[i] = 3 * v));
  }
  model.importTensors(tensors);
  return model;
}

/** A melody on 16-step bars with repeats one and two bars back, rests and holds. */
function melodyWithRepeats(steps: number, seed: number): number[] {
  const rng = new Random(seed);
  const m: number[] = [];
  for (let i = 0; i < steps; i++) {
    if (i >= 32 && rng.float() < 0.4) m.push(m[i - 32]);
    else if (i >= 16 && rng.float() < 0.4) m.push(m[i - 16]);
    else m.push(rng.float() < 0.5 ? NO_EVENT : rng.float() < 0.1 ? NOTE_OFF : 2 + rng.int(NUM_CLASSES - 2));
  }
  return m;
}

/** Our logits after reading each event of `melody` (4/4 from a downbeat). */
function ourProbabilities(model: LstmModel, melody: number[]): number[][] {
  model.resetState(1);
  return melody.map((_, p) => {
    const logits = Array.from(model.step([LOOKBACK_ENCODING.inputAt(melody, p, { stepsPerBar: 16, barPosition: 0 })], 1).subarray(0, 40));
    const max = Math.max(...logits);
    const e = logits.map((v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / sum);
  });
}

// Magenta's side, written from its Python (LookbackEventSequenceEncoderDecoder over MelodyOneHotEncoding):
// events are MIDI pitches, -1 NOTE_OFF, -2 NO_EVENT; classes 0 = NO_EVENT, 1 = NOTE_OFF, 2.. = pitch − 48 + 2.
const magentaEvent = (token: number) => (token === NOTE_OFF ? -1 : token === NO_EVENT ? -2 : token + 46);
const magentaClassOfEvent = (event: number) => (event >= 0 ? event - 48 + 2 : event + 2);
/** Magenta's class index of our class k (0 and 1 swap; 38 and 39 stay). */
const magentaClass = (k: number) => (k === 0 ? 1 : k === 1 ? 0 : k);

function magentaInput(events: number[], position: number): number[] {
  const input = new Array(121).fill(0);
  input[magentaClassOfEvent(events[position])] = 1;
  [16, 32].forEach((distance, i) => {
    const at = position - distance + 1;
    input[38 * (i + 1) + magentaClassOfEvent(at < 0 ? -2 : events[at])] = 1;
  });
  const n = position + 1;
  for (let bit = 0; bit < 5; bit++) input[114 + bit] = Math.floor(n / 2 ** bit) % 2 ? 1 : -1;
  [16, 32].forEach((distance, i) => {
    const at = position - distance;
    if (at >= 0 && events[position] === events[at]) input[119 + i] = 1;
  });
  return input;
}

describe('a lookback Note RNN', () => {
  it('round-trips through the model file: its encoding recorded, the same tensors and logits', () => {
    const model = randomLookbackModel([9, 5], 3);
    const bytes = encodeModel(model, { training: { encoding: 'lookback' } });
    const architecture = JSON.parse(decodeSafetensors(bytes, 'm').metadata.architecture);
    expect(architecture).toMatchObject({ encoding: 'lookback', inputSize: 121, outputSize: 40, hiddenSizes: [9, 5] });
    const decoded = decodeModel(bytes, 'lookback.safetensors');
    expect(encodingOf(decoded.config)).toBe(LOOKBACK_ENCODING);
    const again = createModel(testKernels(), decoded.config, { maxBatch: 1 });
    loadModelInto(again, decoded, 'lookback.safetensors');
    expect(Array.from(again.params)).toEqual(Array.from(model.params));
    const melody = melodyWithRepeats(40, 1);
    expect(ourProbabilities(again, melody)).toEqual(ourProbabilities(model, melody));
    // A basic model cannot take its weights, and a file naming another encoding is refused by name.
    const basic = createModel(testKernels(), { inputSize: 38, hiddenSizes: [9, 5], outputSize: 38 }, { maxBatch: 1 });
    expect(() => loadModelInto(basic, decoded, 'lookback.safetensors')).toThrow(/lookback.safetensors: the file holds a Note RNN of the lookback encoding, but this model was built for the basic encoding/);
    const edited = (arch: object) => {
      const d = decodeSafetensors(bytes, 'm');
      const { checksum: _checksum, ...metadata } = d.metadata; // written anew
      return encodeSafetensors([...d.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data })), { ...metadata, architecture: JSON.stringify(arch) });
    };
    expect(() => decodeModel(edited({ ...architecture, encoding: 'attention' }), 'x.safetensors')).toThrow(/x\.safetensors: the architecture names the encoding "attention", not one rltuner knows \(basic, lookback, phrase\)/);
    expect(() => decodeModel(edited({ ...architecture, encoding: undefined }), 'x.safetensors')).toThrow(/x\.safetensors: unsupported architecture/);
    expect(() => decodeModel(edited({ ...architecture, outputSize: 38 }), 'x.safetensors')).toThrow(/unsupported architecture/);
  });

  it('round-trips through a Magenta lookback_rnn checkpoint: every weight back (forget biases within rounding of ±1)', () => {
    const model = randomLookbackModel([9, 5], 5);
    const checkpoint = exportMagentaCheckpoint({ config: model.config, tensors: model.exportTensors() });
    expect(JSON.parse(checkpoint.config)).toEqual(JSON.parse(JSON.stringify(LOOKBACK_CONFIG)));
    const manifest = JSON.parse(checkpoint.manifest);
    expect(manifest[0].weights.map((w: { shape: number[] }) => w.shape)).toEqual([[121 + 9, 36], [36], [9 + 5, 20], [20], [5, 40], [40]]);
    const decoded = importMagentaCheckpoint(checkpoint, 'ckpt');
    expect(encodingOf(decoded.config)).toBe(LOOKBACK_ENCODING);
    for (const t of model.exportTensors()) {
      const back = decoded.tensors.get(t.name)!;
      expect(back.shape).toEqual(t.shape);
      if (!t.name.endsWith('.b')) expect(Array.from(back.data), t.name).toEqual(Array.from(t.data));
      else back.data.forEach((v, i) => expect(Math.abs(v - t.data[i]), t.name).toBeLessThan(2 ** -22));
    }
    // Without the encoder-decoder in config.json, the shapes say lookback_rnn; a different one is refused.
    const plain = importMagentaCheckpoint({ ...checkpoint, config: JSON.stringify({ type: 'MusicRNN', dataConverter: LOOKBACK_CONFIG.dataConverter }) }, 'plain');
    expect(encodingOf(plain.config)).toBe(LOOKBACK_ENCODING);
    const other = { ...LOOKBACK_CONFIG, encoderDecoder: { ...LOOKBACK_CONFIG.encoderDecoder, lookbackDistances: [12, 24] } };
    expect(() => importMagentaCheckpoint({ ...checkpoint, config: JSON.stringify(other) }, 'ckpt')).toThrow(MagentaCheckpointError);
    expect(() => importMagentaCheckpoint({ ...checkpoint, config: JSON.stringify(other) }, 'ckpt')).toThrow(/ckpt\/config\.json: "encoderDecoder" is .*lookback_rnn encoding only/);
  });

  it('its exported weights, run in tfjs on Magenta-built inputs, give rltuner\'s probabilities at every step (1e-5)', () => {
    const model = randomLookbackModel([12, 7], 9);
    const checkpoint = exportMagentaCheckpoint({ config: model.config, tensors: model.exportTensors() });
    const specs = JSON.parse(checkpoint.manifest)[0].weights as { name: string; shape: number[] }[];
    const shard = checkpoint.shards.values().next().value as Uint8Array;
    const weights = new Map<string, tf.Tensor>();
    let at = 0;
    for (const spec of specs) {
      const n = spec.shape.reduce((a, b) => a * b, 1);
      weights.set(spec.name, tf.tensor(new Float32Array(shard.buffer.slice(shard.byteOffset + at, shard.byteOffset + at + 4 * n)), spec.shape));
      at += 4 * n;
    }
    const cells = [0, 1].map((l) => (data: tf.Tensor2D, c: tf.Tensor2D, h: tf.Tensor2D) => tf.basicLSTMCell(
      tf.scalar(1), weights.get(`rnn/multi_rnn_cell/cell_${l}/basic_lstm_cell/kernel`) as tf.Tensor2D,
      weights.get(`rnn/multi_rnn_cell/cell_${l}/basic_lstm_cell/bias`) as tf.Tensor1D, data, c, h));
    const melody = melodyWithRepeats(70, 2);
    const events = melody.map(magentaEvent);
    let c: tf.Tensor2D[] = [tf.zeros([1, 12]), tf.zeros([1, 7])];
    let h: tf.Tensor2D[] = [tf.zeros([1, 12]), tf.zeros([1, 7])];
    const theirs: number[][] = [];
    for (let p = 0; p < melody.length; p++) {
      [c, h] = tf.multiRNNCell(cells, tf.tensor2d([magentaInput(events, p)]), c, h);
      const logits = tf.add(tf.matMul(h[1], weights.get('fully_connected/weights') as tf.Tensor2D), weights.get('fully_connected/biases')!);
      theirs.push(Array.from(tf.softmax(logits).dataSync()));
    }
    const ours = ourProbabilities(model, melody);
    let worst = 0;
    ours.forEach((row, p) => row.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - theirs[p][magentaClass(k)])))));
    expect(worst).toBeLessThan(1e-5);
    // The check has teeth: the same model one step out of line with Magenta's inputs differs well beyond that.
    const shifted = ourProbabilities(model, [NO_EVENT, ...melody].slice(0, melody.length));
    expect(Math.max(...shifted.flatMap((row, p) => row.map((v, k) => Math.abs(v - theirs[p][magentaClass(k)]))))).toBeGreaterThan(1e-3);
    tf.dispose([...weights.values(), ...c, ...h]);
  });
});

describe('a phrase Note RNN', () => {
  it('round-trips through the model file with its encoding; Magenta export refuses it, naming why', () => {
    const model = createModel(testKernels(), encodingConfig(PHRASE_ENCODING, [6]), { maxBatch: 1 });
    model.initialize(new Random(4));
    const bytes = encodeModel(model);
    const decoded = decodeModel(bytes, 'phrase.safetensors');
    expect(encodingOf(decoded.config)).toBe(PHRASE_ENCODING);
    expect(decoded.config.inputSize).toBe(161);
    expect(decoded.config.outputSize).toBe(41);
    const back = createModel(testKernels(), decoded.config, { maxBatch: 1 });
    loadModelInto(back, decoded, 'phrase.safetensors');
    expect(Array.from(back.params)).toEqual(Array.from(model.params));
    expect(() => exportMagentaCheckpoint(decoded, decoded.info, 'phrase.safetensors')).toThrow(/phrase\.safetensors: uses rltuner's phrase encoding .*no Magenta model has; only basic and lookback models convert/);
  });
});

