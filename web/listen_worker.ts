/**
 * The listening page's worker: the loop's long steps, each with progress for the page's time-left line.
 * `train-reward` trains a reward model on the answered pairs (the library's trainRewardModel: Bradley–Terry,
 * a held-out tenth by hash, the best epoch kept) and posts its file's bytes; `tune` tunes the Note RNN on it
 * with PREFERENCE_TUNING (pg on the learned reward alone, KL to the Note RNN) and posts the tuned model's bytes.
 */
import { DEFAULT_REWARD_TRAINING, kernelsFromModule, PREFERENCE_TUNING, trainRewardModel, tune, type Kernels } from '../src/index.js';
import type { FromListenWorker, ToListenWorker } from './listen_protocol.js';

interface WorkerScope {
  postMessage(message: FromListenWorker, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToListenWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;

/** Progress is posted at most this often. */
const PROGRESS_INTERVAL_MS = 100;
let kernels: Kernels | null = null;
let noteRnn: Uint8Array | null = null;
let abort: AbortController | null = null;

function fail(during: 'init' | 'train-reward' | 'tune', error: unknown): void {
  scope.postMessage({ type: 'error', during, message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
}

scope.onmessage = (event) => {
  const m = event.data;
  switch (m.type) {
    case 'init':
      try {
        kernels = kernelsFromModule(m.module);
        noteRnn = new Uint8Array(m.noteRnn);
        scope.postMessage({ type: 'ready' });
      } catch (error) {
        fail('init', error);
      }
      break;
    case 'train-reward':
      void trainReward(m.pairs).catch((error) => fail('train-reward', error));
      break;
    case 'tune':
      void tuneOnReward(new Uint8Array(m.rewardModel), m.steps, m.numNotes, m.seed).catch((error) => fail('tune', error));
      break;
    case 'stop':
      abort?.abort();
      break;
  }
};

async function trainReward(pairs: Extract<ToListenWorker, { type: 'train-reward' }>['pairs']): Promise<void> {
  if (!kernels) throw new Error('worker: train-reward before init');
  const started = performance.now();
  let lastPost = -Infinity;
  const epochs = DEFAULT_REWARD_TRAINING.epochs;
  let epochSeconds: number[] = [];
  const post = (epoch: number, done: number, total: number, loss: number, force = false) => {
    const now = performance.now();
    if (!force && now - lastPost < PROGRESS_INTERVAL_MS) return;
    lastPost = now;
    const secondsPerEpoch = epochSeconds.length ? epochSeconds.reduce((s, x) => s + x, 0) / epochSeconds.length : null;
    scope.postMessage({ type: 'reward-progress', epoch, epochs, done, total, loss, elapsedSeconds: (now - started) / 1000, secondsPerEpoch });
  };
  const result = await trainRewardModel(kernels, pairs.map((p) => ({ a: Uint8Array.from(p.a), b: Uint8Array.from(p.b), answer: p.answer })), {
    onProgress: (epoch, done, total, loss) => post(epoch, done, total, loss),
    onEpoch: async (record) => {
      epochSeconds = [...epochSeconds, record.seconds];
      post(record.epoch, 1, 1, record.trainLoss, true);
      await new Promise((r) => setTimeout(r, 0)); // lets a message in between epochs
    },
  });
  const modelBytes = result.modelBytes.slice().buffer;
  scope.postMessage({
    type: 'reward-trained',
    summary: {
      pairs: pairs.length, train: result.split.train, heldOut: result.split.heldOut, heldOutDecided: result.heldOut.decided,
      heldOutAccuracy: result.heldOut.accuracy, heldOutLoss: result.heldOut.loss, trainAccuracy: result.train.accuracy, bestEpoch: result.bestEpoch,
      epochsRun: result.history.length, seconds: (performance.now() - started) / 1000,
    },
    modelBytes,
  }, [modelBytes]);
}

async function tuneOnReward(rewardModel: Uint8Array, steps: number, numNotes: number, seed: number): Promise<void> {
  if (!kernels || !noteRnn) throw new Error('worker: tune before init');
  abort = new AbortController();
  const started = performance.now();
  let lastPost = -Infinity;
  const result = await tune(kernels, noteRnn, {
    config: {
      ...PREFERENCE_TUNING, trainingSteps: steps, numNotes, seed, logEvery: Math.max(256, Math.round(steps / 100)),
      evalEvery: 0, checkpointEvery: 0, evalCompositions: 0, sampleCount: 0,
    },
    rewardModel,
    signal: abort.signal,
    sliceMs: 200,
    onProgress: (p) => {
      const now = performance.now();
      if (now - lastPost < PROGRESS_INTERVAL_MS && p.step < p.totalSteps) return;
      lastPost = now;
      scope.postMessage({
        type: 'tune-progress', step: p.step, totalSteps: p.totalSteps, stepsPerSecond: p.stepsPerSecond, elapsedSeconds: (now - started) / 1000,
        preferenceScore: p.metrics['preference/score'],
      });
    },
  });
  abort = null;
  const modelBytes = result.modelBytes.slice().buffer;
  scope.postMessage({
    type: 'tuned', steps: result.tuner.counters.step, seconds: (performance.now() - started) / 1000, stopped: result.stopped, numNotes, modelBytes,
  }, [modelBytes]);
}
