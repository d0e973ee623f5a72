/**
 * The blind listening test, and the listener in the loop. Pairs of compositions are played as A and B:
 * from two models (the shipped Note RNN or model files; both from the same seed, in an order drawn from the
 * page's one random source, seeded from the clock and recorded with every answer), from the Note RNN alone
 * (two of its melodies a pair, to teach a reward model), or from a session file written by
 * `rltuner prefs pairs`. Answers of A / B / no preference, with both melodies' tokens, are kept in
 * localStorage until cleared; the CSV export is what `rltuner prefs train` reads; each model's win rate
 * shows with a 95 % Wilson interval.
 *
 * An answer counts only when both melodies were heard: the answer buttons unlock once A and B have each
 * played to the end at least once in this pair (stopping one early does not count; replaying is free).
 * To the end rather than merely started, because a melody is judged by its whole shape, and how it ends
 * (on the tonic, a leap resolved) is part of what the tuning rewards; a pair lasts seconds, not minutes.
 *
 * The loop (section 4) runs in one tab, its long steps in a worker (listen_worker.ts) with progress and
 * time left: train a reward model on the stored answers, tune the Note RNN on it, then a blind session of
 * the tuned model against the Note RNN.
 *
 * Stable hooks for tests: #status[data-state], #start, #trial-label[data-trial], #play-a, #play-b,
 * #trial-section[data-heard][data-tokens-a][data-tokens-b], #answer-hint, #answer-a, #answer-b, #answer-none,
 * #results[data-answers], #export-csv[href], #clear-answers, #model-2-kind, #pair-length, #session-file,
 * #loop-answers[data-pairs], #train-reward, #train-progress, #train-status[data-state], #loop-steps, #loop-tune,
 * #loop-tune-progress, #loop-tune-status[data-state], #loop-listen, #download-reward-model, #download-loop-model.
 */
import wasmUrl from '../dist/rltuner.wasm?url';
import modelUrl from '../models/note_rnn.safetensors?url';
import {
  loadKernels, loadNoteRnn, readSession, sampleCompositions, tokensToNotes, Random, MAX_SESSION_FILE_BYTES, type Kernels, type LstmModel,
} from '../src/index.js';
import { fileSizeProblem, modelOf, readModelFile } from './loaded_files.js';
import { readNumberField, watchNumberField, type NumberFieldSpec } from './fields.js';
import { answersToCsv, percent, tallyAnswers, type Answer, type AnswerRecord } from './listening_stats.js';
import { playTracks, type Playback } from './synth.js';
import { duration, secondsLeft } from './estimate.js';
import { answeredPairs, listeningTimeText, loopLength, MIN_LOOP_ANSWERS, rewardProgressText, rewardSummaryText } from './prefs_loop.js';
import type { FromListenWorker, ToListenWorker } from './listen_protocol.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`listening page: no element #${id}`);
  return e as T;
};

const ui = {
  status: $('status'),
  model1Kind: $<HTMLSelectElement>('model-1-kind'),
  model1FileLabel: $('model-1-file-label'),
  model1File: $<HTMLInputElement>('model-1-file'),
  model2Kind: $<HTMLSelectElement>('model-2-kind'),
  model2FileLabel: $('model-2-file-label'),
  model2File: $<HTMLInputElement>('model-2-file'),
  pairLengthLabel: $('pair-length-label'),
  pairLength: $<HTMLInputElement>('pair-length'),
  pairCount: $<HTMLInputElement>('pair-count'),
  start: $<HTMLButtonElement>('start'),
  sessionFile: $<HTMLInputElement>('session-file'),
  setupStatus: $('setup-status'),
  trialSection: $('trial-section'),
  trialLabel: $('trial-label'),
  playA: $<HTMLButtonElement>('play-a'),
  playB: $<HTMLButtonElement>('play-b'),
  answerHint: $('answer-hint'),
  answerA: $<HTMLButtonElement>('answer-a'),
  answerB: $<HTMLButtonElement>('answer-b'),
  answerNone: $<HTMLButtonElement>('answer-none'),
  results: $('results'),
  exportCsv: $<HTMLAnchorElement>('export-csv'),
  clearAnswers: $<HTMLButtonElement>('clear-answers'),
  loopAnswers: $('loop-answers'),
  trainReward: $<HTMLButtonElement>('train-reward'),
  trainProgress: $<HTMLProgressElement>('train-progress'),
  trainStatus: $('train-status'),
  downloadRewardModel: $<HTMLAnchorElement>('download-reward-model'),
  loopSteps: $<HTMLInputElement>('loop-steps'),
  loopTune: $<HTMLButtonElement>('loop-tune'),
  loopStop: $<HTMLButtonElement>('loop-stop'),
  loopTuneProgress: $<HTMLProgressElement>('loop-tune-progress'),
  loopTuneStatus: $('loop-tune-status'),
  downloadLoopModel: $<HTMLAnchorElement>('download-loop-model'),
  loopListen: $<HTMLButtonElement>('loop-listen'),
  loopAnnounce: $('loop-announce'),
};

/** The localStorage key of the answers (a JSON array of AnswerRecord). */
const STORAGE_KEY = 'rltuner-listening-answers';
const PAIR_COUNT: NumberFieldSpec = { name: 'Pairs', min: 1, max: 100, integer: true };
const PAIR_LENGTH: NumberFieldSpec = { name: 'Length', min: 8, max: 256, integer: true, unit: 'steps' };
const LOOP_STEPS: NumberFieldSpec = { name: 'Training steps', min: 256, max: 1_000_000, integer: true, unit: 'steps' };
const BPM = 120;
const VOICE = 'triangle';
/** The name the Note RNN goes by in answers. */
const NOTE_RNN_NAME = 'Note RNN (shipped)';
watchNumberField(ui.pairCount, PAIR_COUNT);
watchNumberField(ui.pairLength, PAIR_LENGTH);
watchNumberField(ui.loopSteps, LOOP_STEPS);

function setStatus(element: HTMLElement, state: string, text: string): void {
  element.dataset.state = state;
  element.textContent = text;
}
function fail(error: unknown): void {
  setStatus(ui.status, 'error', `Error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  console.error(error);
}
window.addEventListener('error', (e) => fail(e.error ?? e.message));
window.addEventListener('unhandledrejection', (e) => fail(e.reason));

/** Offers `bytes` as a download on `link` (revoking what it offered before). */
function offerDownload(link: HTMLAnchorElement, bytes: ArrayBuffer): void {
  if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  link.classList.remove('disabled');
  link.removeAttribute('aria-disabled');
}

// ---- answers in the browser ---------------------------------------------------------------------

const isTokens = (x: unknown): x is number[] => Array.isArray(x) && x.length <= 1024 && x.every((t) => Number.isInteger(t) && t >= 0 && t < 38);

function isAnswerRecord(x: unknown): x is AnswerRecord {
  const a = x as AnswerRecord;
  return typeof a === 'object' && a !== null && typeof a.sessionSeed === 'number' && typeof a.trial === 'number' &&
    typeof a.model1 === 'string' && typeof a.model2 === 'string' && typeof a.modelA === 'string' && typeof a.modelB === 'string' &&
    typeof a.compositionSeed === 'number' && ['A', 'B', 'none'].includes(a.answer) && typeof a.preferred === 'string' &&
    [a.model1, a.model2, ''].includes(a.preferred) && typeof a.answeredAt === 'string' &&
    (a.tokensA === undefined || isTokens(a.tokensA)) && (a.tokensB === undefined || isTokens(a.tokensB));
}

function loadAnswers(): AnswerRecord[] {
  const text = localStorage.getItem(STORAGE_KEY);
  if (text === null) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) throw new Error('not a list');
    const kept = parsed.filter(isAnswerRecord);
    if (kept.length < parsed.length) {
      setStatus(ui.setupStatus, 'error', `${parsed.length - kept.length} stored answer(s) were unreadable and are ignored (localStorage “${STORAGE_KEY}”).`);
    }
    return kept;
  } catch (error) {
    setStatus(ui.setupStatus, 'error',
      `The stored answers (localStorage “${STORAGE_KEY}”) are unreadable (${error instanceof Error ? error.message : String(error)}); ` +
      'they are ignored, and Clear answers removes them.');
    return [];
  }
}

let answers = loadAnswers();

function saveAnswers(): void {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(answers));
}

let csvUrl: string | null = null;
function showResults(): void {
  ui.results.dataset.answers = String(answers.length);
  ui.clearAnswers.disabled = answers.length === 0 && localStorage.getItem(STORAGE_KEY) === null;
  if (csvUrl) URL.revokeObjectURL(csvUrl);
  csvUrl = null;
  showLoopAnswers();
  if (answers.length === 0) {
    ui.results.replaceChildren(Object.assign(document.createElement('p'), { className: 'note', textContent: 'No answers yet.' }));
    ui.exportCsv.classList.add('disabled');
    ui.exportCsv.setAttribute('aria-disabled', 'true');
    ui.exportCsv.removeAttribute('href');
    return;
  }
  csvUrl = URL.createObjectURL(new Blob([answersToCsv(answers)], { type: 'text/csv' }));
  ui.exportCsv.href = csvUrl;
  ui.exportCsv.classList.remove('disabled');
  ui.exportCsv.removeAttribute('aria-disabled');
  const sessions = new Set(answers.map((a) => a.sessionSeed)).size;
  const lines = tallyAnswers(answers).map((t) => {
    const decided = t.wins1 + t.wins2;
    const p = document.createElement('p');
    p.className = 'result';
    p.textContent = decided === 0
      ? `${t.model2} vs ${t.model1}: no answer with a preference yet (${t.noPreference} without).`
      : `${t.model2} preferred over ${t.model1} in ${t.wins2} of ${decided} answers with a preference: ` +
        `${percent(t.winRate2!)} (95 % Wilson interval ${percent(t.interval2!.low)} to ${percent(t.interval2!.high)}); ` +
        `${t.wins1} for ${t.model1}, ${t.noPreference} with no preference.`;
    return p;
  });
  const ownPairs = answers.filter((a) => a.model1 === a.model2).length;
  if (ownPairs > 0) {
    lines.push(Object.assign(document.createElement('p'), {
      className: 'result', textContent: `${ownPairs} answer${ownPairs === 1 ? '' : 's'} to pairs of one model's melodies (no model wins these: they teach a reward model).`,
    }));
  }
  const total = document.createElement('p');
  total.className = 'note';
  total.textContent = `${answers.length} answer${answers.length === 1 ? '' : 's'} from ${sessions} session${sessions === 1 ? '' : 's'}, stored in this browser.`;
  ui.results.replaceChildren(...lines, total);
}

ui.clearAnswers.addEventListener('click', () => {
  if (!window.confirm(`Delete all ${answers.length} stored answers from this browser? Export the CSV first to keep them.`)) return;
  answers = [];
  localStorage.removeItem(STORAGE_KEY);
  showResults();
});

// ---- models ---------------------------------------------------------------------------------------

interface Policy {
  name: string;
  /** Models whose logits are summed (a G model acts with the Note RNN it was tuned from). */
  models: LstmModel[];
  numNotes: number;
  temperature: number;
}

let kernels: Kernels | null = null;
let noteRnn: LstmModel | null = null;

/** A model file's bytes as a policy; throws a message naming `name` when the file is refused. */
function policyFromBytes(bytes: Uint8Array, name: string): Policy {
  if (!kernels || !noteRnn) throw new Error('the kernels are still loading');
  const { decoded, settings } = readModelFile(bytes, name);
  const model = modelOf(kernels, decoded, name);
  return { name, models: settings.algorithm === 'g' ? [model, noteRnn] : [model], numNotes: settings.numNotes, temperature: settings.temperature };
}

async function policyFromFile(file: File): Promise<Policy> {
  const tooLarge = fileSizeProblem(file, 'model');
  if (tooLarge) throw new Error(tooLarge);
  return policyFromBytes(new Uint8Array(await file.arrayBuffer()), file.name);
}

function updateSetup(): void {
  ui.model1FileLabel.hidden = ui.model1Kind.value !== 'file';
  const own = ui.model2Kind.value === 'note-rnn';
  ui.model2FileLabel.hidden = own;
  ui.pairLengthLabel.hidden = !own;
  const model1Ready = ui.model1Kind.value !== 'file' || ui.model1File.files?.length === 1;
  const ready = kernels !== null && model1Ready && (own || ui.model2File.files?.length === 1);
  ui.start.disabled = !ready;
  if (kernels && !ready) setStatus(ui.setupStatus, 'idle', !own && !ui.model2File.files?.length ? 'Choose a model file for model 2.' : 'Choose a model file for model 1.');
  if (ready) setStatus(ui.setupStatus, 'idle', own ? 'Ready to start: pairs of the Note RNN\'s melodies.' : 'Ready to start.');
}
for (const control of [ui.model1Kind, ui.model1File, ui.model2Kind, ui.model2File]) control.addEventListener('change', updateSetup);

// ---- a session ------------------------------------------------------------------------------------

interface Pair {
  compositionSeed: number;
  /** The model that played as A and as B (by name), and their compositions. */
  a: { name: string; tokens: Uint8Array };
  b: { name: string; tokens: Uint8Array };
}

type Side = 'a' | 'b';
let session: { seed: number; models: [string, string]; pairs: Pair[]; next: number } | null = null;
let playing: { playback: Playback; button: HTMLButtonElement; label: string; side: Side } | null = null;
/** Which melodies of the current pair have played to the end. */
const heard = { a: false, b: false };

function sample(policy: Policy, seed: number, count = 1, numNotes = policy.numNotes): Uint8Array[] {
  return sampleCompositions(policy.models, new Random(seed), {
    count, numNotes, temperature: policy.temperature, priming: { kind: 'random_note' },
  }).compositions;
}

/** A blind session of `count` pairs of two policies (both from each pair's seed, in a random order). */
function comparisonPairs(policies: [Policy, Policy], count: number, rng: Random): Pair[] {
  const pairs: Pair[] = [];
  for (let i = 0; i < count; i++) {
    const compositionSeed = rng.nextU32();
    const [x, y] = rng.int(2) === 0 ? policies : [policies[1], policies[0]];
    pairs.push({ compositionSeed, a: { name: x.name, tokens: sample(x, compositionSeed)[0] }, b: { name: y.name, tokens: sample(y, compositionSeed)[0] } });
  }
  return pairs;
}

/** Pairs of one policy's melodies: two compositions from each pair's seed. */
function ownPairs(policy: Policy, count: number, numNotes: number, rng: Random): Pair[] {
  return Array.from({ length: count }, () => {
    const compositionSeed = rng.nextU32();
    const [x, y] = sample(policy, compositionSeed, 2, numNotes);
    return { compositionSeed, a: { name: policy.name, tokens: x }, b: { name: policy.name, tokens: y } };
  });
}

function beginSession(seed: number, models: [string, string], pairs: Pair[], description: string): void {
  stopPlaying();
  session = { seed, models, pairs, next: 0 };
  setStatus(ui.setupStatus, 'running', description);
  ui.trialSection.hidden = false;
  showTrial();
  ui.playA.focus();
}

/** The page's one random source for a session, seeded from the clock (a UI choice, recorded with every answer). */
const sessionSeed = (): number => Date.now() % 4_294_967_296;

ui.start.addEventListener('click', async () => {
  const count = readNumberField(ui.pairCount, PAIR_COUNT);
  if (count === null || !kernels || !noteRnn) return;
  const own = ui.model2Kind.value === 'note-rnn';
  const length = own ? readNumberField(ui.pairLength, PAIR_LENGTH) : 0;
  if (length === null) return;
  let policies: [Policy, Policy];
  try {
    // The shipped Note RNN records no length or temperature: it plays at model 2's, as the tuner's side-by-side
    // does, so a pair never differs in length (which would tell which model made which).
    const second: Policy = own ? { name: NOTE_RNN_NAME, models: [noteRnn], numNotes: length, temperature: 1 } : await policyFromFile(ui.model2File.files![0]);
    const first: Policy = ui.model1Kind.value === 'file'
      ? await policyFromFile(ui.model1File.files![0])
      : { name: NOTE_RNN_NAME, models: [noteRnn], numNotes: second.numNotes, temperature: second.temperature };
    if (!own && second.name === first.name) second.name = `${second.name} (model 2)`;
    policies = [first, second];
  } catch (error) {
    setStatus(ui.setupStatus, 'error', `Could not load a model: ${error instanceof Error ? error.message : String(error)}. Choose .safetensors files saved from the tuner.`);
    return;
  }
  const seed = sessionSeed();
  const rng = new Random(seed);
  if (own && policies[0].name === policies[1].name) {
    beginSession(seed, [policies[0].name, policies[1].name], ownPairs(policies[1], count, length, rng),
      `Session ${seed}: ${count} pair${count === 1 ? '' : 's'} of ${policies[1].name}'s melodies (${length} steps), for a reward model.`);
  } else {
    beginSession(seed, [policies[0].name, policies[1].name], comparisonPairs(policies, count, rng),
      `Session ${seed}: ${count} pair${count === 1 ? '' : 's'} of ${policies[0].name} and ${policies[1].name}.`);
  }
});

ui.sessionFile.addEventListener('change', async () => {
  const file = ui.sessionFile.files?.[0];
  if (!file) return;
  try {
    if (file.size > MAX_SESSION_FILE_BYTES) throw new Error(`${file.name} is ${file.size.toLocaleString('en')} bytes, above the ${MAX_SESSION_FILE_BYTES.toLocaleString('en')} a session file may have`);
    const s = readSession(await file.text(), file.name);
    const pairs = s.pairs.map((p) => ({ compositionSeed: p.seed, a: { name: p.modelA, tokens: p.a }, b: { name: p.modelB, tokens: p.b } }));
    beginSession(s.seed, s.models, pairs, `Session ${s.seed} from ${file.name}: ${pairs.length} pair${pairs.length === 1 ? '' : 's'} of ${s.models[0]} and ${s.models[1]}.`);
  } catch (error) {
    setStatus(ui.setupStatus, 'error', `Could not load the session: ${error instanceof Error ? error.message : String(error)}. Choose the session.json written by rltuner prefs pairs.`);
  } finally {
    ui.sessionFile.value = '';
  }
});

function stopPlaying(): void {
  if (!playing) return;
  playing.playback.stop();
  playing.button.dataset.playing = 'false';
  playing.button.textContent = playing.label;
  playing = null;
}

/** Plays one melody of the pair, or stops it; played to the end, it counts as heard. */
function play(button: HTMLButtonElement, tokens: Uint8Array, side: Side): void {
  const wasThis = playing?.button === button;
  stopPlaying();
  if (wasThis) return;
  const label = button.textContent ?? '';
  const playback = playTracks([{ notes: tokensToNotes(tokens), steps: tokens.length }], { bpm: BPM, voice: VOICE, loop: false });
  playing = { playback, button, label, side };
  button.dataset.playing = 'true';
  button.textContent = '■ Stop';
  const current = playing;
  const poll = (): void => {
    if (playing !== current) return;
    if (current.playback.position() === null) {
      stopPlaying();
      heard[side] = true;
      showHeard();
      return;
    }
    requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
}

/** Seconds a melody of `steps` sixteenth notes plays at the page's tempo. */
const secondsOf = (steps: number): number => (steps * 60) / BPM / 4;

/** Unlocks the answers once both melodies were heard to the end, and says what is still to hear. */
function showHeard(): void {
  if (!session || session.next >= session.pairs.length) return;
  const both = heard.a && heard.b;
  for (const b of [ui.answerA, ui.answerB, ui.answerNone]) b.disabled = !both;
  ui.trialSection.dataset.heard = (['a', 'b'] as const).filter((s) => heard[s]).join(',');
  const pair = session.pairs[session.next];
  const left = (['a', 'b'] as const).filter((s) => !heard[s]).map((s) => `${s.toUpperCase()} (${secondsOf(pair[s].tokens.length).toFixed(0)} s)`);
  ui.answerHint.textContent = both
    ? 'Both heard to the end: choose (replay either as often as you like).'
    : `The answers unlock once both melodies have played to the end: still to hear ${left.join(' and ')}.`;
}

function showTrial(): void {
  if (!session) return;
  stopPlaying();
  heard.a = false;
  heard.b = false;
  const done = session.next >= session.pairs.length;
  for (const b of [ui.playA, ui.playB, ui.answerA, ui.answerB, ui.answerNone]) b.disabled = done;
  ui.trialLabel.dataset.trial = String(done ? 0 : session.next + 1);
  ui.trialLabel.textContent = done
    ? `Session ${session.seed} done: thank you. Start another session for more pairs.`
    : `Pair ${session.next + 1} of ${session.pairs.length}: play A and B to the end (then as often as you like), then choose.`;
  if (done) {
    ui.answerHint.textContent = '';
    delete ui.trialSection.dataset.heard;
    delete ui.trialSection.dataset.tokensA;
    delete ui.trialSection.dataset.tokensB;
  } else {
    const pair = session.pairs[session.next];
    ui.trialSection.dataset.tokensA = Array.from(pair.a.tokens).join(' ');
    ui.trialSection.dataset.tokensB = Array.from(pair.b.tokens).join(' ');
    showHeard();
  }
}

ui.playA.addEventListener('click', () => session && play(ui.playA, session.pairs[session.next].a.tokens, 'a'));
ui.playB.addEventListener('click', () => session && play(ui.playB, session.pairs[session.next].b.tokens, 'b'));

function answer(choice: Answer): void {
  if (!session || session.next >= session.pairs.length || !(heard.a && heard.b)) return;
  const pair = session.pairs[session.next];
  answers.push({
    sessionSeed: session.seed,
    trial: session.next + 1,
    model1: session.models[0],
    model2: session.models[1],
    modelA: pair.a.name,
    modelB: pair.b.name,
    compositionSeed: pair.compositionSeed,
    answer: choice,
    preferred: choice === 'A' ? pair.a.name : choice === 'B' ? pair.b.name : '',
    answeredAt: new Date().toISOString(),
    tokensA: Array.from(pair.a.tokens),
    tokensB: Array.from(pair.b.tokens),
  });
  saveAnswers();
  session.next++;
  showTrial();
  showResults();
  if (session.next < session.pairs.length) ui.playA.focus();
}
ui.answerA.addEventListener('click', () => answer('A'));
ui.answerB.addEventListener('click', () => answer('B'));
ui.answerNone.addEventListener('click', () => answer('none'));

// ---- the loop: reward model, tuning, and listening again ----------------------------------------

const worker = new Worker(new URL('./listen_worker.ts', import.meta.url), { type: 'module' });
const send = (message: ToListenWorker, transfer: Transferable[] = []): void => worker.postMessage(message, transfer);
let workerReady = false;
let busy: 'train' | 'tune' | null = null;
let rewardModel: ArrayBuffer | null = null;
let tuned: { bytes: ArrayBuffer; numNotes: number } | null = null;
let smoothedStepsPerSecond = 0;

function showLoopAnswers(): void {
  const pairs = answeredPairs(answers);
  const decided = pairs.filter((p) => p.answer !== 'none').length;
  const listened = listeningTimeText(answers);
  ui.loopAnswers.dataset.pairs = String(pairs.length);
  ui.loopAnswers.textContent = pairs.length === 0
    ? 'No answers with melodies yet: listen to some pairs above (20 to 50 make a start).'
    : `${pairs.length} answer${pairs.length === 1 ? '' : 's'} with melodies stored (${decided} with a preference, ${pairs.length - decided} without` +
      `${listened ? `; ${listened}` : ''})${pairs.length < 20 ? '; 20 to 50 make a better start' : ''}.`;
  updateLoopButtons();
}

function updateLoopButtons(): void {
  const pairs = answeredPairs(answers).length;
  ui.trainReward.disabled = !workerReady || busy !== null || pairs < MIN_LOOP_ANSWERS;
  ui.loopTune.disabled = !workerReady || busy !== null || rewardModel === null;
  ui.loopStop.disabled = busy !== 'tune';
  ui.loopListen.disabled = busy !== null || tuned === null || !kernels;
}

ui.trainReward.addEventListener('click', () => {
  const pairs = answeredPairs(answers);
  if (pairs.length < MIN_LOOP_ANSWERS || busy) return;
  busy = 'train';
  updateLoopButtons();
  ui.trainProgress.value = 0;
  setStatus(ui.trainStatus, 'running', `Training on ${pairs.length} answers…`);
  send({ type: 'train-reward', pairs });
});

ui.loopTune.addEventListener('click', () => {
  const steps = readNumberField(ui.loopSteps, LOOP_STEPS);
  if (steps === null || !rewardModel || busy) return;
  busy = 'tune';
  smoothedStepsPerSecond = 0;
  updateLoopButtons();
  ui.loopTuneProgress.value = 0;
  const numNotes = loopLength(answeredPairs(answers));
  setStatus(ui.loopTuneStatus, 'running', `Tuning on the reward model: ${steps.toLocaleString('en')} steps of ${numNotes}-step melodies…`);
  send({ type: 'tune', rewardModel: rewardModel.slice(0), steps, numNotes, seed: 1 });
});
ui.loopStop.addEventListener('click', () => send({ type: 'stop' }));

ui.loopListen.addEventListener('click', () => {
  const count = readNumberField(ui.pairCount, PAIR_COUNT);
  if (count === null || !tuned || !noteRnn) return;
  let policy: Policy;
  try {
    policy = policyFromBytes(new Uint8Array(tuned.bytes), 'tuned here');
  } catch (error) {
    setStatus(ui.loopTuneStatus, 'error', `The tuned model could not be read: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  const base: Policy = { name: NOTE_RNN_NAME, models: [noteRnn], numNotes: policy.numNotes, temperature: policy.temperature };
  const seed = sessionSeed();
  beginSession(seed, [base.name, policy.name], comparisonPairs([base, policy], count, new Random(seed)),
    `Session ${seed}: ${count} pair${count === 1 ? '' : 's'} of ${base.name} and the model tuned here on your answers.`);
});

worker.onmessage = (event: MessageEvent<FromListenWorker>) => {
  const m = event.data;
  switch (m.type) {
    case 'ready':
      workerReady = true;
      updateLoopButtons();
      break;
    case 'reward-progress':
      ui.trainProgress.value = Math.min(1, (m.epoch - 1 + m.done / Math.max(1, m.total)) / m.epochs);
      ui.trainStatus.textContent = `${rewardProgressText(m.epoch, m.epochs, m.secondsPerEpoch)} · train loss ${m.loss.toFixed(3)}`;
      break;
    case 'reward-trained':
      busy = null;
      rewardModel = m.modelBytes;
      ui.trainProgress.value = 1;
      setStatus(ui.trainStatus, 'done', rewardSummaryText(m.summary));
      ui.loopAnnounce.textContent = 'Reward model trained.';
      offerDownload(ui.downloadRewardModel, m.modelBytes);
      updateLoopButtons();
      break;
    case 'tune-progress': {
      if (m.stepsPerSecond > 0) smoothedStepsPerSecond = smoothedStepsPerSecond > 0 ? 0.7 * smoothedStepsPerSecond + 0.3 * m.stepsPerSecond : m.stepsPerSecond;
      ui.loopTuneProgress.value = Math.min(1, m.step / m.totalSteps);
      const left = secondsLeft(m.step, m.totalSteps, smoothedStepsPerSecond);
      ui.loopTuneStatus.textContent = `step ${m.step.toLocaleString('en')} / ${m.totalSteps.toLocaleString('en')} · ` +
        `${Math.round(smoothedStepsPerSecond).toLocaleString('en')} steps/s · ${left !== null ? `about ${duration(left)} left` : 'estimating time left'} · ` +
        `reward model's score ${Number.isFinite(m.preferenceScore) ? m.preferenceScore.toFixed(2) : '–'}`;
      break;
    }
    case 'tuned':
      busy = null;
      tuned = { bytes: m.modelBytes, numNotes: m.numNotes };
      ui.loopTuneProgress.value = 1;
      setStatus(ui.loopTuneStatus, 'done', `${m.stopped ? 'Stopped' : 'Tuned'} after ${m.steps.toLocaleString('en')} steps in ${m.seconds.toFixed(1)} s: listen to it against the Note RNN below.`);
      ui.loopAnnounce.textContent = 'Tuning done.';
      offerDownload(ui.downloadLoopModel, m.modelBytes);
      updateLoopButtons();
      break;
    case 'error':
      busy = null;
      setStatus(m.during === 'tune' ? ui.loopTuneStatus : m.during === 'train-reward' ? ui.trainStatus : ui.status, 'error', `Error: ${m.message}`);
      updateLoopButtons();
      break;
  }
};
worker.onerror = (e) => setStatus(ui.trainStatus, 'error', `Worker failed: ${e.message}`);

// ---- start ------------------------------------------------------------------------------------------

async function start(): Promise<void> {
  const [k, bytes] = await Promise.all([
    loadKernels(fetch(wasmUrl)),
    fetch(modelUrl).then(async (r) => {
      if (!r.ok) throw new Error(`fetching the Note RNN (${modelUrl}) failed with HTTP ${r.status}; reload the page`);
      return new Uint8Array(await r.arrayBuffer());
    }),
  ]);
  kernels = k;
  noteRnn = loadNoteRnn(k, bytes, 2).model;
  send({ type: 'init', module: k.module as WebAssembly.Module, noteRnn: bytes.slice().buffer });
  setStatus(ui.status, 'ready', 'Ready: the kernels and the shipped Note RNN are loaded.');
  updateSetup();
  updateLoopButtons();
}

showResults();
start().catch(fail);
