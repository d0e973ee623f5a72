/**
 * Kernel helper threads in Node (the package's `rltuner/node-threads`, also used by the CLI):
 * `startNodeKernelThread` starts a worker_threads Worker running this module, which, in the worker, hands
 * its start message to runKernelThread (src/engine/kernel_threads.ts). Pass it to `KernelThreads.start`.
 */
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { runKernelThread, type KernelThreadStart, type StartKernelThread } from '../engine/kernel_threads.js';

interface HelperData {
  rltunerKernelThread: KernelThreadStart;
}

if (!isMainThread && (workerData as Partial<HelperData> | null)?.rltunerKernelThread) {
  runKernelThread((workerData as HelperData).rltunerKernelThread);
}

/** Starts a helper thread in a worker_threads Worker; it does not keep the process alive. */
export const startNodeKernelThread: StartKernelThread = (start) => {
  const worker = new Worker(new URL(import.meta.url), { workerData: { rltunerKernelThread: start } satisfies HelperData });
  worker.unref();
  worker.on('error', (e) => process.stderr.write(`rltuner: kernel thread ${start.helper + 1} stopped: ${e.message}\n`));
  return { terminate: () => worker.terminate() };
};
