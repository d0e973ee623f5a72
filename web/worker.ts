/**
 * The tuning worker: receives the compiled kernel module and the Note RNN bytes, runs RL Tuner with
 * rltuner's `tune` (which yields between slices, so a 'stop' message is seen while it runs), posts the
 * reward curves as they come, then samples the Note RNN and the tuned policy side by side.
 */
import {
  kernelsFromModule, loadNoteRnn, sampleCompositions, tune, Random,
  type Kernels, type LstmModel, type PolicyEvaluation, type RlTuner,
} from '../src/index.js';
import type { EvaluationRow, FromWorker, ToWorker, TuneRequest } from './protocol.js';

interface WorkerScope {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;

let kernels: Kernels | null = null;
let modelBytes: Uint8Array | null = null;
let noteRnn: LstmModel | null = null;
let tuned: RlTuner | null = null;
let numNotes = 32;
let abort: AbortController | null = null;

scope.onmessage = (event) => {
  const message = event.data;
  try {
    switch (message.type) {
      case 'init':
        kernels = kernelsFromModule(message.module);
        modelBytes = new Uint8Array(message.model);
        noteRnn = loadNoteRnn(kernels, modelBytes, 1).model;
        scope.postMessage({ type: 'ready' });
        break;
      case 'tune':
        void runTune(message.request).catch(fail);
        break;
      case 'stop':
        abort?.abort();
        break;
      case 'sample':
        postSamples(message.seed, message.length);
        break;
    }
  } catch (error) {
    fail(error);
  }
};

function fail(error: unknown): void {
  scope.postMessage({ type: 'error', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
}

async function runTune(request: TuneRequest): Promise<void> {
  if (!kernels || !modelBytes) throw new Error('worker: tune before init');
  abort = new AbortController();
  const started = performance.now();
  const result = await tune(kernels, modelBytes, {
    config: {
      algorithm: request.algorithm,
      trainingSteps: request.trainingSteps,
      explorationSteps: request.explorationSteps,
      logEvery: request.logEvery,
      seed: request.seed,
      evalEvery: 0,
      checkpointEvery: 0,
      evalCompositions: request.evaluationCount,
      sampleCount: 0,
    },
    signal: abort.signal,
    sliceMs: 30,
    onProgress: (p) => scope.postMessage({
      type: 'progress',
      totalSteps: p.totalSteps,
      stepsPerSecond: p.stepsPerSecond,
      point: {
        step: p.step,
        total: p.metrics['charts/reward_total'],
        musicTheory: p.metrics['charts/reward_music_theory'],
        noteRnn: p.metrics['charts/reward_note_rnn'],
        epsilon: p.metrics['charts/epsilon'],
        tdLoss: p.metrics['losses/td_loss'],
      },
    }),
  });
  const stopped = abort.signal.aborted;
  abort = null;
  tuned = result.tuner;
  numNotes = result.config.numNotes;
  scope.postMessage({
    type: 'done',
    steps: result.tuner.counters.step,
    seconds: (performance.now() - started) / 1000,
    stopped,
    numNotes,
    evaluation: result.final && { noteRnn: row(result.final.noteRnn), tuned: row(result.final.tuned) },
  });
  postSamples(request.seed, numNotes);
}

/** One composition from each model, from the same seed (so both start from the same random note). */
function postSamples(seed: number, length: number): void {
  if (!noteRnn || !tuned) throw new Error('worker: sample before a tune finished');
  const options = { count: 1, numNotes: length, temperature: tuned.config.temperature, priming: { kind: 'random_note' } as const };
  const fromNoteRnn = sampleCompositions([noteRnn], new Random(seed), options).compositions[0];
  const fromTuned = sampleCompositions(tuned.policyModels(), new Random(seed), options).compositions[0];
  scope.postMessage({ type: 'samples', seed, noteRnn: fromNoteRnn, tuned: fromTuned });
}

function row(e: PolicyEvaluation): EvaluationRow {
  const s = e.statistics;
  return {
    notInKey: s.notesNotInKey,
    repeated: s.notesExcessivelyRepeated,
    leapsResolved: s.leapsResolved,
    startsWithTonic: s.startingWithTonic,
    inMotif: s.notesInMotif,
    meanLogProbNoteRnn: e.meanLogProbNoteRnn,
  };
}
