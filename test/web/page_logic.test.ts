/**
 * The page's pure parts, without a browser: round chart ticks and the note on lines that coincide, key
 * and mode mapping from a melody's own key, the estimate of a run's time from measured speed, the messages
 * of out-of-range fields, the listening test's Wilson interval, tally and CSV, and how it reads the files a
 * visitor picks (the same bounded readers and limits as the CLI; the key a tuned model records).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeModel, keyNamed, MAX_MIDI_FILE_BYTES, PREFERENCE_TUNING, MAX_MODEL_FILE_BYTES, ModelFileError, scaleOf, type DecodedModel } from '../../src/index.js';
import { duration, runEstimate, secondsLeft } from '../../web/estimate.js';
import { numberProblem } from '../../web/fields.js';
import { fileSizeProblem, readModelFile, recordedKey } from '../../web/loaded_files.js';
import { answersToCsv, tallyAnswers, wilsonInterval, type AnswerRecord } from '../../web/listening_stats.js';
import { readAnswers } from '../../src/prefs/answers.js';
import { answeredPairs, listeningTimeText, loopLength, rewardProgressText, rewardSummaryText } from '../../web/prefs_loop.js';
import { AS_WRITTEN, C_MAJOR, heardKey, keyShift, mapNotes, mapPitch, MODE_NAMES, TONIC_BY_PITCH_CLASS } from '../../web/pitch_map.js';
import type { ProgressPoint } from '../../web/protocol.js';
import { chartNote, niceTicks, totalIsMusicTheory } from '../../web/reward_chart.js';

describe('niceTicks', () => {
  it('puts ticks at 1, 2 or 5 × 10^k covering the data', () => {
    expect(niceTicks(-3.7, 2.1, 6)).toEqual({ ticks: [-4, -3, -2, -1, 0, 1, 2, 3], step: 1 });
    expect(niceTicks(0, 200_000, 8)).toEqual({ ticks: [0, 50_000, 100_000, 150_000, 200_000], step: 50_000 });
    expect(niceTicks(0, 3008, 4).ticks).toEqual([0, 1000, 2000, 3000, 4000]);
    const small = niceTicks(0.12, 0.61, 5);
    expect(small.step).toBeCloseTo(0.1, 12);
    expect(small.ticks).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]); // no 0.30000000000000004
  });

  it('widens a flat series and refuses non-finite bounds', () => {
    const flat = niceTicks(2, 2, 4);
    expect(flat.ticks[0]).toBeLessThan(2);
    expect(flat.ticks[flat.ticks.length - 1]).toBeGreaterThan(2);
    expect(() => niceTicks(Number.NaN, 1, 4)).toThrow(/finite/);
  });
});

describe('key and mode', () => {
  const key = (tonic: number, mode: Parameters<typeof keyNamed>[1] = 'major') => keyNamed(TONIC_BY_PITCH_CLASS[tonic], mode);

  it('transposes by the nearest shift and maps major degrees onto the mode', () => {
    expect(keyShift(0, 2)).toBe(2);
    expect(keyShift(0, 7)).toBe(-5); // G: down a fourth rather than up a fifth
    expect(keyShift(2, 0)).toBe(-2);
    expect(keyShift(7, 0)).toBe(5);
    expect(mapPitch(64, C_MAJOR, key(0))).toBe(64);
    expect(mapPitch(64, C_MAJOR, key(0, 'minor'))).toBe(63); // E → E♭
    expect(mapPitch(71, C_MAJOR, key(0, 'mixolydian'))).toBe(70); // B → B♭
    expect(mapPitch(69, C_MAJOR, key(0, 'dorian'))).toBe(69); // A stays in Dorian
    expect(mapPitch(61, C_MAJOR, key(0, 'minor'))).toBe(61); // C♯: a semitone above the (unchanged) tonic
    expect(mapPitch(60, C_MAJOR, key(9, 'minor'))).toBe(57); // C in A minor: down to A
    expect(() => keyShift(0, 12)).toThrow(/0\.\.11/);
  });

  it('maps a melody from the key it is written in: a tuned melody in D dorian heard in C major', () => {
    const dDorian = key(2, 'dorian');
    // D dorian's degrees D E F G A B C land on C major's C D E F G A B, a whole tone down.
    const dorianScale = [62, 64, 65, 67, 69, 71, 72];
    expect(dorianScale.map((p) => mapPitch(p, dDorian, C_MAJOR))).toEqual([60, 62, 64, 65, 67, 69, 71]);
    expect(mapPitch(66, dDorian, C_MAJOR)).toBe(65); // F♯, a semitone above F (the third degree): E♯ → F
    // Every key and mode heard as written is the identity, and a round trip on the scale comes back.
    for (let tonic = 0; tonic < 12; tonic++) {
      for (const mode of MODE_NAMES) {
        const written = key(tonic, mode);
        const scale = scaleOf(written).map((pc) => 48 + pc);
        expect(scale.map((p) => mapPitch(p, written, written))).toEqual(scale);
        // The nearest shift is +6 both ways at the tritone (F♯ ↔ C), so there the round trip ends an octave up.
        expect(scale.map((p) => mapPitch(mapPitch(p, written, C_MAJOR), C_MAJOR, written))).toEqual(scale.map((p) => (tonic === 6 ? p + 12 : p)));
      }
    }
  });

  it('playback keeps what is "as written" and changes only what is chosen', () => {
    const dMajor = key(2);
    expect(heardKey(dMajor, AS_WRITTEN)).toEqual(dMajor);
    expect(heardKey(dMajor, { tonic: null, mode: 'minor' })).toEqual({ tonic: 2, mode: 'minor' });
    expect(heardKey(C_MAJOR, { tonic: 2, mode: null })).toEqual(dMajor);
    const notes = [{ pitch: 62, start: 0, end: 2 }, { pitch: 66, start: 2, end: 4 }]; // D, F♯ in D major
    expect(mapNotes(notes, dMajor, AS_WRITTEN)).toEqual(notes);
    expect(mapNotes(notes, dMajor, { tonic: null, mode: 'minor' }).map((n) => n.pitch)).toEqual([62, 65]); // F♯ → F
    expect(mapNotes(notes, dMajor, { tonic: 0, mode: null }).map((n) => n.pitch)).toEqual([60, 64]);
  });
});

describe('the reward chart when two series are the same numbers', () => {
  const point = (step: number, total: number, musicTheory: number): ProgressPoint => ({ step, total, musicTheory, noteRnn: -3, epsilon: 0, tdLoss: 0 });

  it('says the total lies on the music-theory line, and why for G, only when the data says so', () => {
    const g = [point(100, 0.5, 0.5), point(200, -1.25, -1.25)];
    const q = [point(100, -2.5, 0.5), point(200, -4.25, -1.25)];
    expect(totalIsMusicTheory(g)).toBe(true);
    expect(totalIsMusicTheory(q)).toBe(false);
    expect(totalIsMusicTheory([])).toBe(false);
    expect(chartNote(g, 'g')).toMatch(/^The dashed total lies on the music-theory line: for G-learning the reward is the music-theory reward \(s · r_MT\)/);
    expect(chartNote(g, 'q')).toBe('The dashed total lies on the music-theory line: the two are the same numbers in this run.');
    expect(chartNote(q, 'q')).toBe('');
    expect(chartNote([...g, point(300, 1, 0.9)], 'g')).toBe(''); // one point apart is enough to say nothing
  });
});

describe('time estimates', () => {
  it('from the speed measured, never a fixed claim', () => {
    expect(duration(42.4)).toBe('42 s');
    expect(duration(65)).toBe('1 min 05 s');
    expect(secondsLeft(50_000, 200_000, 10_000)).toBe(15);
    expect(secondsLeft(0, 200_000, 0)).toBeNull();
    expect(runEstimate(200_000, null)).toMatch(/^How long a tune takes depends on this machine/);
    expect(runEstimate(200_000, null)).not.toMatch(/\d/);
    expect(runEstimate(200_000, { stepsPerSecond: 8000, evaluationSeconds: 3.6, threads: '1 thread' }))
      .toBe('At the 8,000 steps/s the last run here measured (1 thread), 200,000 steps take about 25 s, then about 4 s for the evaluation table; the line beside the bar shows the time left as it runs.');
    expect(runEstimate(1_000_000, { stepsPerSecond: 2500, evaluationSeconds: 0, threads: '2 threads' })).toMatch(/1,000,000 steps take about 6 min 40 s;/);
  });
});

describe('numberProblem', () => {
  const length = { name: 'Length', min: 8, max: 256, integer: true, unit: 'steps' };
  it('names an empty, non-numeric, fractional or out-of-range value and what is allowed', () => {
    expect(numberProblem('64', length)).toBeNull();
    expect(numberProblem('', length)).toBe('Length is empty: enter a whole number from 8 to 256 steps.');
    expect(numberProblem('abc', length)).toMatch(/Length “abc” is not a number/);
    expect(numberProblem('8.5', length)).toMatch(/Length 8.5 is not a whole number/);
    expect(numberProblem('100', { ...length, max: 64 })).toMatch(/Length 100 is above the maximum: enter a whole number from 8 to 64 steps/);
    expect(numberProblem('4', length)).toMatch(/below the minimum/);
  });

  it('lets a field explain a particular value', () => {
    const spec = { name: 'Temperature', min: 0.05, max: 3, explain: (t: number) => (t === 0 ? 'zero explained' : null) };
    expect(numberProblem('0', spec)).toBe('zero explained');
    expect(numberProblem('0.01', spec)).toMatch(/below the minimum/);
  });
});

describe('listening test statistics', () => {
  it('gives the 95 % Wilson score interval', () => {
    const seven = wilsonInterval(7, 10)!;
    expect(seven.low).toBeCloseTo(0.3968, 4);
    expect(seven.high).toBeCloseTo(0.8922, 4);
    const none = wilsonInterval(0, 10)!;
    expect(none.low).toBe(0);
    expect(none.high).toBeCloseTo(0.2775, 4);
    expect(wilsonInterval(10, 10)!.high).toBe(1);
    expect(wilsonInterval(0, 0)).toBeNull();
    expect(() => wilsonInterval(3, 2)).toThrow(/successes <= trials/);
  });

  const answer = (trial: number, modelA: string, modelB: string, choice: 'A' | 'B' | 'none'): AnswerRecord => ({
    sessionSeed: 42, trial, model1: 'Note RNN', model2: 'tuned, "q"', modelA, modelB, compositionSeed: 1000 + trial, answer: choice,
    preferred: choice === 'A' ? modelA : choice === 'B' ? modelB : '', answeredAt: `2025-01-01T00:00:0${trial}.000Z`,
  });
  const answers = [
    answer(1, 'Note RNN', 'tuned, "q"', 'B'),
    answer(2, 'tuned, "q"', 'Note RNN', 'A'),
    answer(3, 'tuned, "q"', 'Note RNN', 'B'),
    answer(4, 'Note RNN', 'tuned, "q"', 'none'),
  ];

  it('tallies wins by model, whatever order they played in', () => {
    const [t] = tallyAnswers(answers);
    expect(t).toMatchObject({ model1: 'Note RNN', model2: 'tuned, "q"', wins1: 1, wins2: 2, noPreference: 1 });
    expect(t.winRate2).toBeCloseTo(2 / 3, 12);
    expect(t.interval2).toEqual(wilsonInterval(2, 3));
  });

  it('writes CSV with a header, quoting fields that need it, and the tokens of both compositions', () => {
    const withTokens = answers.map((a, i) => (i === 3 ? a : { ...a, tokensA: [14, 1, 1, 16], tokensB: [2, 1, 0, 37 - i] }));
    const lines = answersToCsv(withTokens).split('\r\n');
    expect(lines[0]).toBe('session_seed,trial,model_1,model_2,model_a,model_b,composition_seed,answer,preferred,answered_at,tokens_a,tokens_b');
    expect(lines[1]).toBe('42,1,Note RNN,"tuned, ""q""",Note RNN,"tuned, ""q""",1001,B,"tuned, ""q""",2025-01-01T00:00:01.000Z,14 1 1 16,2 1 0 37');
    // An answer stored before the page kept tokens has empty token fields.
    expect(lines[4]).toBe('42,4,Note RNN,"tuned, ""q""",Note RNN,"tuned, ""q""",1004,none,,2025-01-01T00:00:04.000Z,,');
    expect(lines).toHaveLength(6); // four rows and the final CRLF
    // What `rltuner prefs train` reads of it: the pairs with tokens and their answers; the row without, skipped.
    const read = readAnswers(answersToCsv(withTokens), 'rltuner-listening.csv');
    expect(read.pairs.map((p) => [Array.from(p.a), Array.from(p.b), p.answer])).toEqual([
      [[14, 1, 1, 16], [2, 1, 0, 37], 'B'], [[14, 1, 1, 16], [2, 1, 0, 36], 'A'], [[14, 1, 1, 16], [2, 1, 0, 35], 'B'],
    ]);
    expect(read.skipped).toEqual([{ line: 5, reason: 'no tokens (answered before the page recorded them)' }]);
  });
});

describe('files a visitor picks', () => {
  const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/reader_repro/models/${name}`, import.meta.url)));

  it('a model recording 2e9-step compositions is refused with a message naming the file, the value and the range', () => {
    expect(() => readModelFile(fixture('numnotes_2e9.safetensors'), 'numnotes_2e9.safetensors')).toThrow(ModelFileError);
    expect(() => readModelFile(fixture('numnotes_2e9.safetensors'), 'numnotes_2e9.safetensors'))
      .toThrow('numnotes_2e9.safetensors: its metadata records notes.config.numNotes = 2000000000, outside what rltuner allows (integer in [8, 1024], as for a tuning config)');
  });

  it('a model claiming 8 × 4,096 units, or holding weights of 3e38, is refused from its header and weights, naming the file', () => {
    expect(() => readModelFile(fixture('arch_h4096x8.safetensors'), 'arch.safetensors')).toThrow(/^arch\.safetensors: the architecture metadata claims LSTM layers \[4096, 4096/);
    expect(() => readModelFile(fixture('weights_big.safetensors'), 'big.safetensors')).toThrow(/^big\.safetensors: tensor "lstm\.0\.w_x" holds 3\.0000000054977558e\+38 at element 0, beyond the ±1000000/);
  });

  it('the shipped model plays with the defaults; a tuned one with what it records', () => {
    const shipped = new Uint8Array(readFileSync(new URL('../../models/note_rnn.safetensors', import.meta.url)));
    expect(readModelFile(shipped, 'note_rnn.safetensors').settings).toEqual({ algorithm: 'note_rnn', steps: 0, numNotes: 32, temperature: 1 });
    expect(readModelFile(shipped, 'note_rnn.safetensors').key).toEqual(C_MAJOR);
  });

  it('a tuned model\'s notes are in the key it records; a key that is none is refused, naming the file', () => {
    const shipped = decodeModel(new Uint8Array(readFileSync(new URL('../../models/note_rnn.safetensors', import.meta.url))), 'note_rnn.safetensors');
    const recording = (config: Record<string, unknown>): DecodedModel => ({ ...shipped, info: { ...shipped.info, notes: { algorithm: 'g', steps: 1000, config } } });
    expect(recordedKey(recording({ key: 'D', mode: 'dorian' }), 'd.safetensors')).toEqual({ tonic: 2, mode: 'dorian' });
    expect(recordedKey(recording({ key: 'Bb', mode: 'minor' }), 'b.safetensors')).toEqual({ tonic: 10, mode: 'minor' });
    expect(recordedKey(recording({}), 'old.safetensors')).toEqual(C_MAJOR); // tuned before keys: C major
    expect(() => recordedKey(recording({ key: 'H', mode: 'major' }), 'h.safetensors')).toThrow(ModelFileError);
    expect(() => recordedKey(recording({ key: 'H', mode: 'major' }), 'h.safetensors')).toThrow(/^h\.safetensors: its metadata records a tuning key rltuner does not know \(notes\.config: key "H" is not a tonic name; expected one of C C# /);
    expect(() => recordedKey(recording({ key: 'D', mode: 7 }), 'm.safetensors')).toThrow(/^m\.safetensors: .*mode 7 are not names/);
  });

  it('files over the limits are refused by their size before they are read', () => {
    expect(fileSizeProblem({ name: 'm.safetensors', size: MAX_MODEL_FILE_BYTES }, 'model')).toBeNull();
    expect(fileSizeProblem({ name: 'm.safetensors', size: MAX_MODEL_FILE_BYTES + 1 }, 'model')).toBe('m.safetensors is 2,147,483,648 bytes, above the 2,147,483,647 bytes a model file may have');
    expect(fileSizeProblem({ name: 'p.mid', size: MAX_MIDI_FILE_BYTES + 1 }, 'midi')).toBe('p.mid is 67,108,865 bytes, above the 67,108,864 bytes a MIDI file may have');
  });
});

describe('the listening page\'s loop', () => {
  const record = (trial: number, answer: 'A' | 'B' | 'none', tokens?: [number[], number[]], models = ['Note RNN', 'Note RNN']): AnswerRecord => ({
    sessionSeed: 1, trial, model1: models[0], model2: models[1], modelA: models[0], modelB: models[1], compositionSeed: trial, answer,
    preferred: answer === 'A' ? models[0] : answer === 'B' ? models[1] : '', answeredAt: '2026-12-01T00:00:00.000Z',
    ...(tokens ? { tokensA: tokens[0], tokensB: tokens[1] } : {}),
  });

  it('learns from the stored answers that hold both melodies; pairs of one model\'s melodies are no contest', () => {
    const records = [record(1, 'A', [[14, 1], [2, 1, 1]]), record(2, 'none'), record(3, 'B', [[2, 1, 1], [3, 1, 1]]), record(4, 'A', [[5], [6, 1, 1]], ['Note RNN', 'tuned'])];
    expect(answeredPairs(records)).toEqual([
      { a: [14, 1], b: [2, 1, 1], answer: 'A' }, { a: [2, 1, 1], b: [3, 1, 1], answer: 'B' }, { a: [5], b: [6, 1, 1], answer: 'A' },
    ]);
    // The commonest length (3 steps), within the tuner's 8..1024.
    expect(loopLength(answeredPairs(records))).toBe(8);
    expect(loopLength([{ a: new Array(40).fill(1), b: new Array(40).fill(1), answer: 'A' }, { a: [1], b: new Array(16).fill(1), answer: 'B' }])).toBe(40);
    expect(tallyAnswers(records)).toEqual([expect.objectContaining({ model1: 'Note RNN', model2: 'tuned', wins1: 1, wins2: 0 })]);
  });

  it('says how long the stored answers took, from the first to the last', () => {
    const at = (trial: number, iso: string, tokens = true) => ({ ...record(trial, 'A', tokens ? [[14], [2]] : undefined), answeredAt: iso });
    expect(listeningTimeText([at(1, '2026-12-08T10:00:00.000Z'), at(2, '2026-12-08T10:00:09.500Z'), at(3, '2026-12-08T10:05:02.000Z')]))
      .toBe('over 5 min 02 s from the first to the last, 151.0 s an answer');
    // Answers without melodies do not count (the loop cannot learn from them); one answer, or none readable: nothing to say.
    expect(listeningTimeText([at(1, '2026-12-08T10:00:00.000Z'), at(2, '2026-12-08T11:00:00.000Z', false), at(3, '2026-12-08T10:00:21.000Z')]))
      .toBe('over 21 s from the first to the last, 21.0 s an answer');
    expect(listeningTimeText([at(1, '2026-12-08T10:00:00.000Z')])).toBeNull();
    expect(listeningTimeText([at(1, 'yesterday'), at(2, '2026-12-08T10:00:00.000Z')])).toBeNull();
  });

  it('offers the library\'s preference tuning steps as the loop\'s default', () => {
    const html = readFileSync(new URL('../../web/listen.html', import.meta.url), 'utf8');
    expect(Number(/id="loop-steps"[^>]*value="(\d+)"/.exec(html)![1])).toBe(PREFERENCE_TUNING.trainingSteps);
  });

  it('says how long each long step has left, from what was measured', () => {
    expect(rewardProgressText(3, 20, null)).toBe('epoch 3 of at most 20 · estimating time left (it stops early when the held-out answers stop improving)');
    expect(rewardProgressText(3, 20, 0.5)).toMatch(/^epoch 3 of at most 20 · about 9 s left at most/);
    expect(rewardSummaryText({ pairs: 30, train: 27, heldOut: 3, heldOutDecided: 2, heldOutAccuracy: 0.5, heldOutLoss: 0.7, trainAccuracy: 0.9, bestEpoch: 4, epochsRun: 10, seconds: 1.25 }))
      .toBe('Reward model trained on 27 of your 30 answers in 1.3 s (best epoch 4 of 10). On the 3 held out (2 with a preference) it orders 50 % as you did; ' +
        'on the answers it learnt from, 90 %. With few answers these figures are rough.');
  });
});
