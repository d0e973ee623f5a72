/**
 * Test configuration: vitest's defaults, plus the V8 flag the relaxed-SIMD build needs on Node 20. The
 * numeric tests in test/engine/ run on both builds and fail, saying why, when the runtime cannot run the
 * relaxed one. The flag is passed to the test workers only when this runtime does not already accept
 * relaxed SIMD, tried on a one-function module using f32x4.relaxed_madd.
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

export default defineConfig({
  test: {
    execArgv: relaxedSimdAccepted ? [] : ['--experimental-wasm-relaxed-simd'],
  },
});
