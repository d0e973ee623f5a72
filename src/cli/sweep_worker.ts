/**
 * A worker thread of `rltuner sweep`: runs one `rltuner tune` job at a time, as asked by the main
 * thread, and reports its exit code. Signals reach only the main thread, so it forwards a stop request,
 * which the job honours at the end of its composition, after a checkpoint. The job's standard output
 * (the evaluation table, also written to its run folder) is not relayed.
 */
import { parentPort } from 'node:worker_threads';
import { UsageError } from './common.js';
import { tuneCommand } from './tune.js';

if (!parentPort) throw new Error('sweep_worker.js runs as a worker thread of rltuner sweep');
const port = parentPort;
let stopRequested = false;
process.stdout.write = (() => true) as typeof process.stdout.write;

port.on('message', (m: { type: 'job'; args: string[] } | { type: 'stop' }) => {
  if (m.type === 'stop') {
    stopRequested = true;
    return;
  }
  tuneCommand(m.args, { shouldStop: () => stopRequested }).then(
    (code) => port.postMessage({ type: 'done', code }),
    (e: Error) => port.postMessage({ type: 'done', code: e instanceof UsageError ? 2 : 1, message: e.message }),
  );
});
