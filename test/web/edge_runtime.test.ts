/**
 * The core as an edge runtime sees it (Cloudflare Workers / workerd, Deno Deploy, a browser worker):
 * the package's `workerd` entry (src/index_workerd.ts) bundled by vite into one IIFE, run in a node:vm
 * context whose globals are only what a worker runtime has (no process, require, Buffer, global, module),
 * with wasm compilation and eval disabled by the embedder exactly as workerd does it
 * (codeGeneration: { wasm: false, strings: false }). The entry's `import ... from './rltuner.wasm'` is
 * given the module compiled outside the context, as workerd gives a wasm module compiled at deploy time,
 * so `loadKernels()` needs no argument; the default model comes from its bundled base64 module. The real
 * wrangler build served by workerd runs in the consumer matrix (test/consumers/run.mjs).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { build, type Plugin, type Rolldown } from 'vite';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);

/** Globals of a worker runtime that the library may use; nothing from Node. */
function workerGlobals(): Record<string, unknown> {
  return {
    console, TextEncoder, TextDecoder, URL, AbortController, AbortSignal, setTimeout, clearTimeout, queueMicrotask,
    performance: { now: () => performance.now() },
  };
}

/** What the runtime links a `.wasm` import to: here, the module the test compiled outside the context. */
const deployedWasm: Plugin = {
  name: 'deployed-wasm',
  enforce: 'pre',
  resolveId: (id) => (id.endsWith('.wasm') ? `\0deployed:${id.split('/').at(-1)}` : null),
  load: (id) => (id.startsWith('\0deployed:') ? `export default globalThis.deployedModules[${JSON.stringify(id.slice(10))}];` : null),
};

async function bundleIndex(): Promise<string> {
  const result = await build({
    configFile: false,
    logLevel: 'warn',
    root,
    plugins: [deployedWasm],
    resolve: { conditions: ['workerd', 'worker', 'browser', 'import', 'default'] },
    build: {
      write: false,
      minify: false,
      target: 'es2022',
      lib: { entry: 'src/index_workerd.ts', formats: ['iife'], name: 'rltuner', fileName: 'rltuner' },
    },
  });
  const output = (Array.isArray(result) ? result[0] : result) as Rolldown.RolldownOutput;
  return output.output[0].code;
}

describe('edge runtime: bundled core, precompiled module, no Node globals', () => {
  let code = '';
  let context: vm.Context;
  const wasmPath = `${root}dist/rltuner.wasm`;
  const modelPath = `${root}models/note_rnn.safetensors`;

  beforeAll(async () => {
    code = await bundleIndex();
    context = vm.createContext(workerGlobals(), { name: 'edge', codeGeneration: { strings: false, wasm: false } });
    vm.runInContext('globalThis.self = globalThis;', context);
    // What the runtime hands the worker: the module compiled at deploy time, and the model bytes.
    // Compiled here in Node's realm, it is adopted into the context's realm (as workerd's own module
    // would be) so `instanceof WebAssembly.Module` holds there; it is not compiled again.
    const module = new WebAssembly.Module(readFileSync(wasmPath));
    Object.setPrototypeOf(module, vm.runInContext('WebAssembly.Module.prototype', context));
    context.deployedModules = { 'rltuner.wasm': module };
    vm.runInContext(code, context, { filename: 'rltuner.iife.js' });
    const modelBytes = readFileSync(modelPath);
    const inner = vm.runInContext(`new Uint8Array(${modelBytes.length})`, context) as Uint8Array;
    inner.set(modelBytes);
    context.wasmModule = module;
    context.modelBytes = inner;
    context.wasmBytes = vm.runInContext(`new Uint8Array(${readFileSync(wasmPath).length})`, context);
    (context.wasmBytes as Uint8Array).set(readFileSync(wasmPath));
  }, 30_000);

  it('maps the workerd condition to the entry that imports the real .wasm, and the others to the portable one', () => {
    const exports = JSON.parse(readFileSync(`${root}package.json`, 'utf8')).exports;
    for (const condition of ['types', 'browser', 'workerd', 'worker', 'node', 'import', 'require']) expect(exports['.'][condition]).toBeTruthy();
    expect(exports['.'].workerd).toBe('./dist/index_workerd.js');
    expect(exports['./wasm'].workerd).toBe('./dist/entries/wasm_workerd.js');
    expect(readFileSync(`${root}dist/index_workerd.js`, 'utf8')).toMatch(/from '\.\/rltuner\.wasm'/);
    // Node resolves the portable files, each with its types.
    expect(require.resolve('rltuner')).toBe(`${root}dist/index.js`);
    expect(require.resolve('rltuner/wasm')).toBe(`${root}dist/entries/wasm.js`);
    expect(require.resolve('rltuner/wasm-relaxed')).toBe(`${root}dist/entries/wasm_relaxed.js`);
    expect(require.resolve('rltuner/model')).toBe(`${root}dist/entries/model.js`);
    for (const subpath of ['.', './wasm', './wasm-relaxed', './model']) expect(exports[subpath].types).toMatch(/^\.\/dist\/.*\.d\.ts$/);
  });

  it('bundles without Node: no require, process, Buffer or node: imports', () => {
    expect(code).not.toMatch(/\brequire\s*\(|\bprocess\.|\bBuffer\b|["']node:/);
  });

  it('has no Node globals in reach, and compiling wasm or eval is refused', async () => {
    const seen = vm.runInContext(
      `[typeof process, typeof require, typeof Buffer, typeof global, typeof module, typeof __filename, typeof rltuner.generate]`,
      context,
    );
    expect(seen).toEqual(['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'function']);
    expect(() => vm.runInContext('new WebAssembly.Module(wasmBytes)', context)).toThrow(/disallowed/);
    await expect(vm.runInContext('WebAssembly.compile(wasmBytes)', context)).rejects.toThrow(/disallowed/);
    // So the byte path of loadKernels cannot work here: whatever runs below used the precompiled module.
    await expect(vm.runInContext('rltuner.loadKernels(wasmBytes)', context)).rejects.toThrow(/disallowed/);
    expect(() => vm.runInContext('eval("1")', context)).toThrow(/disallowed/);
  });

  it('loads the precompiled module, generates valid tokens and writes MIDI', async () => {
    const result = await vm.runInContext(
      `(async () => {
        const kernels = await rltuner.loadKernels();
        const sync = rltuner.kernelsFromModule(wasmModule);
        const { model } = await rltuner.loadDefaultNoteRnn(kernels, 4);
        const fromBytes = rltuner.loadNoteRnn(kernels, modelBytes.buffer, 1).model;
        const compositions = rltuner.generate(model, { count: 4, length: 48, temperature: 1, seed: 7 });
        const midi = rltuner.compositionToMidi(compositions[0]);
        const back = rltuner.importMidi(midi, { transpose: false, centre: false }).tokens;
        return {
          heapBase: kernels.heapBase, syncHeapBase: sync.heapBase, sameModule: kernels.module === wasmModule,
          sameSample: rltuner.generate(fromBytes, { length: 48, seed: 7 })[0].join() === rltuner.generate(model, { length: 48, seed: 7 })[0].join(),
          compositions: compositions.map((c) => Array.from(c)),
          midi: Array.from(midi),
          backNotes: Array.from(back).filter((t) => t >= 2).length,
        };
      })()`,
      context,
    );
    expect(result.heapBase).toBeGreaterThan(0);
    expect(result.syncHeapBase).toBe(result.heapBase);
    expect(result.sameModule).toBe(true); // loadKernels() used the deployed module: nothing was compiled
    expect(result.sameSample).toBe(true); // the bundled default model is the shipped file
    expect(result.compositions).toHaveLength(4);
    for (const tokens of result.compositions as number[][]) {
      expect(tokens).toHaveLength(48);
      for (const t of tokens) expect(Number.isInteger(t) && t >= 0 && t <= 37).toBe(true);
      expect(tokens.some((t) => t >= 2)).toBe(true);
    }
    expect(String.fromCharCode(...result.midi.slice(0, 4))).toBe('MThd');
    expect(result.backNotes).toBe((result.compositions[0] as number[]).filter((t) => t >= 2).length);
  });

  it('tunes a few hundred steps with progress, yielding through setTimeout', async () => {
    const result = await vm.runInContext(
      `(async () => {
        const kernels = rltuner.kernelsFromModule(wasmModule);
        const steps = [];
        const run = await rltuner.tune(kernels, modelBytes, {
          preset: 'g', config: { trainingSteps: 400, explorationSteps: 200, logEvery: 100, evalEvery: 0, checkpointEvery: 0 },
          onProgress: (p) => steps.push(p.step),
        });
        // The g preset tunes G, which acts with the Note RNN it was tuned from: loadNoteRnn refuses it alone.
        let refused = '';
        try { rltuner.loadNoteRnn(kernels, run.modelBytes, 1); } catch (e) { refused = e.name; }
        const tuned = rltuner.loadPolicy(kernels, run.modelBytes, { prior: modelBytes, maxBatch: 1 });
        return {
          steps, total: run.history.map((h) => h['charts/reward_total']), sample: Array.from(rltuner.generate(tuned, { length: 32 })[0]),
          refused, algorithm: tuned.algorithm, models: tuned.models.length,
        };
      })()`,
      context,
    );
    // One record per logging interval; an interval closes at the first episode end past its step.
    expect(result.steps).toHaveLength(4);
    expect(result.steps.at(-1)).toBe(416); // 400 steps rounded up to whole 32-step compositions
    result.steps.forEach((step: number, i: number) => expect(step).toBeGreaterThanOrEqual(100 * (i + 1)));
    for (const r of result.total as number[]) expect(Number.isFinite(r)).toBe(true);
    expect(result.sample).toHaveLength(32);
    expect(result.refused).toBe('PolicyLoadError');
    expect([result.algorithm, result.models]).toEqual(['g', 2]);
  }, 30_000); // the run ends with the default 1,000-composition evaluation: seconds on a busy 2-core machine
});
