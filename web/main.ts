/**
 * The page: loads the kernels (compiled once, here) and the default Note RNN, generates and plays
 * melodies, offers them as MIDI, and tunes in a Web Worker (handed the compiled module) with a live
 * reward chart, then shows Note RNN and tuned samples side by side.
 *
 * Stable hooks for tests: #status[data-state], #roll-*[data-note-count], #download-*[href],
 * #tune-status[data-state], #reward-chart[data-points], #compare-section[data-ready].
 */
import wasmUrl from '../dist/rltuner.wasm?url';
import modelUrl from '../models/note_rnn.safetensors?url';
import { compositionToMidi, generate, loadKernels, loadNoteRnn, tokenName, tokensToNotes, type LstmModel } from '../src/index.js';
import { drawPianoRoll, type RollNote, type RollStyle } from './piano_roll.js';
import type { EvaluationRow, FromWorker, ProgressPoint, ToWorker, TuneRequest } from './protocol.js';
import { drawRewardChart } from './reward_chart.js';
import { playNotes, type Playback } from './synth.js';

const $ = <T extends HTMLElement | SVGSVGElement = HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page: no element #${id}`);
  return e as T;
};

const status = $('status');
const ui = {
  genLength: $<HTMLInputElement>('gen-length'),
  genTemperature: $<HTMLInputElement>('gen-temperature'),
  genSeed: $<HTMLInputElement>('gen-seed'),
  generate: $<HTMLButtonElement>('generate'),
  playMain: $<HTMLButtonElement>('play-main'),
  download: $<HTMLAnchorElement>('download-midi'),
  rollMain: $<HTMLCanvasElement>('roll-main'),
  tokens: $('gen-tokens'),
  tuneAlgorithm: $<HTMLSelectElement>('tune-algorithm'),
  tuneSteps: $<HTMLInputElement>('tune-steps'),
  tuneSeed: $<HTMLInputElement>('tune-seed'),
  tune: $<HTMLButtonElement>('tune'),
  tuneStop: $<HTMLButtonElement>('tune-stop'),
  tuneProgress: $<HTMLProgressElement>('tune-progress'),
  tuneStatus: $('tune-status'),
  chart: $<SVGSVGElement>('reward-chart'),
  compare: $('compare-section'),
  resample: $<HTMLButtonElement>('compare-resample'),
  rollNoteRnn: $<HTMLCanvasElement>('roll-note-rnn'),
  rollTuned: $<HTMLCanvasElement>('roll-tuned'),
  playNoteRnn: $<HTMLButtonElement>('play-note-rnn'),
  playTuned: $<HTMLButtonElement>('play-tuned'),
  downloadNoteRnn: $<HTMLAnchorElement>('download-note-rnn'),
  downloadTuned: $<HTMLAnchorElement>('download-tuned'),
  evaluation: $<HTMLTableElement>('evaluation'),
  evaluationCount: $('evaluation-count'),
};

const NOTE_RNN_STYLE: RollStyle = { noteColor: '#2f6fd0' };
const TUNED_STYLE: RollStyle = { noteColor: '#e07a1f' };
const EVALUATION_COUNT = 200;

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

// ---- piano rolls and playback -------------------------------------------------------------------

interface Roll {
  notes: RollNote[];
  steps: number;
  style: RollStyle;
}
const rolls = new Map<HTMLCanvasElement, Roll>();

function showRoll(canvas: HTMLCanvasElement, tokens: Uint8Array, style: RollStyle): void {
  const roll = { notes: tokensToNotes(tokens), steps: tokens.length, style };
  rolls.set(canvas, roll);
  drawPianoRoll(canvas, roll.notes, roll.steps, style);
}
window.addEventListener('resize', () => {
  rolls.forEach((r, canvas) => drawPianoRoll(canvas, r.notes, r.steps, r.style));
  redrawChart();
});

let playing: { playback: Playback; button: HTMLButtonElement; canvas: HTMLCanvasElement } | null = null;

function stopPlaying(): void {
  if (!playing) return;
  const { playback, button, canvas } = playing;
  playing = null;
  playback.stop();
  button.dataset.playing = 'false';
  button.textContent = '▶ Play';
  const roll = rolls.get(canvas);
  if (roll) drawPianoRoll(canvas, roll.notes, roll.steps, roll.style);
}

function togglePlay(button: HTMLButtonElement, canvas: HTMLCanvasElement): void {
  const wasThis = playing?.button === button;
  stopPlaying();
  const roll = rolls.get(canvas);
  if (wasThis || !roll) return;
  playing = { playback: playNotes(roll.notes, roll.steps), button, canvas };
  button.dataset.playing = 'true';
  button.textContent = '■ Stop';
  const current = playing;
  const frame = (): void => {
    if (playing !== current) return;
    const position = current.playback.position();
    if (position === null) return stopPlaying();
    drawPianoRoll(canvas, roll.notes, roll.steps, roll.style, position);
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

const midiUrls = new Map<HTMLAnchorElement, string>();
function offerMidi(link: HTMLAnchorElement, tokens: Uint8Array): void {
  const previous = midiUrls.get(link);
  if (previous) URL.revokeObjectURL(previous);
  const url = URL.createObjectURL(new Blob([compositionToMidi(tokens) as BlobPart], { type: 'audio/midi' }));
  midiUrls.set(link, url);
  link.href = url;
  link.classList.remove('disabled');
  link.removeAttribute('aria-disabled');
}

// ---- 1. generate --------------------------------------------------------------------------------

let noteRnn: LstmModel | null = null;

function generateMelody(): void {
  if (!noteRnn) return;
  stopPlaying();
  const seed = Number(ui.genSeed.value) >>> 0;
  const tokens = generate(noteRnn, {
    count: 1,
    length: Math.min(256, Math.max(8, Number(ui.genLength.value) | 0)),
    temperature: finiteOr(Number(ui.genTemperature.value), 1, 0),
    seed,
  })[0];
  showRoll(ui.rollMain, tokens, NOTE_RNN_STYLE);
  ui.rollMain.dataset.seed = String(seed);
  offerMidi(ui.download, tokens);
  ui.download.download = `rltuner-seed${seed}.mid`;
  ui.playMain.disabled = false;
  ui.tokens.textContent = `seed ${seed}: ${Array.from(tokens, tokenName).join(' ')}`;
  ui.genSeed.value = String(seed + 1);
}

ui.generate.addEventListener('click', generateMelody);
ui.playMain.addEventListener('click', () => togglePlay(ui.playMain, ui.rollMain));

// ---- 2. tune in a worker ------------------------------------------------------------------------

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (message: ToWorker): void => worker.postMessage(message);
let points: ProgressPoint[] = [];
let totalSteps = 0;
let chartQueued = false;
let tunedNumNotes = 32;
let compareSeed = 1;

function redrawChart(): void {
  if (chartQueued) return;
  chartQueued = true;
  requestAnimationFrame(() => {
    chartQueued = false;
    drawRewardChart(ui.chart, points, totalSteps);
  });
}

ui.tune.addEventListener('click', () => {
  stopPlaying();
  const trainingSteps = Math.max(500, Number(ui.tuneSteps.value) | 0);
  const request: TuneRequest = {
    algorithm: ui.tuneAlgorithm.value as TuneRequest['algorithm'],
    trainingSteps,
    explorationSteps: Math.floor(trainingSteps / 2),
    logEvery: Math.max(100, Math.round(trainingSteps / 50 / 100) * 100),
    seed: Number(ui.tuneSeed.value) >>> 0,
    evaluationCount: EVALUATION_COUNT,
  };
  points = [];
  totalSteps = trainingSteps;
  drawRewardChart(ui.chart, points, totalSteps);
  ui.tuneProgress.value = 0;
  ui.tune.disabled = true;
  ui.tuneStop.disabled = false;
  ui.resample.disabled = true;
  ui.compare.dataset.ready = 'false';
  compareSeed = request.seed;
  setStatus(ui.tuneStatus, 'running', `Tuning ${request.algorithm} for ${trainingSteps.toLocaleString('en')} steps…`);
  send({ type: 'tune', request });
});
ui.tuneStop.addEventListener('click', () => send({ type: 'stop' }));
ui.resample.addEventListener('click', () => send({ type: 'sample', seed: ++compareSeed, length: tunedNumNotes }));
ui.playNoteRnn.addEventListener('click', () => togglePlay(ui.playNoteRnn, ui.rollNoteRnn));
ui.playTuned.addEventListener('click', () => togglePlay(ui.playTuned, ui.rollTuned));

const pct = (x: number | null): string => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const m = event.data;
  switch (m.type) {
    case 'ready':
      workerReady = true;
      ui.tune.disabled = false;
      showReady();
      break;
    case 'progress': {
      points.push(m.point);
      totalSteps = m.totalSteps;
      ui.tuneProgress.value = m.point.step / m.totalSteps;
      const p = m.point;
      ui.tuneStatus.textContent =
        `step ${p.step.toLocaleString('en')} / ${m.totalSteps.toLocaleString('en')} · ` +
        `${Math.round(m.stepsPerSecond).toLocaleString('en')} steps/s · reward ${p.total.toFixed(2)} · ε ${p.epsilon.toFixed(2)}`;
      ui.tuneProgress.dataset.step = String(p.step);
      redrawChart();
      break;
    }
    case 'done': {
      ui.tune.disabled = false;
      ui.tuneStop.disabled = true;
      ui.tuneProgress.value = m.steps / Math.max(1, totalSteps);
      tunedNumNotes = m.numNotes;
      setStatus(ui.tuneStatus, 'done',
        `${m.stopped ? 'Stopped' : 'Tuned'} after ${m.steps.toLocaleString('en')} steps in ${m.seconds.toFixed(1)} s ` +
        `(${Math.round(m.steps / m.seconds).toLocaleString('en')} steps/s).`);
      if (m.evaluation) {
        const rows: [string, (r: EvaluationRow) => string][] = [
          ['notes not in key', (r) => pct(r.notInKey)],
          ['notes excessively repeated', (r) => pct(r.repeated)],
          ['leaps resolved', (r) => pct(r.leapsResolved)],
          ['compositions starting with the tonic', (r) => pct(r.startsWithTonic)],
          ['notes in a motif', (r) => pct(r.inMotif)],
          ['mean log p under the Note RNN', (r) => r.meanLogProbNoteRnn.toFixed(2)],
        ];
        const body = ui.evaluation.tBodies[0];
        body.replaceChildren(...rows.map(([label, f]) => {
          const tr = document.createElement('tr');
          for (const text of [label, f(m.evaluation!.noteRnn), f(m.evaluation!.tuned)]) {
            const td = document.createElement('td');
            td.textContent = text;
            tr.append(td);
          }
          return tr;
        }));
        ui.evaluationCount.textContent = String(EVALUATION_COUNT);
        ui.evaluation.hidden = false;
      }
      break;
    }
    case 'samples':
      stopPlaying();
      showRoll(ui.rollNoteRnn, m.noteRnn, NOTE_RNN_STYLE);
      showRoll(ui.rollTuned, m.tuned, TUNED_STYLE);
      offerMidi(ui.downloadNoteRnn, m.noteRnn);
      offerMidi(ui.downloadTuned, m.tuned);
      ui.playNoteRnn.disabled = false;
      ui.playTuned.disabled = false;
      ui.resample.disabled = false;
      ui.compare.dataset.seed = String(m.seed);
      ui.compare.dataset.ready = 'true';
      break;
    case 'error':
      ui.tune.disabled = false;
      ui.tuneStop.disabled = true;
      setStatus(ui.tuneStatus, 'error', `Error in the worker: ${m.message}`);
      break;
  }
};
worker.onerror = (e) => setStatus(ui.tuneStatus, 'error', `Worker failed: ${e.message}`);

// ---- start --------------------------------------------------------------------------------------

async function start(): Promise<void> {
  const [kernels, modelBytes] = await Promise.all([
    loadKernels(fetch(wasmUrl)),
    fetch(modelUrl).then(async (r) => {
      if (!r.ok) throw new Error(`fetching the Note RNN failed with HTTP ${r.status}`);
      return new Uint8Array(await r.arrayBuffer());
    }),
  ]);
  // The worker gets the compiled module (no second compile) and its own copy of the model bytes.
  send({ type: 'init', module: kernels.module, model: modelBytes.slice().buffer });
  noteRnn = loadNoteRnn(kernels, modelBytes, 1).model;
  ui.generate.disabled = false;
  generateMelody();
  showReady();
}

let workerReady = false;
function showReady(): void {
  if (status.dataset.state === 'error') return;
  if (noteRnn && workerReady) setStatus(status, 'ready', 'Ready: kernels and the default Note RNN loaded here and in the tuning worker.');
  else if (noteRnn) setStatus(status, 'loading', 'Kernels and Note RNN loaded; starting the tuning worker…');
}

drawRewardChart(ui.chart, [], Number(ui.tuneSteps.value));
start().catch(fail);

/** `value` when finite (at least `min`), else `fallback`: a cleared or mistyped field must not break the page. */
function finiteOr(value: number, fallback: number, min: number): number {
  return Number.isFinite(value) ? Math.max(min, value) : fallback;
}
