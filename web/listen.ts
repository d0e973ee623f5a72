/**
 * The blind listening test: two models (the shipped Note RNN or model files), pairs of compositions
 * sampled from the same seed, each pair played as A and B in an order drawn from the page's one random
 * source (seeded from the clock; the seed is recorded with every answer), answers of A / B / no
 * preference kept in localStorage, a CSV export, and each model's win rate with a 95 % Wilson interval.
 *
 * An answer counts only when both melodies were heard: the answer buttons unlock once A and B have each
 * played to the end at least once in this pair (stopping one early does not count; replaying is free).
 * To the end rather than merely started, because a melody is judged by its whole shape, and how it ends
 * (on the tonic, a leap resolved) is part of what the tuning rewards; a pair lasts seconds, not minutes.
 *
 * Stable hooks for tests: #status[data-state], #start, #trial-label[data-trial], #play-a, #play-b,
 * #trial-section[data-heard], #answer-hint, #answer-a, #answer-b, #answer-none, #results[data-answers],
 * #export-csv[href], #clear-answers.
 */
import wasmUrl from '../dist/rltuner.wasm?url';
import modelUrl from '../models/note_rnn.safetensors?url';
import {
  loadKernels, loadNoteRnn, sampleCompositions, tokensToNotes, Random, type Kernels, type LstmModel,
} from '../src/index.js';
import { fileSizeProblem, modelOf, readModelFile } from './loaded_files.js';
import { readNumberField, watchNumberField, type NumberFieldSpec } from './fields.js';
import { answersToCsv, percent, tallyAnswers, type Answer, type AnswerRecord } from './listening_stats.js';
import { playTracks, type Playback } from './synth.js';

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
  model2File: $<HTMLInputElement>('model-2-file'),
  pairCount: $<HTMLInputElement>('pair-count'),
  start: $<HTMLButtonElement>('start'),
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
};

/** The localStorage key of the answers (a JSON array of AnswerRecord). */
const STORAGE_KEY = 'rltuner-listening-answers';
const PAIR_COUNT: NumberFieldSpec = { name: 'Pairs', min: 1, max: 100, integer: true };
const BPM = 120;
const VOICE = 'triangle';
watchNumberField(ui.pairCount, PAIR_COUNT);

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

// ---- answers in the browser ---------------------------------------------------------------------

function isAnswerRecord(x: unknown): x is AnswerRecord {
  const a = x as AnswerRecord;
  return typeof a === 'object' && a !== null && typeof a.sessionSeed === 'number' && typeof a.trial === 'number' &&
    typeof a.model1 === 'string' && typeof a.model2 === 'string' && typeof a.modelA === 'string' && typeof a.modelB === 'string' &&
    typeof a.compositionSeed === 'number' && ['A', 'B', 'none'].includes(a.answer) && typeof a.preferred === 'string' &&
    [a.model1, a.model2, ''].includes(a.preferred) && typeof a.answeredAt === 'string';
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

async function policyFromFile(file: File): Promise<Policy> {
  if (!kernels || !noteRnn) throw new Error('the kernels are still loading');
  const tooLarge = fileSizeProblem(file, 'model');
  if (tooLarge) throw new Error(tooLarge);
  const { decoded, settings } = readModelFile(new Uint8Array(await file.arrayBuffer()), file.name);
  const model = modelOf(kernels, decoded, file.name);
  return {
    name: file.name,
    models: settings.algorithm === 'g' ? [model, noteRnn] : [model],
    numNotes: settings.numNotes,
    temperature: settings.temperature,
  };
}

function updateSetup(): void {
  ui.model1FileLabel.hidden = ui.model1Kind.value !== 'file';
  const ready = kernels !== null && ui.model2File.files?.length === 1 && (ui.model1Kind.value !== 'file' || ui.model1File.files?.length === 1);
  ui.start.disabled = !ready;
  if (kernels && !ready) setStatus(ui.setupStatus, 'idle', ui.model2File.files?.length ? 'Choose a model file for model 1.' : 'Choose a model file for model 2.');
  if (ready) setStatus(ui.setupStatus, 'idle', 'Ready to start.');
}
for (const control of [ui.model1Kind, ui.model1File, ui.model2File]) control.addEventListener('change', updateSetup);

// ---- a session ------------------------------------------------------------------------------------

interface Pair {
  compositionSeed: number;
  /** Which policy plays as A and as B, and their compositions. */
  a: { policy: Policy; tokens: Uint8Array };
  b: { policy: Policy; tokens: Uint8Array };
}

type Side = 'a' | 'b';
let session: { seed: number; policies: [Policy, Policy]; pairs: Pair[]; next: number } | null = null;
let playing: { playback: Playback; button: HTMLButtonElement; label: string; side: Side } | null = null;
/** Which melodies of the current pair have played to the end. */
const heard = { a: false, b: false };

function sample(policy: Policy, seed: number): Uint8Array {
  return sampleCompositions(policy.models, new Random(seed), {
    count: 1, numNotes: policy.numNotes, temperature: policy.temperature, priming: { kind: 'random_note' },
  }).compositions[0];
}

ui.start.addEventListener('click', async () => {
  const count = readNumberField(ui.pairCount, PAIR_COUNT);
  if (count === null || !kernels || !noteRnn) return;
  let policies: [Policy, Policy];
  try {
    const second = await policyFromFile(ui.model2File.files![0]);
    // The shipped Note RNN records no length or temperature: it plays at model 2's, as the tuner's side-by-side
    // does, so a pair never differs in length (which would tell which model made which).
    const first: Policy = ui.model1Kind.value === 'file'
      ? await policyFromFile(ui.model1File.files![0])
      : { name: 'Note RNN (shipped)', models: [noteRnn], numNotes: second.numNotes, temperature: second.temperature };
    if (second.name === first.name) second.name = `${second.name} (model 2)`;
    policies = [first, second];
  } catch (error) {
    setStatus(ui.setupStatus, 'error', `Could not load a model: ${error instanceof Error ? error.message : String(error)}. Choose .safetensors files saved from the tuner.`);
    return;
  }
  // The page's one random source, seeded from the clock (a UI choice, recorded with every answer).
  const seed = Date.now() % 4_294_967_296;
  const rng = new Random(seed);
  const pairs: Pair[] = [];
  for (let i = 0; i < count; i++) {
    const compositionSeed = rng.nextU32();
    const [x, y] = rng.int(2) === 0 ? policies : [policies[1], policies[0]];
    pairs.push({ compositionSeed, a: { policy: x, tokens: sample(x, compositionSeed) }, b: { policy: y, tokens: sample(y, compositionSeed) } });
  }
  session = { seed, policies, pairs, next: 0 };
  setStatus(ui.setupStatus, 'running', `Session ${seed}: ${count} pair${count === 1 ? '' : 's'} of ${policies[0].name} and ${policies[1].name}.`);
  ui.trialSection.hidden = false;
  showTrial();
  ui.playA.focus();
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
  } else {
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
    model1: session.policies[0].name,
    model2: session.policies[1].name,
    modelA: pair.a.policy.name,
    modelB: pair.b.policy.name,
    compositionSeed: pair.compositionSeed,
    answer: choice,
    preferred: choice === 'A' ? pair.a.policy.name : choice === 'B' ? pair.b.policy.name : '',
    answeredAt: new Date().toISOString(),
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
  noteRnn = loadNoteRnn(k, bytes, 1).model;
  setStatus(ui.status, 'ready', 'Ready: the kernels and the shipped Note RNN are loaded.');
  updateSetup();
}

showResults();
start().catch(fail);
