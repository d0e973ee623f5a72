/**
 * Kernels on more than one thread, with the same bits as on one.
 *
 * The kernel module is instantiated once per thread over one shared memory (the shared-memory build of
 * the same source, dist/rltuner-shared.wasm). `KernelThreads.kernels` has the interface of the kernel
 * exports, so a model cannot tell it from one instance: each call it receives is cut into parts, one per
 * thread, along a dimension in which every output element is computed by the same arithmetic whatever
 * the cut — a gemm's rows at multiples of its 4-row tile (or its columns at multiples of 32 when the
 * weights outweigh the rows), 8-column panels of a weight gradient (each element's sum over rows keeps its
 * order), rows of the LSTM cell and the losses, rows of a sparse input's gather and columns of its scatter. The calling thread posts the other parts, computes its own,
 * and waits for them. Reductions (sum_squares, the TD loss), the flat passes over the parameters and small
 * calls run whole on the calling thread. Independent work can also be handed over whole (`deferred`: the
 * Target network's forward pass beside the Q-network's). So a run on N threads gives the bits of a run on
 * one, and `threads: 1` (the plain build, no helper) stays the reference.
 *
 * How the threads start is the runtime's business (a Node worker_threads Worker, a browser Worker): the
 * caller passes a `StartKernelThread` that runs `runKernelThread(start)` in a new thread with the message
 * it is given (src/node/kernel_thread.ts, the package's `rltuner/node-threads`; web/kernel_thread.ts). This
 * module imports no runtime API.
 *
 * The handshake per call, over an Int32Array in a SharedArrayBuffer (one 256-byte block per helper): the
 * caller writes the operation and its arguments (as float64, exact for addresses and counts), then bumps
 * SEQ; the helper, spinning briefly on SEQ (after HELPER_SPIN_MS idle it sleeps in Atomics.wait and says so
 * in SLEEPING, and is then woken by Atomics.notify), runs the part and stores the sequence number in DONE; the
 * caller spins on DONE (sleeping too if the helper is held up). Atomics give the ordering: everything
 * written before a store of SEQ or DONE is seen after the matching load. On a busy machine a helper can be
 * descheduled mid-part; a caller that waited long for one runs the next calls whole (LATE_MS), which only
 * costs speed, since where a call runs never changes its bits.
 */
import { instantiateKernels, type KernelExports, type KernelThreadPool, type Kernels, type WasmMemory, type WasmModule } from './kernels.js';

/** What a helper thread receives to start: the compiled shared build, the memory and its control block. */
export interface KernelThreadStart {
  module: WasmModule;
  memory: WasmMemory;
  control: SharedArrayBuffer;
  /** Kernel-call sequences posted whole (see KernelThreads.deferred), PROGRAM_FLOATS per helper. */
  programs: SharedArrayBuffer;
  /** Which helper (0-based): its block in `control`. */
  helper: number;
}

/** Starts one helper thread that calls `runKernelThread(start)`; returns how to stop it. */
export type StartKernelThread = (start: KernelThreadStart) => { terminate(): unknown };

/** Operations a helper runs, by number (the order is the protocol). */
const OPS = [
  'gemm_packed_set', 'gemm_packed_accumulate', 'gemm_packed_bias_set', 'outer_accumulate',
  'gather_bias_rows', 'scatter_rows_accumulate', 'colsum_accumulate', 'lstm_cell_forward', 'lstm_cell_backward_set',
  'softmax_xent_forward', 'softmax_xent_backward_set',
  'gather_weighted_rows_bias_set', 'scatter_weighted_rows_accumulate',
  // Run whole on a helper, never split: the bench's cross-core measurement (bench/cross_core.ts).
  'soft_update',
] as const satisfies readonly (keyof KernelExports)[];
type HelperOp = (typeof OPS)[number];
type SplitOp = Exclude<HelperOp, 'soft_update'>;
const OP_INDEX = new Map<string, number>(OPS.map((name, i) => [name, i]));

// Control block of one helper: Int32 slots, then float64 arguments.
const BLOCK_BYTES = 256;
const SEQ = 0;
const DONE = 1;
const OP = 2;
const STOP = 3;
const SLEEPING = 4;
const READY = 5;
const FAILED = 6;
const ARGC = 7;
const CALLER_WAITING = 8;
const ARGS_OFFSET = 64; // bytes
const MAX_ARGS = (BLOCK_BYTES - ARGS_OFFSET) / 8;
/** OP value meaning: run the helper's program buffer ([calls, then op, argc, args... per call]). */
const PROGRAM_OP = 255;
const PROGRAM_FLOATS = 4096;
/**
 * Milliseconds a helper spins on SEQ before it sleeps in Atomics.wait: long enough to cover the gaps between
 * the parts of one BPTT window or one evaluation step, shorter than the gap between two TD updates, so a
 * helper does not hold a core while the calling thread acts (on a machine busy with other work it would
 * take that core from them).
 */
const HELPER_SPIN_MS = 0.05;
/** Milliseconds the caller spins on DONE before it sleeps in Atomics.wait (the helper is held up). */
const CALLER_SPIN_MS = 0.5;
/**
 * A part that finishes this long (and twice the caller's own part) after the caller's is late (the helper
 * was descheduled on a busy machine; waking a sleeping helper does not count); after LATE_STREAK late joins
 * in a row the next LOCAL_AFTER_LATE calls run whole here. Where a call runs never changes its bits, so
 * this only decides speed.
 */
const LATE_MS = 0.25;
const LATE_STREAK = 4;
const LOCAL_AFTER_LATE = 256;

/*
 * Work below which a call runs whole on the calling thread: each part costs a handshake between threads and
 * moves rows or weights between the cores' caches, so it must be much larger than that. At the TD update's
 * shapes (H = 100, B = 32) nothing is cut: cutting its gemms, weight gradients and cells made the update
 * slower on two threads; BPTT's 64 rows at H = 100, the evaluation's 128 and every call at H >= 256 are.
 * The flat passes over the parameters (Adam, the soft update, scaling, zeroing) run whole: a helper that
 * writes half the weights must send them across to the calling thread's cache before the next forward
 * pass, and Adam alone gained nothing on two threads. `npm run bench:quick` measures each of these
 * on one and two threads; bench/results/README.md lists the stored runs.
 */
const MIN_SPLIT_MACS = 2_000_000;
const MIN_SPLIT_CELLS = 4_096;
const MIN_SPLIT_ROWS_ELEMENTS = 65_536;
const MIN_SPLIT_SOFTMAX = 16_384;
/** Weights (floats) above which a gemm is cut by columns, so each thread streams only its half. */
const BY_COLUMNS_WEIGHTS = 1 << 18;

/** The loop of a helper thread: runs posted parts until told to stop. Blocks its thread. */
export function runKernelThread(start: KernelThreadStart): void {
  const ctl = new Int32Array(start.control, start.helper * BLOCK_BYTES, ARGS_OFFSET / 4);
  const args = new Float64Array(start.control, start.helper * BLOCK_BYTES + ARGS_OFFSET, MAX_ARGS);
  let exports: KernelExports;
  try {
    exports = instantiateKernels(start.module, start.memory);
  } catch (e) {
    Atomics.store(ctl, FAILED, 1);
    Atomics.notify(ctl, READY);
    throw e;
  }
  const ops = OPS.map((name) => (exports[name] as (...a: number[]) => unknown).bind(exports));
  const program = new Float64Array(start.programs, start.helper * PROGRAM_FLOATS * 8, PROGRAM_FLOATS);
  Atomics.store(ctl, READY, 1);
  Atomics.notify(ctl, READY);
  let seen = 0;
  for (;;) {
    let seq = Atomics.load(ctl, SEQ);
    if (seq === seen) {
      const since = performance.now();
      for (let spin = 1; seq === seen; spin++) {
        seq = Atomics.load(ctl, SEQ);
        if ((spin & 63) === 0 && performance.now() - since > HELPER_SPIN_MS) break;
      }
    }
    if (seq === seen) {
      Atomics.store(ctl, SLEEPING, 1);
      Atomics.wait(ctl, SEQ, seen);
      Atomics.store(ctl, SLEEPING, 0);
      continue;
    }
    if (Atomics.load(ctl, STOP) === 1) return;
    try {
      if (ctl[OP] === PROGRAM_OP) {
        for (let c = 0, at = 1, calls = program[0]; c < calls; c++) {
          const argc = program[at + 1];
          ops[program[at]](...program.subarray(at + 2, at + 2 + argc));
          at += 2 + argc;
        }
      } else {
        callWith(ops[ctl[OP]], args, ctl[ARGC]);
      }
    } catch {
      Atomics.store(ctl, FAILED, 1 + (ctl[OP] === PROGRAM_OP ? OPS.length : ctl[OP]));
    }
    seen = seq;
    Atomics.store(ctl, DONE, seq);
    if (Atomics.load(ctl, CALLER_WAITING) === 1) Atomics.notify(ctl, DONE);
  }
}

/** Calls op with the first n of args (literal arities for the common counts: no array is made). */
function callWith(op: (...a: number[]) => unknown, args: Float64Array, n: number): void {
  switch (n) {
    case 5: op(args[0], args[1], args[2], args[3], args[4]); break;
    case 6: op(args[0], args[1], args[2], args[3], args[4], args[5]); break;
    case 7: op(args[0], args[1], args[2], args[3], args[4], args[5], args[6]); break;
    case 8: op(args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7]); break;
    case 9: op(args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7], args[8]); break;
    case 10: op(args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7], args[8], args[9]); break;
    default: op(...Array.from(args.subarray(0, n)));
  }
}

/** Helper threads sharing one memory with the calling thread; see the file comment. */
export class KernelThreads implements KernelThreadPool {
  /** The kernel interface whose calls run split over all threads (the calling thread included). */
  readonly kernels: Kernels;
  readonly exports: KernelExports;
  readonly memory: WasmMemory;
  /** Threads in all, the calling one included. */
  readonly threads: number;
  private readonly local: KernelExports;
  private readonly ctl: Int32Array[];
  private readonly args: Float64Array[];
  private readonly seq: number[];
  private readonly woken: boolean[];
  private readonly handles: { terminate(): unknown }[];
  private closed = false;
  private canWait = true;
  /** Calls still to run whole here after a late helper. */
  private localCalls = 0;
  /** Late joins in a row (see LATE_STREAK). */
  private lateStreak = 0;
  private alwaysShare = false;
  private readonly programBuffer: Float64Array;
  private readonly recorded: number[] = [];
  private recordedCalls = 0;
  private deferredPending = false;
  private readonly recorder: KernelExports = this.makeRecorder();
  /** Parts run on helper threads so far (how much of the work was shared). */
  partsPosted = 0;
  /** First unclaimed byte of the shared memory. */
  private next: number;

  private constructor(
    kernels: Kernels, memory: WasmMemory, control: SharedArrayBuffer, programs: SharedArrayBuffer, handles: { terminate(): unknown }[],
  ) {
    this.programBuffer = new Float64Array(programs, 0, PROGRAM_FLOATS);
    this.memory = memory;
    this.threads = handles.length + 1;
    this.handles = handles;
    this.local = instantiateKernels(kernels.module, memory);
    this.ctl = handles.map((_, i) => new Int32Array(control, i * BLOCK_BYTES, ARGS_OFFSET / 4));
    this.args = handles.map((_, i) => new Float64Array(control, i * BLOCK_BYTES + ARGS_OFFSET, MAX_ARGS));
    this.seq = handles.map(() => 0);
    this.woken = handles.map(() => false);
    this.exports = splitExports(this.local, this);
    this.kernels = { ...kernels, threads: this };
    this.next = Math.ceil(kernels.heapBase / 64) * 64;
  }

  private makeRecorder(): KernelExports {
    const recorder: Record<string, unknown> = {};
    for (const name of OPS) {
      recorder[name] = (...a: number[]) => {
        this.recorded.push(OP_INDEX.get(name)!, a.length, ...a);
        this.recordedCalls++;
      };
    }
    return new Proxy(recorder, {
      get: (target, name) => {
        if (name in target) return target[name as string];
        throw new Error(`KernelThreads.deferred: ${String(name)} cannot be deferred (it returns a value, or helpers do not run it)`);
      },
    }) as unknown as KernelExports;
  }

  /** Claims `bytes` of the shared memory for an arena (64-byte aligned), growing it; returns the first address. */
  claim(bytes: number): number {
    const at = this.next;
    const end = at + Math.ceil(bytes / 64) * 64;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / 65536));
      } catch (e) {
        throw new RangeError(`KernelThreads: cannot grow the shared memory to ${end} bytes (${(e as Error).message}); start the threads with a larger maximumBytes`);
      }
    }
    this.next = end;
    return at;
  }

  /**
   * Starts `threads − 1` helpers over a new shared memory of at most `maximumBytes` (grown by the arena as
   * it plans). `kernels` must be the shared-memory build (dist/rltuner-shared.wasm). Resolves once every
   * helper has instantiated its kernels.
   */
  static async start(
    kernels: Kernels, threads: number, startThread: StartKernelThread, maximumBytes = 1 << 30,
    options: { /** Split every call big enough, even after a late helper (tests that check the parts). */ alwaysShare?: boolean } = {},
  ): Promise<KernelThreads> {
    if (!Number.isInteger(threads) || threads < 2) throw new RangeError(`KernelThreads.start: threads = ${threads}; use 2 or more (1 thread needs no helpers)`);
    if (!kernels.shared) {
      throw new Error('KernelThreads.start: these kernels import an unshared memory; load the shared-memory build (the package\'s rltuner/wasm-shared, dist/rltuner-shared.wasm) for more than one thread');
    }
    if (typeof SharedArrayBuffer === 'undefined') {
      throw new Error('KernelThreads.start: this runtime has no SharedArrayBuffer (a browser page must be cross-origin isolated: COOP same-origin and COEP require-corp); use 1 thread');
    }
    const maximum = Math.max(1, Math.ceil(maximumBytes / 65536));
    const memory = new WebAssembly.Memory({ initial: 1, maximum, shared: true }) as unknown as WasmMemory;
    const control = new SharedArrayBuffer(BLOCK_BYTES * (threads - 1));
    const programs = new SharedArrayBuffer(PROGRAM_FLOATS * 8 * (threads - 1));
    const handles: { terminate(): unknown }[] = [];
    try {
      for (let i = 0; i < threads - 1; i++) handles.push(startThread({ module: kernels.module, memory, control, programs, helper: i }));
      for (let i = 0; i < threads - 1; i++) {
        const ctl = new Int32Array(control, i * BLOCK_BYTES, ARGS_OFFSET / 4);
        const deadline = Date.now() + 30_000;
        while (Atomics.load(ctl, READY) === 0 && Atomics.load(ctl, FAILED) === 0) {
          if (Date.now() > deadline) throw new Error(`KernelThreads.start: helper thread ${i + 1} did not start within 30 s`);
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        if (Atomics.load(ctl, FAILED) === 1) throw new Error(`KernelThreads.start: helper thread ${i + 1} could not instantiate the kernels`);
      }
    } catch (e) {
      for (const h of handles) h.terminate();
      throw e;
    }
    const pool = new KernelThreads(kernels, memory, control, programs, handles);
    pool.alwaysShare = options.alwaysShare ?? false;
    return pool;
  }

  /** Stops the helpers (their memory stays valid for the calling thread). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (let i = 0; i < this.ctl.length; i++) {
      Atomics.store(this.ctl[i], STOP, 1);
      Atomics.add(this.ctl[i], SEQ, 1);
      Atomics.notify(this.ctl[i], SEQ);
    }
    for (const h of this.handles) h.terminate();
  }

  /** Posts part `helper` of a call: op (or PROGRAM_OP) and arguments, then SEQ. */
  post(helper: number, op: HelperOp | typeof PROGRAM_OP, a: ArrayLike<number>): void {
    if (this.closed) throw new Error('KernelThreads: used after close()');
    const args = this.args[helper];
    for (let i = 0; i < a.length; i++) args[i] = a[i];
    const ctl = this.ctl[helper];
    ctl[OP] = op === PROGRAM_OP ? PROGRAM_OP : OP_INDEX.get(op)!;
    ctl[ARGC] = a.length;
    const seq = ++this.seq[helper];
    this.partsPosted++;
    Atomics.store(ctl, SEQ, seq);
    // A sleeping helper is woken (and its wake-up is not counted as being late).
    this.woken[helper] = Atomics.load(ctl, SLEEPING) === 1;
    if (this.woken[helper]) Atomics.notify(ctl, SEQ);
  }

  /**
   * Waits until every helper has finished the part posted last. `ownMs`: how long the caller's own part
   * took; a helper counts as late when it finishes LATE_MS and twice that after the caller.
   */
  join(helpers: number, ownMs = 0): void {
    const lateMs = Math.max(LATE_MS, 2 * ownMs);
    let late = false;
    let since = -1;
    for (let i = 0; i < helpers; i++) {
      const ctl = this.ctl[i];
      const seq = this.seq[i];
      // Spin (a part takes microseconds); if the helper is held up (a busy machine), sleep until it is done.
      for (let spin = 1; Atomics.load(ctl, DONE) !== seq; spin++) {
        if ((spin & 255) !== 0) continue;
        if (since < 0) since = performance.now();
        const waited = performance.now() - since;
        if (waited > lateMs && !this.woken[i] && !late) {
          late = true;
          if (++this.lateStreak >= LATE_STREAK) {
            this.localCalls = LOCAL_AFTER_LATE;
            this.lateStreak = 0;
          }
        }
        if (waited > CALLER_SPIN_MS && this.canWait) {
          Atomics.store(ctl, CALLER_WAITING, 1);
          try {
            Atomics.wait(ctl, DONE, Atomics.load(ctl, DONE), 1);
          } catch {
            this.canWait = false; // a browser's main thread may not wait: spin on
          }
          Atomics.store(ctl, CALLER_WAITING, 0);
        }
      }
      const failed = Atomics.load(ctl, FAILED);
      if (failed !== 0) throw new Error(`KernelThreads: helper thread ${i + 1} failed in ${OPS[failed - 1] ?? 'a deferred sequence'} (an address outside the memory?)`);
    }
    if (!late) this.lateStreak = 0;
  }

  /**
   * A kernel interface that records calls instead of running them, for `postDeferred` to run on the first
   * helper while this thread goes on (an independent piece of work, e.g. the Target network's forward
   * beside the Q-network's). Only the kernels helpers run (OPS: a forward pass's, and soft_update) can be recorded.
   */
  get deferred(): KernelExports {
    return this.recorder;
  }

  /** Runs the calls recorded through `deferred` on the first helper; `joinDeferred` waits for them. */
  postDeferred(): void {
    if (this.deferredPending) throw new Error('KernelThreads.postDeferred: the previous deferred calls were not joined');
    const buffer = this.programBuffer;
    const calls = this.recorded;
    if (calls.length + 1 > buffer.length) throw new Error(`KernelThreads.postDeferred: ${calls.length} numbers exceed the program buffer`);
    buffer.set(calls, 1);
    buffer[0] = this.recordedCalls;
    this.recorded.length = 0;
    this.recordedCalls = 0;
    this.post(0, PROGRAM_OP, []);
    this.deferredPending = true;
  }

  /** Waits for the deferred calls posted last (nothing to wait for when none are outstanding). */
  joinDeferred(): void {
    if (!this.deferredPending) return;
    this.join(1, Infinity);
    this.deferredPending = false;
  }

  /** Whether the next call may be split: not while deferred calls run, nor while helpers have lately been late (LATE_MS). */
  shareNext(): boolean {
    if (this.deferredPending) return false;
    if (this.localCalls === 0 || this.alwaysShare) return true;
    this.localCalls--;
    return false;
  }
}

/**
 * Cut points of `n` items into `parts` nearly equal parts at multiples of `unit` (the last part takes the
 * remainder): [0, c1, …, n]. Fewer parts when n is small.
 */
export function cutPoints(n: number, parts: number, unit: number): number[] {
  const units = Math.floor(n / unit);
  const used = Math.max(1, Math.min(parts, units));
  const cuts = [0];
  for (let p = 1; p < used; p++) cuts.push(Math.round((units * p) / used) * unit);
  cuts.push(n);
  return cuts;
}

/** The split kernel interface over `local` (see the file comment); calls it cannot split run on `local`. */
function splitExports(local: KernelExports, threads: KernelThreads): KernelExports {
  const helpers = threads.threads - 1;
  /** Runs part 0 here and parts 1.. on the helpers: part(p) gives op arguments for part p. */
  const run = (op: SplitOp, cuts: number[], part: (lo: number, hi: number) => number[]): void => {
    if (cuts.length > 2 && !threads.shareNext()) cuts = [cuts[0], cuts[cuts.length - 1]];
    const parts = cuts.length - 1;
    for (let p = 1; p < parts; p++) threads.post(p - 1, op, part(cuts[p], cuts[p + 1]));
    const own = part(cuts[0], cuts[1]);
    if (parts === 1) return void (local[op] as (...a: number[]) => unknown)(...own);
    const started = performance.now();
    (local[op] as (...a: number[]) => unknown)(...own);
    threads.join(parts - 1, performance.now() - started);
  };
  const F = 4;
  /**
   * A gemm is cut by columns when the weights outweigh the rows (each thread then reads only its columns'
   * panels: K × N against M × K), at multiples of 32 so that a row left over from the 4-row tiles meets
   * the same 32-column groups and trailing panels as in one call; else by rows, at the 4-row tile.
   */
  const gemmCuts = (M: number, K: number, N: number): { byColumns: boolean; cuts: number[] } | null => {
    if (M * K * N < MIN_SPLIT_MACS) return null;
    if (K * N > BY_COLUMNS_WEIGHTS && N >= 64) return { byColumns: true, cuts: cutPoints(N, helpers + 1, 32) };
    return M < 8 ? null : { byColumns: false, cuts: cutPoints(M, helpers + 1, 4) };
  };
  const gemm = (op: 'gemm_packed_set' | 'gemm_packed_accumulate') => (out: number, ldo: number, a: number, lda: number, w: number, M: number, K: number, N: number): void => {
    const plan = gemmCuts(M, K, N);
    if (!plan) return local[op](out, ldo, a, lda, w, M, K, N);
    if (plan.byColumns) run(op, plan.cuts, (lo, hi) => [out + lo * F, ldo, a, lda, w + lo * K * F, M, K, hi - lo]);
    else run(op, plan.cuts, (lo, hi) => [out + lo * ldo * F, ldo, a + lo * lda * F, lda, w, hi - lo, K, N]);
  };
  return {
    ...local,
    gemm_packed_set: gemm('gemm_packed_set'),
    gemm_packed_accumulate: gemm('gemm_packed_accumulate'),
    gemm_packed_bias_set(out, ldo, a, lda, w, bias, M, K, N) {
      const plan = gemmCuts(M, K, N);
      if (!plan) return local.gemm_packed_bias_set(out, ldo, a, lda, w, bias, M, K, N);
      if (plan.byColumns) run('gemm_packed_bias_set', plan.cuts, (lo, hi) => [out + lo * F, ldo, a, lda, w + lo * K * F, bias + lo * F, M, K, hi - lo]);
      else run('gemm_packed_bias_set', plan.cuts, (lo, hi) => [out + lo * ldo * F, ldo, a + lo * lda * F, lda, w, bias, hi - lo, K, N]);
    },
    outer_accumulate(dw, a, lda, d, ldd, M, K, N) {
      // Cut the 8-column panels: each dW element keeps its sum over the M rows in order.
      if (M * K * N < MIN_SPLIT_MACS || N < 16) return local.outer_accumulate(dw, a, lda, d, ldd, M, K, N);
      run('outer_accumulate', cutPoints(N, helpers + 1, 8), (lo, hi) => [dw + lo * K * F, a, lda, d + lo * F, ldd, M, K, hi - lo]);
    },
    gather_bias_rows(out, ldo, bias, table, ldt, tokens, M, N) {
      if (M * N < MIN_SPLIT_ROWS_ELEMENTS) return local.gather_bias_rows(out, ldo, bias, table, ldt, tokens, M, N);
      run('gather_bias_rows', cutPoints(M, helpers + 1, 1), (lo, hi) => [out + lo * ldo * F, ldo, bias, table, ldt, tokens + lo * 4, hi - lo, N]);
    },
    scatter_rows_accumulate(table, ldt, tokens, d, ldd, M, N) {
      // Rows may share a token: cut columns, so each table element keeps its order of additions.
      if (M * N < MIN_SPLIT_ROWS_ELEMENTS || N < 8) return local.scatter_rows_accumulate(table, ldt, tokens, d, ldd, M, N);
      run('scatter_rows_accumulate', cutPoints(N, helpers + 1, 4), (lo, hi) => [table + lo * F, ldt, tokens, d + lo * F, ldd, M, hi - lo]);
    },
    gather_weighted_rows_bias_set(out, ldo, bias, table, ldt, indices, values, K, M, N) {
      if (M * N * K < MIN_SPLIT_ROWS_ELEMENTS) return local.gather_weighted_rows_bias_set(out, ldo, bias, table, ldt, indices, values, K, M, N);
      run('gather_weighted_rows_bias_set', cutPoints(M, helpers + 1, 1), (lo, hi) => [
        out + lo * ldo * F, ldo, bias, table, ldt, indices + lo * K * 4, values + lo * K * F, K, hi - lo, N]);
    },
    scatter_weighted_rows_accumulate(table, ldt, indices, values, K, d, ldd, M, N) {
      // Rows may share a table row: cut columns, so each table element keeps its order of additions.
      if (M * N * K < MIN_SPLIT_ROWS_ELEMENTS || N < 8) return local.scatter_weighted_rows_accumulate(table, ldt, indices, values, K, d, ldd, M, N);
      run('scatter_weighted_rows_accumulate', cutPoints(N, helpers + 1, 4), (lo, hi) => [table + lo * F, ldt, indices, values, K, d + lo * F, ldd, M, hi - lo]);
    },
    colsum_accumulate(db, d, ldd, M, N) {
      if (M * N < MIN_SPLIT_ROWS_ELEMENTS || N < 8) return local.colsum_accumulate(db, d, ldd, M, N);
      run('colsum_accumulate', cutPoints(N, helpers + 1, 4), (lo, hi) => [db + lo * F, d + lo * F, ldd, M, hi - lo]);
    },
    lstm_cell_forward(act, c, tanhC, h, pre, cPrev, B, P) {
      if (B * P < MIN_SPLIT_CELLS || B < 2) return local.lstm_cell_forward(act, c, tanhC, h, pre, cPrev, B, P);
      const G = 4 * P;
      run('lstm_cell_forward', cutPoints(B, helpers + 1, 1), (lo, hi) => [
        act + lo * G * F, c + lo * P * F, tanhC + lo * P * F, h + lo * P * F, pre + lo * G * F, cPrev + lo * P * F, hi - lo, P]);
    },
    lstm_cell_backward_set(dpre, dcPrev, dh, dc, act, cPrev, tanhC, B, P, ldd) {
      if (B * P < MIN_SPLIT_CELLS || B < 2) return local.lstm_cell_backward_set(dpre, dcPrev, dh, dc, act, cPrev, tanhC, B, P, ldd);
      const G = 4 * P;
      run('lstm_cell_backward_set', cutPoints(B, helpers + 1, 1), (lo, hi) => [
        dpre + lo * ldd * F, dcPrev + lo * P * F, dh + lo * P * F, dc + lo * P * F, act + lo * G * F, cPrev + lo * P * F, tanhC + lo * P * F, hi - lo, P, ldd]);
    },
    softmax_xent_forward(logp, argmax, logits, ld, labels, M, C) {
      if (M * C < MIN_SPLIT_SOFTMAX) return local.softmax_xent_forward(logp, argmax, logits, ld, labels, M, C);
      run('softmax_xent_forward', cutPoints(M, helpers + 1, 1), (lo, hi) => [logp + lo * F, argmax + lo * 4, logits + lo * ld * F, ld, labels + lo * 4, hi - lo, C]);
    },
    softmax_xent_backward_set(dlogits, logits, ld, labels, weight, M, C) {
      if (M * C < MIN_SPLIT_SOFTMAX) return local.softmax_xent_backward_set(dlogits, logits, ld, labels, weight, M, C);
      run('softmax_xent_backward_set', cutPoints(M, helpers + 1, 1), (lo, hi) => [dlogits + lo * ld * F, logits + lo * ld * F, ld, labels + lo * 4, weight + lo * F, hi - lo, C]);
    },
  };
}
