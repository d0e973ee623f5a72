/**
 * Loading the kernels and the default model from every source the library accepts (no argument, bytes,
 * ArrayBuffer, Response, URL, compiled module), the errors for anything else, and the bundled copies: the
 * base64 modules generated at build time must decode to exactly the files they were made from.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeBase64 } from '../../src/engine/bundled_assets.js';
import { kernelDigest } from '../../src/io/fingerprint.js';
import {
  compositionToMidi, decodeModel, defaultNoteRnnBytes, generate, kernelsFromModule, KernelThreads, loadDefaultNoteRnn, loadKernels, loadNoteRnn, tune,
} from '../../src/index.js';
import kernelsWasm from '../../src/entries/wasm.js';
import relaxedKernelsWasm from '../../src/entries/wasm_relaxed.js';
import sharedKernelsWasm from '../../src/entries/wasm_shared.js';
// rltuner/node-threads as the package ships it: a worker thread cannot load the TypeScript source.
import { startNodeKernelThread } from '../../dist/node/kernel_thread.js';
import noteRnnModelBytes from '../../src/entries/model.js';

const wasmUrl = new URL('../../dist/rltuner.wasm', import.meta.url);
const wasmFile = new Uint8Array(readFileSync(wasmUrl));
const relaxedFile = new Uint8Array(readFileSync(new URL('../../dist/rltuner-relaxed.wasm', import.meta.url)));
const sharedFile = new Uint8Array(readFileSync(new URL('../../dist/rltuner-shared.wasm', import.meta.url)));
const modelFile = new Uint8Array(readFileSync(new URL('../../models/note_rnn.safetensors', import.meta.url)));

describe('bundled copies', () => {
  it('decodes base64 of every length and padding like Node does', () => {
    for (let n = 0; n <= 10; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 97 + 13) & 255);
      expect(decodeBase64(Buffer.from(bytes).toString('base64'))).toEqual(bytes);
    }
    expect(() => decodeBase64('abc')).toThrow(/length 3 is not a multiple of 4/);
    expect(() => decodeBase64('ab-d')).toThrow(/character "-" at 2 is not base64/);
  });

  it('rltuner/wasm, rltuner/wasm-relaxed, rltuner/wasm-shared and rltuner/model are the built files, byte for byte', () => {
    expect(kernelsWasm).toEqual(wasmFile);
    expect(relaxedKernelsWasm).toEqual(relaxedFile);
    expect(sharedKernelsWasm).toEqual(sharedFile);
    expect(noteRnnModelBytes).toEqual(modelFile);
  });

  it('loadKernels() and loadDefaultNoteRnn() give what the files give', async () => {
    const bundled = await loadKernels();
    const fromFile = await loadKernels(wasmFile);
    expect(bundled.heapBase).toBe(fromFile.heapBase);
    expect(bundled.relaxed).toBe(false);
    expect(await defaultNoteRnnBytes()).toEqual(modelFile);
    const { model, decoded } = await loadDefaultNoteRnn(bundled, 2);
    const fromModelFile = loadNoteRnn(fromFile, modelFile, 2).model;
    expect(decoded.config).toEqual(fromModelFile.config);
    const a = generate(model, { count: 2, length: 32, seed: 3 });
    const b = generate(fromModelFile, { count: 2, length: 32, seed: 3 });
    expect(a).toEqual(b);
    expect(String.fromCharCode(...compositionToMidi(a[0]).subarray(0, 4))).toBe('MThd');
  });
});

describe('loadKernels sources', () => {
  const heapBase = kernelsFromModule(new WebAssembly.Module(wasmFile)).heapBase;
  const wasmResponse = (contentType: string | null) => new Response(wasmFile.slice(), contentType ? { headers: { 'content-type': contentType } } : {});

  it('accepts bytes, an ArrayBuffer, a Buffer, other views, a module, Responses and file: URLs', async () => {
    const sources: [string, unknown][] = [
      ['Uint8Array', wasmFile],
      ['ArrayBuffer', wasmFile.slice().buffer],
      ['Buffer', readFileSync(wasmUrl)],
      ['DataView', new DataView(wasmFile.slice().buffer)],
      ['WebAssembly.Module', new WebAssembly.Module(wasmFile)],
      ['Response with application/wasm', wasmResponse('application/wasm')],
      ['Response without a content type', wasmResponse(null)],
      ['promise of a Response', Promise.resolve(wasmResponse('application/wasm; charset=binary'))],
      ['file: URL', wasmUrl],
      ['file: URL string', wasmUrl.href],
    ];
    for (const [name, source] of sources) {
      const kernels = await loadKernels(source as Uint8Array);
      expect({ name, heapBase: kernels.heapBase }).toEqual({ name, heapBase });
    }
  });

  it('names what it was given when it cannot use it', async () => {
    const expected = /^loadKernels: expected wasm bytes \(a Uint8Array or ArrayBuffer\), a WebAssembly.Module, a fetch Response, a URL, or no argument for the bundled kernels; got /;
    await expect(loadKernels(42 as unknown as Uint8Array)).rejects.toThrow(new RegExp(`${expected.source}a number \\(42\\)$`));
    await expect(loadKernels(null as unknown as Uint8Array)).rejects.toThrow(new RegExp(`${expected.source}null$`));
    await expect(loadKernels(new Blob([wasmFile]) as unknown as Uint8Array)).rejects.toThrow(new RegExp(`${expected.source}a Blob$`));
    await expect(loadKernels({ path: 'x.wasm' } as unknown as Uint8Array)).rejects.toThrow(/got a plain object with keys \["path"\]$/);
    await expect(loadKernels('dist/rltuner.wasm')).rejects.toThrow(/"dist\/rltuner.wasm" is not an absolute URL; pass new URL\(path, import.meta.url\)/);
    await expect(loadKernels(new URL('file:///no/such/rltuner.wasm'))).rejects.toThrow(/cannot read file:\/\/\/no\/such\/rltuner.wasm \(ENOENT/);
    await expect(loadKernels(new Response('missing', { status: 404, statusText: 'Not Found' }))).rejects.toThrow(/failed with HTTP 404 Not Found/);
    await expect(loadKernels(modelFile)).rejects.toThrow(/cannot compile a Uint8Array as WebAssembly: .*magic/);
    expect(() => kernelsFromModule(wasmFile)).toThrow(/kernelsFromModule: expected a compiled WebAssembly.Module; got a Uint8Array/);
    const notKernels = new WebAssembly.Module(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    expect(() => kernelsFromModule(notKernels)).toThrow(/not the rltuner kernel set \(no export "heap_base"\)/);
  });
});

describe('kernel threads through the library', () => {
  it('tune on two threads (rltuner/wasm-shared, rltuner/node-threads) gives the bits of one thread', async () => {
    const config = { trainingSteps: 640, explorationSteps: 320, logEvery: 320, evalEvery: 320, evalCompositions: 40, sampleCount: 2, checkpointEvery: 0 };
    const one = await tune(await loadKernels(), modelFile, { config });
    const shared = await loadKernels(sharedKernelsWasm);
    expect(shared.shared).toBe(true);
    await expect(KernelThreads.start(await loadKernels(), 2, startNodeKernelThread)).rejects.toThrow(/load the shared-memory build \(the package's rltuner\/wasm-shared/);
    const pool = await KernelThreads.start(shared, 2, startNodeKernelThread);
    try {
      const two = await tune(pool.kernels, modelFile, { config });
      expect(pool.partsPosted).toBeGreaterThan(0); // the helper ran the Target network's forward passes
      expect(two.modelBytes).toEqual(one.modelBytes);
      expect(two.final?.tuned.statistics).toEqual(one.final?.tuned.statistics);
      expect(two.final?.samples).toEqual(one.final?.samples);
    } finally {
      pool.close();
    }
  }, 60_000); // two short tunes with a helper thread spinning, beside other test files on a 2-core machine
});

describe('model bytes', () => {
  it('loadNoteRnn and tune take an ArrayBuffer as well as a Uint8Array', async () => {
    const kernels = await loadKernels(wasmFile);
    const fromBuffer = loadNoteRnn(kernels, modelFile.slice().buffer, 1).model;
    const fromBytes = loadNoteRnn(kernels, modelFile, 1).model;
    expect(generate(fromBuffer, { length: 16, seed: 5 })).toEqual(generate(fromBytes, { length: 16, seed: 5 }));
    const run = await tune(kernels, modelFile.slice().buffer, { preset: 'g', config: { trainingSteps: 64, explorationSteps: 32, logEvery: 32, evalEvery: 0, checkpointEvery: 0 } });
    expect(run.history.length).toBeGreaterThan(0);
    // The tuned model records what it was made from, as the CLI's does.
    const tuned = decodeModel(run.modelBytes).info;
    const source = decodeModel(modelFile).info;
    expect(tuned.fingerprints).toEqual({
      format: 'rltuner-note-rnn/2', kernelBuild: 'plain', kernels: kernelDigest(wasmFile), noteRnn: createHash('sha256').update(modelFile).digest('hex'),
    });
    expect(tuned.data).toEqual(source.data);
    expect(tuned.training).toEqual(source.training);
    expect(tuned.notes).toMatchObject({ algorithm: 'g', steps: 64 });
    const primed = await tune(kernels, modelFile, { preset: 'g', config: { priming: 'primer', trainingSteps: 32, explorationSteps: 32, logEvery: 32, evalEvery: 0, checkpointEvery: 0 }, primer: [2, 0, 0, 0] });
    expect(decodeModel(primed.modelBytes).info.fingerprints?.priming).toMatch(/^[0-9a-f]{64}$/);
  }, 60_000);

  it('names what it was given when it is not bytes', () => {
    const kernels = kernelsFromModule(new WebAssembly.Module(wasmFile));
    expect(() => loadNoteRnn(kernels, new Response(modelFile) as unknown as Uint8Array))
      .toThrow(/^loadNoteRnn: expected the model file's bytes \(a Uint8Array or ArrayBuffer\); got a Response \(for a fetch Response or a Blob, pass new Uint8Array\(await response.arrayBuffer\(\)\)\)/);
    expect(() => loadNoteRnn(kernels, 'models/note_rnn.safetensors' as unknown as Uint8Array))
      .toThrow(/got a string \("models\/note_rnn.safetensors"\); loadDefaultNoteRnn\(kernels\) loads the shipped model$/);
  });
});
