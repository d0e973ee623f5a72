/**
 * CRC-32 throughput of the safetensors writer's checksum (slice-by-8) beside the bytewise table loop it
 * replaced and Node's native zlib.crc32 (which `tune` passes for its checkpoints), in this one process, on a
 * 32 MB buffer of pseudo-random bytes (a default G checkpoint is about 97 MB, checksummed once per write).
 *
 *   npm run build && tsc -p bench/tsconfig.json && node --expose-gc dist-bench/bench/crc32_speed.js [--quick]
 */
import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32 } from '../src/io/safetensors.js';
import { measure, type Mode } from './measure.js';

/** The peer: the bytewise CRC-32 loop (one 256-entry table lookup per byte). */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
    table[byte] = crc >>> 0;
  }
  return table;
})();

function crc32Bytewise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const mode: Mode = process.argv.includes('--quick') ? 'quick' : 'full';
const bytes = new Uint8Array(32 << 20);
let x = 2463534242;
for (let i = 0; i < bytes.length; i++) {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  bytes[i] = x & 0xff;
}
if (crc32(bytes) !== crc32Bytewise(bytes)) throw new Error('crc32 and the bytewise peer disagree');
if (crc32(bytes) !== zlibCrc32(bytes) >>> 0) throw new Error('crc32 and zlib.crc32 disagree');
console.log('| CRC-32 of 32 MB | MB/s | per MB |');
console.log('|---|---:|---:|');
for (const [name, fn] of [['bytewise (peer)', crc32Bytewise], ['slice-by-8 (crc32)', crc32], ['native (zlib.crc32)', zlibCrc32]] as const) {
  const t = measure(name, () => void fn(bytes), mode);
  const mbPerSecond = bytes.length / 1e6 / (t.medianMs / 1e3);
  console.log(`| ${name} | ${mbPerSecond.toFixed(0)} ±${t.rme.toFixed(1)}% | ${((t.medianMs / bytes.length) * 1e6 * 1e3).toFixed(0)} µs |`);
}
