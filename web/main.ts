/**
 * The page: loads the kernels (compiled once, here) and the default Note RNN, generates and plays
 * melodies (tempo, instrument, the key and mode they are heard in, loop; Web MIDI output where the
 * browser has it), offers them as MIDI in the key they are written in, takes a primer MIDI, tunes in a
 * Web Worker (handed the compiled module) in the key and mode asked for, with a progress bar, time left
 * from the measured speed and a live reward chart, saves and loads tuned models, and compares Note RNN
 * and tuned samples side by side with a synced A/B toggle and the paper's evaluation table.
 *
 * Stable hooks for tests: #status[data-state], #roll-*[data-note-count][data-tokens][data-key],
 * #download-*[href][data-key], #tune-status[data-state], #tune-estimate, #tune-progress[data-step], #reward-chart[data-points],
 * #compare-section[data-ready][data-seed][data-audible], #ab-play[data-gains], #model-status[data-state],
 * #primer-status[data-state]; invalid fields get aria-invalid and a message #<id>-error.
 */
import wasmUrl from '../dist/rltuner.wasm?url';
import sharedWasmUrl from '../dist/rltuner-shared.wasm?url';
import modelUrl from '../models/note_rnn.safetensors?url';
import {
  compositionToMidi, generate, importMidi, keyName, keyNamed, loadKernels, loadNoteRnn, tokenName, tokensToNotes, type Key, type LstmModel,
} from '../src/index.js';
import { EVALUATION_ROWS } from '../src/eval/report.js';
import { numberProblem, readNumberField, watchNumberField, type NumberFieldSpec } from './fields.js';
import { PAPER_COLUMN_LABELS, PAPER_VALUES, type PaperColumn } from './paper_table.js';
import { drawPianoRoll, type RollStyle } from './piano_roll.js';
import {
  C_MAJOR, heardKey, KEY_NAMES, MODE_LABELS, MODE_NAMES, mapNotes, TONIC_BY_PITCH_CLASS, type HeardAs, type Mode,
} from './pitch_map.js';
import { duration, runEstimate, secondsLeft, type MeasuredRun } from './estimate.js';
import type { FromWorker, ProgressPoint, ToWorker, TunedModelInfo, TuneRequest } from './protocol.js';
import { fileSizeProblem } from './loaded_files.js';
import { drawLegend, drawRewardChart } from './reward_chart.js';
import { playTracks, selectMidiProgram, VOICE_LABELS, VOICE_MIDI_PROGRAMS, VOICES, type Playback, type Voice } from './synth.js';

const $ = <T extends HTMLElement | SVGSVGElement = HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page: no element #${id}`);
  return e as T;
};

const status = $('status');
const ui = {
  tempo: $<HTMLInputElement>('tempo'),
  voice: $<HTMLSelectElement>('voice'),
  key: $<HTMLSelectElement>('key'),
  mode: $<HTMLSelectElement>('mode'),
  loop: $<HTMLInputElement>('loop'),
  midiRow: $('midi-row'),
  midiEnable: $<HTMLButtonElement>('midi-enable'),
  midiOutput: $<HTMLSelectElement>('midi-output'),
  midiStatus: $('midi-status'),
  genLength: $<HTMLInputElement>('gen-length'),
  genTemperature: $<HTMLInputElement>('gen-temperature'),
  genSeed: $<HTMLInputElement>('gen-seed'),
  generate: $<HTMLButtonElement>('generate'),
  generateNext: $<HTMLButtonElement>('generate-next'),
  playMain: $<HTMLButtonElement>('play-main'),
  download: $<HTMLAnchorElement>('download-midi'),
  primerFile: $<HTMLInputElement>('primer-file'),
  primerClear: $<HTMLButtonElement>('primer-clear'),
  primerStatus: $('primer-status'),
  rollMain: $<HTMLCanvasElement>('roll-main'),
  tokens: $('gen-tokens'),
  tuneAlgorithm: $<HTMLSelectElement>('tune-algorithm'),
  tuneSteps: $<HTMLInputElement>('tune-steps'),
  tuneSeed: $<HTMLInputElement>('tune-seed'),
  tuneKey: $<HTMLSelectElement>('tune-key'),
  tuneMode: $<HTMLSelectElement>('tune-mode'),
  tuneEstimate: $('tune-estimate'),
  tune: $<HTMLButtonElement>('tune'),
  tuneStop: $<HTMLButtonElement>('tune-stop'),
  tuneProgress: $<HTMLProgressElement>('tune-progress'),
  tuneStatus: $('tune-status'),
  tuneAnnounce: $('tune-announce'),
  chart: $<SVGSVGElement>('reward-chart'),
  legend: $('reward-legend'),
  rewardNote: $('reward-note'),
  downloadModel: $<HTMLAnchorElement>('download-model'),
  loadModel: $<HTMLInputElement>('load-model'),
  modelStatus: $('model-status'),
  compare: $('compare-section'),
  compareSeed: $<HTMLInputElement>('compare-seed'),
  sample: $<HTMLButtonElement>('compare-sample'),
  resample: $<HTMLButtonElement>('compare-resample'),
  abPlay: $<HTMLButtonElement>('ab-play'),
  abNoteRnn: $<HTMLButtonElement>('ab-note-rnn'),
  abTuned: $<HTMLButtonElement>('ab-tuned'),
  rollNoteRnn: $<HTMLCanvasElement>('roll-note-rnn'),
  rollTuned: $<HTMLCanvasElement>('roll-tuned'),
  playNoteRnn: $<HTMLButtonElement>('play-note-rnn'),
  playTuned: $<HTMLButtonElement>('play-tuned'),
  downloadNoteRnn: $<HTMLAnchorElement>('download-note-rnn'),
  downloadTuned: $<HTMLAnchorElement>('download-tuned'),
  evaluation: $<HTMLTableElement>('evaluation'),
  evaluationCount: $('evaluation-count'),
  paperTunedColumn: $('paper-tuned-column'),
  referenceColumn: $('reference-column'),
  evaluationReference: $('evaluation-reference'),
};

const NOTE_RNN_STYLE: RollStyle = { noteColor: '#2f6fd0', name: 'Note RNN melody' };
const TUNED_STYLE: RollStyle = { noteColor: '#c8640f', name: 'Tuned melody' };
const MAIN_STYLE: RollStyle = { noteColor: '#2f6fd0', name: 'Generated melody' };
/** Compositions per model in the evaluation after tuning (the CLI's default, config evalCompositions). */
const EVALUATION_COUNT = 1000;
/** The longest primer fed to the model; a longer one is cut (and the page says so). */
const MAX_PRIMER_STEPS = 256;
const MAX_SEED = 4_294_967_295;

const FIELDS = {
  tempo: { name: 'Tempo', min: 40, max: 240, integer: true, unit: 'BPM' },
  genLength: { name: 'Length', min: 8, max: 256, integer: true, unit: 'steps' },
  genTemperature: {
    name: 'Temperature', min: 0.05, max: 3,
    explain: (t) => (t >= 0 && t < 0.05
      ? `Temperature ${t} is below 0.05. At temperature 0 the Note RNN always takes its single most likely next step, ` +
        'and after any note that is “hold”, so the melody would be nothing but holds (silence). ' +
        'Use 0.05 to 0.3 for the most predictable melodies that still move.'
      : null),
  },
  genSeed: { name: 'Seed', min: 0, max: MAX_SEED, integer: true },
  tuneSteps: { name: 'Training steps', min: 1000, max: 1_000_000, integer: true, unit: 'steps' },
  tuneSeed: { name: 'Seed', min: 0, max: MAX_SEED, integer: true },
  compareSeed: { name: 'Seed', min: 0, max: MAX_SEED, integer: true },
} satisfies Record<string, NumberFieldSpec>;
for (const [field, spec] of Object.entries(FIELDS)) watchNumberField(ui[field as keyof typeof FIELDS], spec);
const readField = (field: keyof typeof FIELDS): number | null => readNumberField(ui[field], FIELDS[field]);

function setStatus(element: HTMLElement, state: string, text: string): void {
  element.dataset.state = state;
  element.textContent = text;
}

function fail(error: unknown): void {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  setStatus(status, 'error', `Error: ${message}`);
  console.error(error);
}
window.addEventListener('error', (e) => fail(e.error ?? e.message));
window.addEventListener('unhandledrejection', (e) => fail(e.reason));

// ---- playback settings --------------------------------------------------------------------------

for (const voice of VOICES) ui.voice.append(new Option(VOICE_LABELS[voice], voice));
ui.key.append(new Option('as written', ''));
KEY_NAMES.forEach((name, i) => ui.key.append(new Option(name, String(i))));
ui.mode.append(new Option('as written', ''));
for (const mode of MODE_NAMES) ui.mode.append(new Option(MODE_LABELS[mode], mode));
// The tune's key: the library's tonic names (config `key`), shown as the playback names.
KEY_NAMES.forEach((name, i) => ui.tuneKey.append(new Option(name, TONIC_BY_PITCH_CLASS[i])));
for (const mode of MODE_NAMES) ui.tuneMode.append(new Option(MODE_LABELS[mode], mode));

const settings = (): { bpm: number; voice: Voice; heard: HeardAs; loop: boolean } => ({
  bpm: readField('tempo') ?? 120,
  voice: ui.voice.value as Voice,
  heard: { tonic: ui.key.value === '' ? null : Number(ui.key.value), mode: ui.mode.value === '' ? null : ui.mode.value as Mode },
  loop: ui.loop.checked,
});

// ---- piano rolls, playback, MIDI links ----------------------------------------------------------

interface Roll {
  tokens: Uint8Array;
  style: RollStyle;
  /** The key the melody is written in (C major for the Note RNN's, the tuned key for a tuned model's). */
  key: Key;
}
const rolls = new Map<HTMLCanvasElement, Roll>();

const notesAsHeard = (roll: Roll) => mapNotes(tokensToNotes(roll.tokens), roll.key, settings().heard);

/** Draws a roll as heard; `silent` draws it hollow (a track playing silently beside the heard one). */
function drawRoll(canvas: HTMLCanvasElement, playheadStep?: number, silent = false): void {
  const roll = rolls.get(canvas);
  if (!roll) return;
  drawPianoRoll(canvas, notesAsHeard(roll), roll.tokens.length, roll.style, heardKey(roll.key, settings().heard), { playheadStep, hollow: silent });
}

function showRoll(canvas: HTMLCanvasElement, tokens: Uint8Array, style: RollStyle, key: Key): void {
  rolls.set(canvas, { tokens, style, key });
  canvas.dataset.tokens = Array.from(tokens).join(',');
  canvas.dataset.writtenKey = keyName(key);
  drawRoll(canvas);
}

interface Playing {
  playback: Playback;
  /** The button that stops it, and the rolls it draws a playhead on (in track order). */
  button: HTMLButtonElement;
  canvases: HTMLCanvasElement[];
  label: string;
}
let playing: Playing | null = null;

function stopPlaying(): void {
  if (!playing) return;
  const { playback, button, canvases, label } = playing;
  playing = null;
  playback.stop();
  button.dataset.playing = 'false';
  button.textContent = label;
  delete ui.abPlay.dataset.gains;
  for (const canvas of canvases) drawRoll(canvas);
}

/** Plays the rolls of `canvases` in lockstep (one heard at a time), or stops if `button` is already playing. */
function togglePlay(button: HTMLButtonElement, canvases: HTMLCanvasElement[], audible = 0): void {
  const wasThis = playing?.button === button;
  const label = wasThis ? playing!.label : button.textContent ?? '';
  stopPlaying();
  if (wasThis) return;
  const tracks = canvases.map((c) => rolls.get(c)).filter((r): r is Roll => r !== undefined)
    .map((r) => ({ notes: notesAsHeard(r), steps: r.tokens.length }));
  if (tracks.length !== canvases.length) return;
  const s = settings();
  const output = midiOutput();
  if (output) selectMidiProgram(output, s.voice);
  const playback = playTracks(tracks, { bpm: s.bpm, voice: s.voice, loop: s.loop, audible, midiOutput: output, muted: output !== null });
  playing = { playback, button, canvases, label };
  button.dataset.playing = 'true';
  button.textContent = canvases.length > 1 ? '■ Stop A/B' : '■ Stop';
  const current = playing;
  const frame = (): void => {
    if (playing !== current) return;
    const position = current.playback.position();
    if (position === null) return stopPlaying();
    current.canvases.forEach((canvas, i) => drawRoll(canvas, position, canvases.length > 1 && i !== current.playback.audible()));
    if (canvases.length > 1) ui.abPlay.dataset.gains = current.playback.gains().map((g) => g.toFixed(2)).join(',');
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

/** Playback settings changed: redraw, and restart what plays with the new settings. */
function settingsChanged(): void {
  rolls.forEach((_, canvas) => drawRoll(canvas));
  refreshMidiLinks();
  if (playing) {
    const { button, canvases, playback } = playing;
    const audible = playback.audible();
    togglePlay(button, canvases); // stops
    togglePlay(button, canvases, audible); // starts again
  }
}
for (const control of [ui.voice, ui.key, ui.mode, ui.loop]) control.addEventListener('change', settingsChanged);
ui.tempo.addEventListener('change', () => readField('tempo') !== null && settingsChanged());
window.addEventListener('resize', () => {
  rolls.forEach((_, canvas) => drawRoll(canvas));
  redrawChart();
});

const midiLinks = new Map<HTMLAnchorElement, { tokens: Uint8Array; key: Key; url: string }>();
/** Offers the melody as a MIDI file, as written: its notes, its key's signature, the tempo and instrument. */
function offerMidi(link: HTMLAnchorElement, tokens: Uint8Array, key: Key): void {
  const previous = midiLinks.get(link);
  if (previous) URL.revokeObjectURL(previous.url);
  const { bpm, voice } = settings();
  const bytes = compositionToMidi(tokens, { qpm: bpm, program: VOICE_MIDI_PROGRAMS[voice], key });
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'audio/midi' }));
  midiLinks.set(link, { tokens, key, url });
  link.href = url;
  link.dataset.key = keyName(key);
  link.classList.remove('disabled');
  link.removeAttribute('aria-disabled');
}
function refreshMidiLinks(): void {
  midiLinks.forEach(({ tokens, key }, link) => offerMidi(link, tokens, key));
}

// ---- Web MIDI output (only where the browser has it) --------------------------------------------

let midiAccess: MIDIAccess | null = null;
ui.midiRow.hidden = typeof navigator.requestMIDIAccess !== 'function';

function midiOutput(): MIDIOutput | null {
  return (midiAccess && ui.midiOutput.value && midiAccess.outputs.get(ui.midiOutput.value)) || null;
}

function listMidiOutputs(): void {
  if (!midiAccess) return;
  const chosen = ui.midiOutput.value;
  ui.midiOutput.replaceChildren(new Option("none: this page's synth", ''));
  midiAccess.outputs.forEach((output) => ui.midiOutput.append(new Option(output.name ?? output.id, output.id)));
  ui.midiOutput.value = midiAccess.outputs.has(chosen) ? chosen : '';
  ui.midiOutput.disabled = false;
  ui.midiStatus.textContent = midiAccess.outputs.size
    ? `${midiAccess.outputs.size} MIDI output${midiAccess.outputs.size === 1 ? '' : 's'} found; choosing one plays there instead of here.`
    : 'No MIDI output is connected; connect one and it appears here.';
}

ui.midiEnable.addEventListener('click', async () => {
  try {
    midiAccess = await navigator.requestMIDIAccess();
    midiAccess.onstatechange = listMidiOutputs;
    listMidiOutputs();
    ui.midiEnable.hidden = true;
  } catch (error) {
    ui.midiStatus.textContent = `MIDI output unavailable: ${error instanceof Error ? error.message : String(error)} (allow MIDI for this page in the browser's site settings).`;
  }
});
ui.midiOutput.addEventListener('change', settingsChanged);

// ---- primer --------------------------------------------------------------------------------------

let primer: { name: string; tokens: Uint8Array } | null = null;

ui.primerFile.addEventListener('change', async () => {
  const file = ui.primerFile.files?.[0];
  if (!file) return;
  try {
    const tooLarge = fileSizeProblem(file, 'midi');
    if (tooLarge) throw new Error(tooLarge);
    const imported = importMidi(new Uint8Array(await file.arrayBuffer()), { name: file.name });
    const cut = imported.tokens.length > MAX_PRIMER_STEPS;
    primer = { name: file.name, tokens: imported.tokens.slice(0, MAX_PRIMER_STEPS) };
    const moved = imported.transposition ? `, transposed ${imported.transposition > 0 ? 'up' : 'down'} ${Math.abs(imported.transposition)} semitone(s) to ${imported.tokensKey}` : '';
    setStatus(ui.primerStatus, 'loaded',
      `Primer: ${file.name}, ${imported.noteCount} notes, ${imported.tokens.length} steps${moved}` +
      `${cut ? `; only its first ${MAX_PRIMER_STEPS} steps are used` : ''}. Melodies, tuning and samples start from it.`);
    ui.primerClear.disabled = false;
    generateMelody();
  } catch (error) {
    primer = null;
    ui.primerClear.disabled = true;
    setStatus(ui.primerStatus, 'error',
      `Could not use ${file.name} as a primer: ${error instanceof Error ? error.message : String(error)}. ` +
      'Choose a Standard MIDI File (.mid) with a melody of at least 8 sixteenth-note steps.');
  }
});
ui.primerClear.addEventListener('click', () => {
  primer = null;
  ui.primerFile.value = '';
  ui.primerClear.disabled = true;
  setStatus(ui.primerStatus, 'none', 'No primer: each melody starts from one random note.');
});
const primerTokens = (): number[] | null => (primer ? Array.from(primer.tokens) : null);

// ---- 1. generate --------------------------------------------------------------------------------

let noteRnn: LstmModel | null = null;

function generateMelody(): void {
  if (!noteRnn) return;
  const length = readField('genLength');
  const temperature = readField('genTemperature');
  const seed = readField('genSeed');
  if (length === null || temperature === null || seed === null) return;
  stopPlaying();
  const tokens = generate(noteRnn, { count: 1, length, temperature, seed, primer: primer?.tokens })[0];
  showRoll(ui.rollMain, tokens, MAIN_STYLE, C_MAJOR);
  ui.rollMain.dataset.seed = String(seed);
  offerMidi(ui.download, tokens, C_MAJOR);
  ui.download.download = `rltuner-seed${seed}.mid`;
  ui.playMain.disabled = false;
  // The Seed field keeps the seed of the melody shown (Generate again gives it back); "New melody" moves on.
  ui.tokens.textContent = `seed ${seed}: ${Array.from(tokens, tokenName).join(' ')}`;
}

ui.generate.addEventListener('click', generateMelody);
ui.generateNext.addEventListener('click', () => {
  const seed = readField('genSeed');
  if (seed === null) return;
  ui.genSeed.value = String(seed >= MAX_SEED ? 0 : seed + 1);
  generateMelody();
});
ui.playMain.addEventListener('click', () => togglePlay(ui.playMain, [ui.rollMain]));

// ---- 2. tune in a worker ------------------------------------------------------------------------

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (message: ToWorker, transfer: Transferable[] = []): void => worker.postMessage(message, transfer);
let points: ProgressPoint[] = [];
let totalSteps = 0;
let chartQueued = false;
let smoothedStepsPerSecond = 0;
let announcedTenth = -1;
let modelUrlOffered: string | null = null;
/** The algorithm of the run the chart shows. */
let chartAlgorithm = ui.tuneAlgorithm.value;
/** What the last finished run measured in this tab (for the estimate of the next one). */
let lastRun: MeasuredRun | null = null;

drawLegend(ui.legend);

function redrawChart(): void {
  if (chartQueued) return;
  chartQueued = true;
  requestAnimationFrame(() => {
    chartQueued = false;
    drawRewardChart(ui.chart, points, totalSteps, chartAlgorithm, ui.rewardNote);
  });
}

/** The estimate under the Tune button: from the last run's measured speed, never a fixed claim. */
function showEstimate(): void {
  // Read without marking the field: its own messages come from watchNumberField.
  if (numberProblem(ui.tuneSteps.value, FIELDS.tuneSteps) !== null) return;
  ui.tuneEstimate.textContent = runEstimate(Number(ui.tuneSteps.value), lastRun);
  ui.tuneEstimate.dataset.stepsPerSecond = lastRun ? String(Math.round(lastRun.stepsPerSecond)) : '';
}
ui.tuneSteps.addEventListener('input', showEstimate);

ui.tune.addEventListener('click', () => {
  const trainingSteps = readField('tuneSteps');
  const seed = readField('tuneSeed');
  if (trainingSteps === null || seed === null) return;
  stopPlaying();
  const request: TuneRequest = {
    algorithm: ui.tuneAlgorithm.value as TuneRequest['algorithm'],
    trainingSteps,
    explorationSteps: Math.floor(trainingSteps / 2),
    // About 200 points on the chart (the default run logs every 1,000 steps, as the CLI does).
    logEvery: Math.max(100, Math.round(trainingSteps / 200 / 100) * 100),
    seed,
    key: ui.tuneKey.value,
    mode: ui.tuneMode.value,
    evaluationCount: EVALUATION_COUNT,
    primer: primerTokens(),
  };
  points = [];
  totalSteps = trainingSteps;
  smoothedStepsPerSecond = 0;
  announcedTenth = -1;
  chartAlgorithm = request.algorithm;
  drawRewardChart(ui.chart, points, totalSteps, chartAlgorithm, ui.rewardNote);
  ui.tuneProgress.value = 0;
  ui.tuneProgress.dataset.step = '0';
  ui.tune.disabled = true;
  ui.tuneStop.disabled = false;
  ui.loadModel.disabled = true;
  setComparing(false);
  ui.compareSeed.value = String(seed);
  setStatus(ui.tuneStatus, 'running', `Tuning ${request.algorithm} in ${keyName(keyNamed(request.key, request.mode))} for ${trainingSteps.toLocaleString('en')} steps; measuring the speed…`);
  ui.tuneAnnounce.textContent = `Tuning started: ${trainingSteps.toLocaleString('en')} steps.`;
  send({ type: 'tune', request });
});
ui.tuneStop.addEventListener('click', () => send({ type: 'stop' }));

// ---- tuned model: save and load -----------------------------------------------------------------

function describeModel(model: TunedModelInfo): string {
  const names: Record<string, string> = { q: 'Q-learning', psi: 'Ψ-learning', g: 'G-learning (acts with the page’s Note RNN)', pg: 'the policy gradient (pg)', note_rnn: 'a Note RNN' };
  const steps = model.steps ? `, ${model.steps.toLocaleString('en')} steps` : '';
  return `${names[model.algorithm] ?? model.algorithm}${steps}, ${model.numNotes}-step melodies in ${keyName(model.key)} at temperature ${model.temperature}`;
}

ui.loadModel.addEventListener('change', async () => {
  const file = ui.loadModel.files?.[0];
  if (!file) return;
  const seed = readField('compareSeed');
  if (seed === null) return;
  stopPlaying();
  const tooLarge = fileSizeProblem(file, 'model');
  if (tooLarge) {
    setStatus(ui.modelStatus, 'error', `Could not load that model: ${tooLarge}. Choose a .safetensors file saved from this page (or by rltuner tune).`);
    return;
  }
  setStatus(ui.modelStatus, 'loading', `Loading ${file.name}…`);
  const bytes = await file.arrayBuffer();
  send({ type: 'load-model', name: file.name, bytes, seed, primer: primerTokens() }, [bytes]);
});

// ---- 3. compare: samples, A/B, evaluation --------------------------------------------------------

let audibleSide = 0; // 0: A (Note RNN), 1: B (tuned)

function setComparing(ready: boolean): void {
  for (const b of [ui.sample, ui.resample, ui.abPlay, ui.abNoteRnn, ui.abTuned, ui.playNoteRnn, ui.playTuned]) b.disabled = !ready;
  ui.compare.dataset.ready = String(ready);
}

function requestSamples(seed: number): void {
  stopPlaying();
  ui.compare.dataset.ready = 'false';
  send({ type: 'sample', seed, primer: primerTokens() });
}
ui.sample.addEventListener('click', () => {
  const seed = readField('compareSeed');
  if (seed !== null) requestSamples(seed);
});
ui.resample.addEventListener('click', () => {
  const seed = readField('compareSeed');
  if (seed === null) return;
  const next = seed >= MAX_SEED ? 0 : seed + 1;
  ui.compareSeed.value = String(next);
  requestSamples(next);
});
ui.playNoteRnn.addEventListener('click', () => togglePlay(ui.playNoteRnn, [ui.rollNoteRnn]));
ui.playTuned.addEventListener('click', () => togglePlay(ui.playTuned, [ui.rollTuned]));
ui.abPlay.addEventListener('click', () => togglePlay(ui.abPlay, [ui.rollNoteRnn, ui.rollTuned], audibleSide));

function hear(side: number): void {
  audibleSide = side;
  ui.abNoteRnn.setAttribute('aria-pressed', String(side === 0));
  ui.abTuned.setAttribute('aria-pressed', String(side === 1));
  ui.compare.dataset.audible = side === 0 ? 'note-rnn' : 'tuned';
  if (playing?.button === ui.abPlay) playing.playback.setAudible(side);
}
ui.abNoteRnn.addEventListener('click', () => hear(0));
ui.abTuned.addEventListener('click', () => hear(1));

function showEvaluation(evaluation: NonNullable<Extract<FromWorker, { type: 'done' }>['evaluation']>, algorithm: string): void {
  const paperColumn = (algorithm in PAPER_COLUMN_LABELS ? algorithm : 'q') as PaperColumn;
  ui.paperTunedColumn.textContent = `paper, ${PAPER_COLUMN_LABELS[paperColumn]}`;
  ui.referenceColumn.textContent = evaluation.reference ? `data: ${evaluation.reference.name}` : 'data';
  ui.evaluationReference.textContent = evaluation.reference ? evaluation.reference.note : 'No data reference at this composition length.';
  const body = ui.evaluation.tBodies[0];
  body.replaceChildren(...evaluation.rows.map((values) => {
    const row = EVALUATION_ROWS.find((r) => r.key === values.key);
    const show = (x: number | null | undefined): string => (x === null || x === undefined || !row ? '–' : row.format(x));
    const paper = PAPER_VALUES[values.key];
    const tr = document.createElement('tr');
    tr.dataset.key = values.key;
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = values.label;
    tr.append(th);
    const reference = values.reference === undefined ? '' : show(values.reference);
    for (const text of [show(values.noteRnn), show(values.tuned), reference, show(paper?.note_rnn), show(paper?.[paperColumn])]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    return tr;
  }));
  ui.evaluationCount.textContent = evaluation.compositions.toLocaleString('en');
  ui.evaluation.hidden = false;
}

// ---- messages from the worker -------------------------------------------------------------------

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const m = event.data;
  switch (m.type) {
    case 'ready':
      workerReady = true;
      tuneThreads = m.threads;
      ui.tuneStatus.dataset.threads = String(m.threads);
      ui.tune.disabled = false;
      showReady();
      break;
    case 'progress': {
      points.push(...m.points);
      totalSteps = m.totalSteps;
      const p = m.points[m.points.length - 1];
      if (!p) break;
      if (m.stepsPerSecond > 0) {
        smoothedStepsPerSecond = smoothedStepsPerSecond > 0 ? 0.7 * smoothedStepsPerSecond + 0.3 * m.stepsPerSecond : m.stepsPerSecond;
      }
      const fraction = Math.min(1, p.step / m.totalSteps);
      ui.tuneProgress.value = fraction;
      ui.tuneProgress.dataset.step = String(p.step);
      const left = secondsLeft(p.step, m.totalSteps, smoothedStepsPerSecond);
      ui.tuneStatus.textContent =
        `step ${p.step.toLocaleString('en')} / ${m.totalSteps.toLocaleString('en')} · ` +
        `${Math.round(smoothedStepsPerSecond).toLocaleString('en')} steps/s on ${threadsLabel()} · ` +
        `${left !== null ? `about ${duration(left)} left` : 'estimating time left'} · reward ${p.total.toFixed(2)}`;
      const tenth = Math.floor(fraction * 10);
      if (tenth > announcedTenth && tenth < 10) {
        announcedTenth = tenth;
        if (tenth > 0) ui.tuneAnnounce.textContent = `Tuning ${tenth * 10}% done${left !== null ? `, about ${duration(left)} left` : ''}.`;
      }
      redrawChart();
      break;
    }
    case 'evaluating':
      ui.tuneStatus.textContent = `Training done; evaluating ${m.compositions.toLocaleString('en')} compositions per model for the table…`;
      ui.tuneAnnounce.textContent = 'Training done; evaluating.';
      break;
    case 'done': {
      ui.tune.disabled = false;
      ui.tuneStop.disabled = true;
      ui.loadModel.disabled = false;
      ui.tuneProgress.value = m.steps / Math.max(1, totalSteps);
      ui.tuneProgress.dataset.step = String(m.steps);
      const training = m.seconds - m.evaluationSeconds;
      if (!m.stopped && m.steps > 0 && training > 0) {
        lastRun = { stepsPerSecond: m.steps / training, evaluationSeconds: m.evaluationSeconds, threads: threadsLabel() };
        showEstimate();
      }
      const text =
        `${m.stopped ? 'Stopped' : 'Tuned'} after ${m.steps.toLocaleString('en')} steps in ${m.seconds.toFixed(1)} s ` +
        `(${Math.round(m.steps / Math.max(1e-9, training)).toLocaleString('en')} steps/s on ${threadsLabel()}` +
        `${m.evaluationSeconds > 0 ? `; the evaluation took ${m.evaluationSeconds.toFixed(1)} s` : ''}).`;
      setStatus(ui.tuneStatus, 'done', text);
      ui.tuneAnnounce.textContent = text;
      if (modelUrlOffered) URL.revokeObjectURL(modelUrlOffered);
      modelUrlOffered = URL.createObjectURL(new Blob([m.modelBytes], { type: 'application/octet-stream' }));
      ui.downloadModel.href = modelUrlOffered;
      ui.downloadModel.download = `rltuner-${m.model.algorithm}-${m.steps}steps-seed${ui.tuneSeed.value}.safetensors`;
      ui.downloadModel.classList.remove('disabled');
      ui.downloadModel.removeAttribute('aria-disabled');
      setStatus(ui.modelStatus, 'tuned', `Tuned here: ${describeModel(m.model)}.`);
      if (m.evaluation) showEvaluation(m.evaluation, m.model.algorithm);
      else ui.evaluation.hidden = true;
      break;
    }
    case 'model-loaded':
      ui.evaluation.hidden = true;
      setStatus(ui.modelStatus, 'loaded', `Loaded ${m.model.source}: ${describeModel(m.model)}.`);
      break;
    case 'samples':
      stopPlaying();
      showRoll(ui.rollNoteRnn, m.noteRnn, NOTE_RNN_STYLE, C_MAJOR);
      showRoll(ui.rollTuned, m.tuned, TUNED_STYLE, m.tunedKey);
      offerMidi(ui.downloadNoteRnn, m.noteRnn, C_MAJOR);
      offerMidi(ui.downloadTuned, m.tuned, m.tunedKey);
      ui.compare.dataset.seed = String(m.seed);
      setComparing(true);
      break;
    case 'error':
      if (m.during === 'load-model') {
        setStatus(ui.modelStatus, 'error', `Could not load that model: ${m.message}. Choose a .safetensors file saved from this page (or by rltuner tune).`);
      } else if (m.during === 'tune') {
        ui.tune.disabled = false;
        ui.tuneStop.disabled = true;
        ui.loadModel.disabled = false;
        setStatus(ui.tuneStatus, 'error', `Error in the worker: ${m.message}`);
      } else {
        setStatus(status, 'error', `Error in the worker (${m.during}): ${m.message}`);
      }
      break;
  }
};
worker.onerror = (e) => setStatus(ui.tuneStatus, 'error', `Worker failed: ${e.message}`);

// ---- start --------------------------------------------------------------------------------------

async function start(): Promise<void> {
  const [kernels, modelBytes] = await Promise.all([
    loadKernels(fetch(wasmUrl)),
    fetch(modelUrl).then(async (r) => {
      if (!r.ok) throw new Error(`fetching the Note RNN (${modelUrl}) failed with HTTP ${r.status}; reload the page`);
      return new Uint8Array(await r.arrayBuffer());
    }),
  ]);
  // The worker gets the compiled module (no second compile) and its own copy of the model bytes. With
  // ?threads=2 on a cross-origin isolated page (the preview server sends COOP/COEP) it also gets the
  // shared-memory kernels and tunes on two threads: the same bits, but at H = 100 no faster here (web/README.md),
  // so one thread is the default.
  const twoThreads = new URLSearchParams(location.search).get('threads') === '2'
    && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const sharedModule = twoThreads ? await WebAssembly.compileStreaming(fetch(sharedWasmUrl)).catch(() => null) : null;
  send({ type: 'init', module: kernels.module as WebAssembly.Module, sharedModule, model: modelBytes.slice().buffer });
  noteRnn = loadNoteRnn(kernels, modelBytes, 1).model;
  ui.generate.disabled = false;
  ui.generateNext.disabled = false;
  generateMelody();
  showReady();
}

let workerReady = false;
/** Threads the worker tunes on (2 with ?threads=2 on a cross-origin isolated page). */
let tuneThreads = 1;
const threadsLabel = (): string => (tuneThreads === 1 ? '1 thread' : `${tuneThreads} threads`);
function showReady(): void {
  if (status.dataset.state === 'error') return;
  if (noteRnn && workerReady) setStatus(status, 'ready', 'Ready: kernels and the default Note RNN loaded here and in the tuning worker.');
  else if (noteRnn) setStatus(status, 'loading', 'Kernels and Note RNN loaded; starting the tuning worker…');
}

drawRewardChart(ui.chart, [], readField('tuneSteps') ?? 200_000, chartAlgorithm, ui.rewardNote);
showEstimate();
start().catch(fail);
