/**
 * The tuning worker: receives the compiled kernel module and the Note RNN bytes, runs RL Tuner with
 * rltuner's `tune` to the end of the run (stopping early only when asked), posts the reward curves at
 * most every PROGRESS_INTERVAL_MS, then the paper's evaluation table and the tuned model's bytes. It
 * holds the tuned policy (tuned here, or loaded from a model file) and samples it beside the Note RNN
 * from the same seed.
 */
import {
  keyNamed, kernelsFromModule, loadNoteRnn, sampleCompositions, tune, Random,
  type Kernels, type LstmModel, type Priming, type TuneProgress,
} from '../src/index.js';
import { EVALUATION_ROWS, referenceNote, referenceOf, rowLabel } from '../src/eval/report.js';
import { KernelThreads, type StartKernelThread } from '../src/engine/kernel_threads.js';
import type { EvaluationValues, FromWorker, ProgressPoint, ToWorker, TunedModelInfo, TuneRequest } from './protocol.js';
import { modelOf, readModelFile } from './loaded_files.js';

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;

/** Progress is posted at most this often, so messages never slow the tune. */
const PROGRESS_INTERVAL_MS = 100;
/**
 * Milliseconds of tuning between yields to the worker's event loop (where a 'stop' is seen). Each yield
 * is a timer, which browsers clamp to a few milliseconds, so slices are long: a stop waits at most this.
 */
const SLICE_MS = 200;

let kernels: Kernels | null = null;
/** The tune's kernels: on two threads where the page is cross-origin isolated, else the plain ones. */
let tuneKernels: Kernels | null = null;
let noteRnnBytes: Uint8Array | null = null;
let noteRnn: LstmModel | null = null;
/** The tuned policy: its models (logits summed) and what it is. */
let tuned: { models: LstmModel[]; info: TunedModelInfo } | null = null;
let abort: AbortController | null = null;

scope.onmessage = (event) => {
  const message = event.data;
  const during = message.type === 'init' || message.type === 'tune' || message.type === 'load-model' ? message.type : 'sample';
  try {
    switch (message.type) {
      case 'init':
        kernels = kernelsFromModule(message.module);
        noteRnnBytes = new Uint8Array(message.model);
        noteRnn = loadNoteRnn(kernels, noteRnnBytes, 1).model;
        void startThreads(message.sharedModule).then((threads) => scope.postMessage({ type: 'ready', threads }), (error) => fail('init', error));
        break;
      case 'tune':
        void runTune(message.request).catch((error) => fail('tune', error));
        break;
      case 'stop':
        abort?.abort();
        break;
      case 'sample':
        postSamples(message.seed, message.primer);
        break;
      case 'load-model':
        loadTunedModel(message.name, new Uint8Array(message.bytes));
        postSamples(message.seed, message.primer);
        break;
    }
  } catch (error) {
    fail(during, error);
  }
};

/** A helper Worker running web/kernel_thread.ts. */
const startHelper: StartKernelThread = (start) => {
  const helper = new Worker(new URL('./kernel_thread.ts', import.meta.url), { type: 'module' });
  helper.postMessage(start);
  return { terminate: () => helper.terminate() };
};

/**
 * Two threads for the tune when the page sent the shared-memory kernels (it does with ?threads=2 where it
 * is cross-origin isolated, so shared memory is allowed); one otherwise. The same seed gives the same bits.
 */
async function startThreads(sharedModule: WebAssembly.Module | null): Promise<number> {
  tuneKernels = kernels;
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  if (!sharedModule || !isolated || (navigator.hardwareConcurrency ?? 1) < 2) return 1;
  const threads = await KernelThreads.start(kernelsFromModule(sharedModule), 2, startHelper);
  tuneKernels = threads.kernels;
  return threads.threads;
}

function fail(during: 'init' | 'tune' | 'sample' | 'load-model', error: unknown): void {
  scope.postMessage({ type: 'error', during, message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
}

const point = (p: TuneProgress): ProgressPoint => ({
  step: p.step,
  total: p.metrics['charts/reward_total'],
  musicTheory: p.metrics['charts/reward_music_theory'],
  noteRnn: p.metrics['charts/reward_note_rnn'],
  epsilon: p.metrics['charts/epsilon'],
  tdLoss: p.metrics['losses/td_loss'],
});

async function runTune(request: TuneRequest): Promise<void> {
  if (!kernels || !tuneKernels || !noteRnnBytes || !noteRnn) throw new Error('worker: tune before init');
  abort = new AbortController();
  const started = performance.now();
  let pending: ProgressPoint[] = [];
  let lastPost = -Infinity;
  let trainingEnded = started;
  const result = await tune(tuneKernels, noteRnnBytes, {
    // Each algorithm with the preset the CLI has for it: pg the default, g the former default, q and psi the paper's reward.
    preset: request.algorithm === 'pg' ? 'default' : request.algorithm === 'g' ? 'g' : 'classic',
    config: {
      algorithm: request.algorithm,
      trainingSteps: request.trainingSteps,
      explorationSteps: request.explorationSteps,
      logEvery: request.logEvery,
      seed: request.seed,
      // The rules reward this key and mode, so the tuned model's notes are in it (as `rltuner tune --key --mode`).
      key: request.key,
      mode: request.mode,
      priming: request.primer ? 'primer' : 'random_note',
      evalEvery: 0,
      checkpointEvery: 0,
      evalCompositions: request.evaluationCount,
      sampleCount: 0,
    },
    primer: request.primer ?? undefined,
    signal: abort.signal,
    sliceMs: SLICE_MS,
    onProgress: (p) => {
      pending.push(point(p));
      const now = performance.now();
      const last = p.step >= p.totalSteps;
      if (now - lastPost < PROGRESS_INTERVAL_MS && !last) return;
      scope.postMessage({ type: 'progress', points: pending, totalSteps: p.totalSteps, stepsPerSecond: p.stepsPerSecond, elapsedSeconds: (now - started) / 1000 });
      pending = [];
      lastPost = now;
      if (last) {
        trainingEnded = now;
        if (request.evaluationCount > 0) scope.postMessage({ type: 'evaluating', compositions: request.evaluationCount });
      }
    },
  });
  if (pending.length) {
    scope.postMessage({ type: 'progress', points: pending, totalSteps: result.config.trainingSteps, stepsPerSecond: 0, elapsedSeconds: (performance.now() - started) / 1000 });
  }
  const stopped = result.stopped;
  abort = null;
  const info: TunedModelInfo = {
    source: 'tuned here',
    algorithm: result.config.algorithm,
    steps: result.tuner.counters.step,
    numNotes: result.config.numNotes,
    temperature: result.config.temperature,
    key: keyNamed(result.config.key, result.config.mode),
  };
  tuned = { models: result.tuner.policyModels(), info };
  const final = result.final;
  const reference = final && referenceOf([final.noteRnn, final.tuned]);
  const rows: EvaluationValues[] | null = final && EVALUATION_ROWS.map((row) => ({
    key: row.key, label: rowLabel(row, [final.noteRnn, final.tuned]), noteRnn: row.value(final.noteRnn), tuned: row.value(final.tuned),
    ...(reference && row.reference ? { reference: row.reference(reference) } : {}),
  }));
  const modelBytes = result.modelBytes.slice().buffer;
  const seconds = (performance.now() - started) / 1000;
  scope.postMessage({
    type: 'done',
    steps: info.steps,
    seconds,
    evaluationSeconds: stopped || !final ? 0 : (performance.now() - trainingEnded) / 1000,
    stopped,
    model: info,
    evaluation: rows && { compositions: request.evaluationCount, rows, reference: reference && { name: reference.name, note: referenceNote(reference) } },
    modelBytes,
  }, [modelBytes]);
  postSamples(request.seed, request.primer);
}

/**
 * A tuned model file as the policy: a Note RNN, Q or Ψ network acts alone; a G network acts with the
 * Note RNN it was tuned from (SPEC §4.4), which in this page is the page's Note RNN. The file is read
 * through the library's bounded readers (web/loaded_files.ts): a file that claims too much, holds absurd
 * weights or records settings out of range is refused with a message naming it.
 */
function loadTunedModel(name: string, bytes: Uint8Array): void {
  if (!kernels || !noteRnn) throw new Error('worker: load-model before init');
  const { decoded, settings, key } = readModelFile(bytes, name);
  const model = modelOf(kernels, decoded, name);
  tuned = {
    models: settings.algorithm === 'g' ? [model, noteRnn] : [model],
    info: { source: name, algorithm: settings.algorithm, steps: settings.steps, numNotes: settings.numNotes, temperature: settings.temperature, key },
  };
  scope.postMessage({ type: 'model-loaded', model: tuned.info });
}

/** One composition from each model, from the same seed (so both start from the same random note or the primer). */
function postSamples(seed: number, primer: number[] | null): void {
  if (!noteRnn || !tuned) throw new Error('worker: no tuned model to sample yet (tune, or load a model file)');
  const priming: Priming = primer ? { kind: 'primer', tokens: primer } : { kind: 'random_note' };
  const options = { count: 1, numNotes: tuned.info.numNotes, temperature: tuned.info.temperature, priming };
  const fromNoteRnn = sampleCompositions([noteRnn], new Random(seed), options).compositions[0];
  const fromTuned = sampleCompositions(tuned.models, new Random(seed), options).compositions[0];
  scope.postMessage({ type: 'samples', seed, noteRnn: fromNoteRnn, tuned: fromTuned, tunedKey: tuned.info.key });
}
