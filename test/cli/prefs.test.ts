// The listener in the loop from the command line (needs `npm run build`): a session of pairs with a scripted
// listener, the listening page's CSV of answers (written by the page's own writer) trained into a reward model
// with resume and fingerprints, then `tune --reward-model` with pg and with G (and pg on a lookback prior), and what
// is refused.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createModel } from '../../src/engine/arena.js';
import { decodeModel, encodeModel, REWARD_MODEL } from '../../src/io/model_file.js';
import { sha256Hex } from '../../src/io/sha256.js';
import { encodingConfig, LOOKBACK_ENCODING } from '../../src/music/encodings.js';
import { importMidi } from '../../src/music/midi_import.js';
import { readAnswersJsonLines } from '../../src/prefs/answers.js';
import { readSession } from '../../src/prefs/session.js';
import { Random } from '../../src/random.js';
import { answersToCsv, type AnswerRecord } from '../../web/listening_stats.js';
import { testKernels } from '../engine/support.js';
import { rltuner as runCli } from '../support/cli.js';

const work = mkdtempSync(join(tmpdir(), 'rltuner-prefs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** `rltuner <args>` in the work folder. */
const rltuner = (args: string[]) => runCli(args, { cwd: work });

const shortTune = (out: string, steps = 512) => [
  'tune', '--out', out, '--training-steps', String(steps), '--num-notes', '16', '--log-every', '256', '--eval-every', '0',
  '--checkpoint-every', '0', '--eval-compositions', '20', '--sample-count', '1', '--quiet',
];

describe('rltuner prefs', () => {
  it('pairs → the page\'s CSV → prefs train (resume, fingerprints) → tune --reward-model, and every refusal names the problem', async () => {
    // A session of 40 pairs of the shipped Note RNN's 16-step compositions, answered by a scripted listener.
    const pairs = await rltuner(['prefs', 'pairs', '--models', 'note-rnn,note-rnn', '--count', '40', '--num-notes', '16', '--seed', '3', '--listener', 'tonic-ending', '--out', 'session', '--quiet']);
    expect(pairs.code, pairs.stderr).toBe(0);
    const session = readSession(readFileSync(join(work, 'session/session.json'), 'utf8'), 'session.json');
    expect(session.pairs).toHaveLength(40);
    expect(session.models).toEqual(['note-rnn', 'note-rnn']);
    expect(session.pairs.every((p) => p.a.length === 16 && p.b.length === 16 && Array.from(p.a).join() !== Array.from(p.b).join())).toBe(true);
    expect(readdirSync(join(work, 'session/pairs'))).toHaveLength(80);
    const midi = importMidi(new Uint8Array(readFileSync(join(work, 'session', session.pairs[0].midiA!))), { transpose: false, centre: false });
    expect(Array.from(midi.tokens).filter((t) => t >= 2)).toEqual(Array.from(session.pairs[0].a).filter((t) => t >= 2)); // the same notes
    const scripted = readAnswersJsonLines(readFileSync(join(work, 'session/answers.jsonl'), 'utf8'), 'answers.jsonl');
    expect(scripted.pairs).toHaveLength(40);
    // The same seed gives the same session and answers.
    const again = await rltuner(['prefs', 'pairs', '--models', 'note-rnn,note-rnn', '--count', '40', '--num-notes', '16', '--seed', '3', '--listener', 'tonic-ending', '--out', 'session2', '--quiet']);
    expect(again.code).toBe(0);
    expect(readFileSync(join(work, 'session2/answers.jsonl'), 'utf8')).toBe(readFileSync(join(work, 'session/answers.jsonl'), 'utf8'));

    // A listener script: an ES module whose default export answers (here: always the pair's second melody).
    writeFileSync(join(work, 'second.mjs'), "export default (a, b, random) => (random() < 2 && b.length === a.length ? 'B' : 'none');\n");
    const scriptedByModule = await rltuner(['prefs', 'pairs', '--models', 'note-rnn,note-rnn', '--count', '3', '--num-notes', '8', '--listener', 'second.mjs', '--out', 'session3', '--quiet']);
    expect(scriptedByModule.code, scriptedByModule.stderr).toBe(0);
    expect(readAnswersJsonLines(readFileSync(join(work, 'session3/answers.jsonl'), 'utf8'), 'a').pairs.map((p) => p.answer)).toEqual(['B', 'B', 'B']);
    writeFileSync(join(work, 'bad.mjs'), 'export default () => 7;\n');
    const badListener = await rltuner(['prefs', 'pairs', '--models', 'note-rnn,note-rnn', '--count', '1', '--listener', 'bad.mjs', '--out', 'session4', '--quiet']);
    expect(badListener.code).toBe(2);
    expect(badListener.stderr).toMatch(/--listener .*bad\.mjs answered 7; a listener answers 'A', 'B' or 'none'/);

    // The listening page's export of those answers (its own CSV writer), as a person's session would give.
    const records: AnswerRecord[] = session.pairs.map((p, i) => ({
      sessionSeed: session.seed, trial: p.trial, model1: 'note-rnn', model2: 'note-rnn', modelA: p.modelA, modelB: p.modelB, compositionSeed: p.seed,
      answer: scripted.pairs[i].answer, preferred: '', answeredAt: '2026-12-01T00:00:00.000Z', tokensA: Array.from(p.a), tokensB: Array.from(p.b),
    }));
    writeFileSync(join(work, 'answers.csv'), answersToCsv(records));

    const trained = await rltuner(['prefs', 'train', 'answers.csv', '--out', 'rm', '--epochs', '2', '--hidden', '16', '--quiet']);
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stdout).toMatch(/\| held out \| \d+ \| \d+ \| [\d.]+ \| (–|[\d.]+%) \|/);
    const rmPath = join(work, 'rm/reward_model.safetensors');
    const rm = decodeModel(new Uint8Array(readFileSync(rmPath)), rmPath, REWARD_MODEL);
    expect(rm.config).toEqual({ inputSize: 38, hiddenSizes: [16], outputSize: 1 });
    expect(rm.info.fingerprints).toMatchObject({ format: 'rltuner-reward-model/1', answers: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(readFileSync(join(work, 'rm/metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    // Resume to a third epoch; a changed answers file is refused, naming the fingerprint.
    const resumed = await rltuner(['prefs', 'train', '--out', 'rm', '--resume', '--epochs', '3', '--quiet']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(readFileSync(join(work, 'rm/metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
    writeFileSync(join(work, 'answers.csv'), answersToCsv(records.slice(1)));
    const changed = await rltuner(['prefs', 'train', '--out', 'rm', '--resume', '--epochs', '4', '--quiet']);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(/--resume: this run differs from the checkpoint .*checkpoint\.safetensors:\n {2}answers: the checkpoint has [0-9a-f]{64}, this run has [0-9a-f]{64}/);
    writeFileSync(join(work, 'answers.csv'), answersToCsv(records));

    // Tune on it with pg: the reward model is recorded and fingerprinted, its score logged.
    const tuned = await rltuner([...shortTune('tune-pg'), '--algorithm', 'pg', '--pg-groups', '2', '--pg-group-size', '4', '--reward-model', 'rm', '--weight-preference', '2']);
    expect(tuned.code, tuned.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(work, 'tune-pg/config.json'), 'utf8'));
    expect(config.config.weightPreference).toBe(2);
    expect(config.run.rewardModel).toBe(rmPath);
    expect(config.fingerprints.rewardModel).toBe(sha256Hex(new Uint8Array(readFileSync(rmPath))));
    const metrics = readFileSync(join(work, 'tune-pg/metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.every((m) => Number.isFinite(m['preference/score']))).toBe(true);
    const model = decodeModel(new Uint8Array(readFileSync(join(work, 'tune-pg/pg_tuned.safetensors'))));
    expect(model.info.fingerprints?.rewardModel).toBe(config.fingerprints.rewardModel);
    expect((model.info.notes as { rewardModel?: string }).rewardModel).toBe(rmPath);

    // G with potential-based shaping runs too.
    const g = await rltuner([...shortTune('tune-g', 320), '--algorithm', 'g', '--reward-model', rmPath, '--weight-preference', '1', '--replay-capacity', '1000']);
    expect(g.code, g.stderr).toBe(0);
    expect(existsSync(join(work, 'tune-g/g_tuned.safetensors'))).toBe(true);

    // On a lookback prior the reward model reads the events played (the prior's repeat classes decoded), so
    // tune runs on it; a reward model cannot start its layers from one (they read other inputs).
    const lookback = createModel(testKernels(), encodingConfig(LOOKBACK_ENCODING, [16]), { maxBatch: 1 });
    lookback.initialize(new Random(7));
    writeFileSync(join(work, 'lookback.safetensors'), encodeModel(lookback));
    const onLookback = await rltuner([
      ...shortTune('tune-lookback'), '--model', 'lookback.safetensors', '--algorithm', 'pg', '--pg-groups', '2', '--pg-group-size', '4', '--reward-model', 'rm', '--weight-preference', '1',
    ]);
    expect(onLookback.code, onLookback.stderr).toBe(0);
    const lookbackMetrics = readFileSync(join(work, 'tune-lookback/metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lookbackMetrics.every((m) => Number.isFinite(m['preference/score']))).toBe(true);
    const fromLookback = await rltuner(['prefs', 'train', 'answers.csv', '--out', 'rm-lookback', '--init', 'note-rnn', '--model', 'lookback.safetensors', '--hidden', '16', '--quiet']);
    expect(fromLookback.code).toBe(2);
    expect(fromLookback.stderr).toMatch(/lookback\.safetensors: reward model: starting from the Note RNN needs one of the basic encoding .*uses the lookback encoding \(121 inputs\); pass a basic Note RNN with --model, or --init random/);

    // A changed reward model is refused at --resume; so are a weight without a model, a model without a weight, a Note RNN as one.
    const retrained = await rltuner(['prefs', 'train', 'answers.csv', '--out', 'rm', '--overwrite', '--epochs', '1', '--hidden', '16', '--seed', '2', '--quiet']);
    expect(retrained.code, retrained.stderr).toBe(0);
    const resumeTune = await rltuner(['tune', '--out', 'tune-pg', '--resume', '--training-steps', '1024', '--quiet']);
    expect(resumeTune.code).toBe(2);
    expect(resumeTune.stderr).toMatch(/--resume: .*tune-pg was started from something else:\n {2}rewardModel: the run has [0-9a-f]{64}, this run has [0-9a-f]{64}/);
    const noModel = await rltuner([...shortTune('x1'), '--weight-preference', '1']);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toMatch(/--weight-preference 1 weighs a learned preference reward: pass its reward model with --reward-model <file>/);
    const noWeight = await rltuner([...shortTune('x2'), '--reward-model', 'rm']);
    expect(noWeight.code).toBe(2);
    expect(noWeight.stderr).toMatch(/counts only with a positive --weight-preference \(it is 0\)/);
    const noteRnnAsReward = await rltuner([...shortTune('x3'), '--reward-model', fileURLToPath(new URL('../../models/note_rnn.safetensors', import.meta.url)), '--weight-preference', '1']);
    expect(noteRnnAsReward.code).toBe(2);
    expect(noteRnnAsReward.stderr).toMatch(/note_rnn\.safetensors: this is an rltuner Note RNN \(metadata format "rltuner-note-rnn"\), not a reward model/);
    writeFileSync(join(work, 'bad.csv'), 'answer,tokens_a,tokens_b\nA,14 40,2\n');
    const bad = await rltuner(['prefs', 'train', 'bad.csv', '--out', 'rm-bad']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.csv: line 2, column tokens_a: token 2 is "40"; a token is a class index 0\.\.37/);
    expect((await rltuner(['prefs', '--help'])).stdout).toMatch(/rltuner prefs train: a reward model/);
  }, 120_000);
});
