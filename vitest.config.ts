/**
 * Test configuration: two projects, and the V8 flag the relaxed-SIMD build needs on Node 20.
 *
 * - `unit`: everything that needs only the wasm build (`npm run test:unit` builds just that): kernels,
 *   engine, rules, music, io, rl, eval, train, the page's logic.
 * - `e2e`: what needs the TypeScript build in dist/ as well (the real command line, worker threads loading
 *   dist/node/, the packed README blocks, an edge-runtime sandbox) or a browser (headless Chromium).
 *
 * `npm test` builds everything and runs both. The numeric tests in test/engine/ run on both kernel builds and
 * fail, saying why, when the runtime cannot run the relaxed one: the flag is passed to the test workers only
 * when this runtime does not already accept relaxed SIMD, tried on a one-function module using f32x4.relaxed_madd.
 */
import { defineConfig } from 'vitest/config';

const v128Zero = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
const probeBody = [0x00, ...v128Zero, ...v128Zero, ...v128Zero, 0xfd, 0x85, 0x02, 0x0b]; // relaxed_madd(0, 0, 0)
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // types: () -> v128
  0x03, 0x02, 0x01, 0x00, // one function of type 0
  0x0a, probeBody.length + 2, 0x01, probeBody.length, ...probeBody, // its code
]);

const relaxedSimdAccepted = WebAssembly.validate(RELAXED_SIMD_PROBE);

/** Test files that need dist/ (the TypeScript build: the CLI, worker threads, the package) or a browser. */
const NEEDS_BUILD_OR_BROWSER = [
  'test/cli/**/*.test.ts',
  'test/web/browser.test.ts',
  'test/web/edge_runtime.test.ts',
  'test/readme.test.ts',
  'test/io/convert_cli.test.ts',
  'test/music/midi_repro.test.ts',
  'test/music/corpus_cli.test.ts',
  'test/node/run_folder_lock.test.ts',
  'test/engine/kernel_threads.test.ts',
  'test/engine/loading.test.ts',
];

export default defineConfig({
  test: {
    execArgv: relaxedSimdAccepted ? [] : ['--experimental-wasm-relaxed-simd'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: NEEDS_BUILD_OR_BROWSER } },
      { extends: true, test: { name: 'e2e', include: NEEDS_BUILD_OR_BROWSER } },
    ],
  },
});
