/**
 * A kernel helper thread in the browser: a module Worker started by the tuning worker (web/worker.ts) on
 * a cross-origin isolated page. Its one message is the start of runKernelThread, which then runs the parts
 * of kernel calls it is posted through shared memory until it is told to stop.
 */
import { runKernelThread, type KernelThreadStart } from '../src/engine/kernel_threads.js';

(self as unknown as { onmessage: ((event: MessageEvent<KernelThreadStart>) => void) | null }).onmessage = (event) => {
  runKernelThread(event.data);
};
