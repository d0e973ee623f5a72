// The reward model learns what answers depend on: trained on 300 noisy answers of a scripted listener who
// hears only whether a melody ends on the tonic, it orders fresh pairs as that statistic does at least 80 %
// of the time; training resumes from a checkpoint to the same bits; it can start from the Note RNN.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/engine/arena.js';
import { decodeModel, encodeModel, REWARD_MODEL } from '../../src/io/model_file.js';
import { encodingConfig, LOOKBACK_ENCODING, PHRASE_ENCODING } from '../../src/music/encodings.js';
import { sampleCompositions } from '../../src/policy/sampling.js';
import { decodeRewardCheckpoint, encodeRewardCheckpoint, restoreRewardCheckpoint } from '../../src/prefs/checkpoint.js';
import { noisyListener, rankingAgreement, SCRIPTED_LISTENERS } from '../../src/prefs/listeners.js';
import {
  DEFAULT_REWARD_TRAINING, RewardModelTrainer, runRewardTraining, scoreCompositions, splitPairs, type PreferencePair,
} from '../../src/prefs/reward_model.js';
import { loadNoteRnn } from '../../src/index.js';
import { Random } from '../../src/random.js';
import { testKernels } from '../engine/support.js';

const noteRnnBytes = new Uint8Array(readFileSync(new URL('../../models/note_rnn_basic.safetensors', import.meta.url)));
const noteRnn = decodeModel(noteRnnBytes);

/** `count` compositions of the shipped Note RNN, 32 steps, from `seed`. */
function compositions(count: number, seed: number): Uint8Array[] {
  const { model } = loadNoteRnn(testKernels(), noteRnnBytes, 128);
  return sampleCompositions([model], new Random(seed), { count, numNotes: 32, temperature: 1, priming: { kind: 'random_note' } }).compositions;
}

/** `count` pairs of Note RNN compositions answered by a scripted listener (lapses `noise`). */
function answered(listener: keyof typeof SCRIPTED_LISTENERS, count: number, seed: number, noise = 0.2): PreferencePair[] {
  const listen = noisyListener(SCRIPTED_LISTENERS[listener].utility, noise);
  const c = compositions(2 * count, seed);
  const rng = new Random(seed + 1);
  return Array.from({ length: count }, (_, i) => ({ a: c[2 * i], b: c[2 * i + 1], answer: listen(c[2 * i], c[2 * i + 1], () => rng.float()) }));
}

describe('a reward model trained on answers that depend on one statistic', () => {
  it('orders fresh pairs by that statistic at least 80 % of the time (tonic-ending listener, 300 answers, 20 % lapses)', async () => {
    const pairs = answered('tonic-ending', 300, 31);
    const ties = pairs.filter((p) => p.answer === 'none').length;
    expect(ties).toBeGreaterThan(150); // most pairs end alike: the listener hears no difference
    const split = splitPairs(pairs);
    const trainer = new RewardModelTrainer(testKernels(), DEFAULT_REWARD_TRAINING, 32);
    await runRewardTraining(trainer, split);
    // 1,000 pairs never trained on, ranked by the listener's statistic (pairs that differ in it).
    const fresh = compositions(2000, 977);
    const test = Array.from({ length: 1000 }, (_, i) => ({ a: fresh[2 * i], b: fresh[2 * i + 1] }));
    const agreement = trainer.withBestParams(() => rankingAgreement(
      SCRIPTED_LISTENERS['tonic-ending'].utility, test, scoreCompositions(trainer.model, test.map((p) => p.a)), scoreCompositions(trainer.model, test.map((p) => p.b))));
    expect(agreement.pairs).toBeGreaterThan(250);
    expect(agreement.share, `ranked ${agreement.share}`).toBeGreaterThanOrEqual(0.8);
    // Before training it knows nothing: about half.
    const untrained = new RewardModelTrainer(testKernels(), DEFAULT_REWARD_TRAINING, 32);
    const chance = rankingAgreement(SCRIPTED_LISTENERS['tonic-ending'].utility, test, scoreCompositions(untrained.model, test.map((p) => p.a)), scoreCompositions(untrained.model, test.map((p) => p.b)));
    expect(Math.abs(chance.share! - 0.5)).toBeLessThan(0.2);
    // The model file round-trips, as a reward model and not as a Note RNN.
    const bytes = trainer.withBestParams(() => encodeModel(trainer.model, {}, REWARD_MODEL));
    expect(decodeModel(bytes, 'rm.safetensors', REWARD_MODEL).config).toEqual({ inputSize: 38, hiddenSizes: [64], outputSize: 1 });
    expect(() => decodeModel(bytes, 'rm.safetensors')).toThrow(/^rm\.safetensors: this is an rltuner reward model \(metadata format "rltuner-reward-model"\), not a Note RNN; a reward model .* goes to tune --reward-model/);
    expect(() => decodeModel(noteRnnBytes, 'n.safetensors', REWARD_MODEL)).toThrow(/^n\.safetensors: this is an rltuner Note RNN .*not a reward model; a Note RNN or tuned model goes to --model/);
  }, 60_000);
});

describe('reward model training', () => {
  const pairs = answered('few-notes', 60, 5);
  const settings = { ...DEFAULT_REWARD_TRAINING, hiddenSizes: [12], epochs: 3, batchPairs: 8 };

  it('resumes from a checkpoint to the same bits', async () => {
    const split = splitPairs(pairs);
    const straight = new RewardModelTrainer(testKernels(), settings, 32);
    await runRewardTraining(straight, split);
    const first = new RewardModelTrainer(testKernels(), settings, 32);
    await runRewardTraining(first, split, { shouldStop: () => first.epoch >= 2 });
    expect(first.epoch).toBe(2);
    const bytes = encodeRewardCheckpoint(first, { answers: [] }, { format: 'test', kernelBuild: 'plain' });
    const resumed = new RewardModelTrainer(testKernels(), settings, 32);
    restoreRewardCheckpoint(resumed, decodeRewardCheckpoint(bytes, 'c.safetensors'), 'c.safetensors');
    await runRewardTraining(resumed, split);
    expect(Array.from(resumed.model.params)).toEqual(Array.from(straight.model.params));
    expect(Array.from(resumed.bestParams)).toEqual(Array.from(straight.bestParams));
    expect(resumed.history.map((h) => h.trainLoss)).toEqual(straight.history.map((h) => h.trainLoss));
  });

  it("starts its LSTM layers from the Note RNN's weights (init note-rnn), the one-unit head at random", () => {
    const trainer = new RewardModelTrainer(testKernels(), { ...settings, hiddenSizes: [100], init: 'note-rnn' }, 32, noteRnn);
    const tensors = new Map(trainer.model.exportTensors().map((t) => [t.name, t]));
    expect(Array.from(tensors.get('lstm.0.w_h')!.data)).toEqual(Array.from(noteRnn.tensors.get('lstm.0.w_h')!.data));
    expect(tensors.get('output.w')!.shape).toEqual([100, 1]);
    expect(() => new RewardModelTrainer(testKernels(), { ...settings, init: 'note-rnn' }, 32, noteRnn)).toThrow(/needs its hidden sizes \[100\], but the reward model has \[12\]; pass --hidden 100, or --init random/);
  });

  it('refuses to start from a Note RNN of another encoding (its first layer reads other inputs than the events)', () => {
    for (const encoding of [LOOKBACK_ENCODING, PHRASE_ENCODING]) {
      const model = createModel(testKernels(), encodingConfig(encoding, [12]), { maxBatch: 1 });
      model.initialize(new Random(2));
      const other = decodeModel(encodeModel(model));
      expect(() => new RewardModelTrainer(testKernels(), { ...settings, init: 'note-rnn' }, 32, other))
        .toThrow(new RegExp(`needs one of the basic encoding \\(38 classes in.*this Note RNN uses the ${encoding.name} encoding \\(${encoding.inputSize} inputs\\); pass a basic Note RNN with --model, or --init random`));
    }
  });

  it('scores a composition alike whatever it is batched with (padding after its end changes nothing)', () => {
    const trainer = new RewardModelTrainer(testKernels(), settings, 32);
    const c = compositions(3, 8);
    const alone = scoreCompositions(trainer.model, [c[0].subarray(0, 9)]);
    const together = scoreCompositions(trainer.model, [c[1], c[0].subarray(0, 9), c[2]]);
    // Equal up to f32 rounding (the batch changes how the kernels block the sums), far from the score the
    // composition's later steps would give.
    expect(Math.abs(together[1] - alone[0])).toBeLessThan(1e-6);
    expect(Math.abs(scoreCompositions(trainer.model, [c[0]])[0] - alone[0])).toBeGreaterThan(1e-4);
  });
});
