/**
 * Reading and writing the safetensors format (https://github.com/huggingface/safetensors), the file format
 * of rltuner's model checkpoints. Layout:
 *
 *   u64 little-endian N | N bytes of UTF-8 JSON header, space-padded | tensor bytes, little-endian
 *
 * The header maps each tensor name to `{ dtype, shape, data_offsets: [begin, end] }` (offsets relative to
 * the start of the tensor bytes) and may hold `"__metadata__": { string: string }`. The writer stores F32
 * tensors and adds a `checksum` metadata entry (CRC-32 of the tensor bytes, 8 lower-case hex digits); the
 * reader accepts F32, F16 and BF16 (widened to Float32Array) and verifies the checksum when present.
 *
 * Browser- and Worker-safe: only Uint8Array, DataView and TextEncoder/TextDecoder, so byte order is
 * explicit and the result is the same on any host.
 */
import { excessiveNestingAt, MAX_JSON_NESTING } from './json_text.js';
import { preview, previewName } from './preview.js';

/** A tensor to write: `data.length` must equal the product of `shape`. */
export interface TensorToWrite {
  name: string;
  shape: number[];
  /** F32 values, or F16 bit patterns (a Uint16Array, written as dtype F16). */
  data: Float32Array | Uint16Array;
}

/** A tensor read back: `dtype` is the stored type; `data` is always widened to Float32Array. */
export interface DecodedTensor {
  shape: number[];
  dtype: string;
  data: Float32Array;
}

export interface DecodedSafetensors {
  tensors: Map<string, DecodedTensor>;
  metadata: Record<string, string>;
}

/** A malformed or corrupt safetensors file, or tensors that cannot be written; the message names which. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** The metadata key under which the writer stores the CRC-32 of the tensor bytes. */
export const CHECKSUM_KEY = 'checksum';

const METADATA_KEY = '__metadata__';
const HEADER_LENGTH_BYTES = 8;
const HEADER_ALIGNMENT = 8;

/** Bytes per element of each dtype the reader understands. */
const BYTES_PER_ELEMENT: Readonly<Record<string, number>> = { F32: 4, F16: 2, BF16: 2 };

// ---- checksum ----

/**
 * Tables of the reflected CRC-32 (IEEE 802.3, polynomial 0xEDB88320) for slice-by-8: table k (entries
 * k·256 .. k·256 + 255) maps a byte to the CRC of that byte followed by k zero bytes, so eight bytes fold
 * into the CRC with eight independent lookups. Table 0 is the classic bytewise table.
 */
const CRC32_TABLES: Int32Array = buildCrc32Tables();

function buildCrc32Tables(): Int32Array {
  const tables = new Int32Array(8 * 256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
    tables[byte] = crc;
  }
  for (let k = 1; k < 8; k++) {
    for (let byte = 0; byte < 256; byte++) {
      const previous = tables[(k - 1) * 256 + byte];
      tables[k * 256 + byte] = (previous >>> 8) ^ tables[previous & 0xff];
    }
  }
  return tables;
}

/**
 * CRC-32 (the zlib / PNG / gzip one) of `bytes`, as an unsigned 32-bit integer, continuing from the CRC
 * `previous` of the bytes before them (0 for none). The signature of Node's zlib.crc32, which a caller on
 * Node may pass to the writers instead: the same values, computed natively and several times faster
 * (bench/crc32_speed.ts measures both).
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  return crc32Final(crc32Update(crc32Final(previous), bytes));
}

/** A CRC-32 function with crc32's signature and values. */
export type Crc32 = (bytes: Uint8Array, previous?: number) => number;

/**
 * CRC-32 over more bytes, continuing from `crc` (start from 0xffffffff; finish with crc32Final): eight
 * bytes a round by slice-by-8, the last length % 8 bytes one at a time.
 */
function crc32Update(crc: number, bytes: Uint8Array): number {
  const t = CRC32_TABLES;
  const n = bytes.length;
  const end = n - (n % 8);
  let i = 0;
  for (; i < end; i += 8) {
    const low = crc ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    crc =
      t[7 * 256 + (low & 0xff)] ^ t[6 * 256 + ((low >>> 8) & 0xff)] ^ t[5 * 256 + ((low >>> 16) & 0xff)] ^ t[4 * 256 + (low >>> 24)] ^
      t[3 * 256 + bytes[i + 4]] ^ t[2 * 256 + bytes[i + 5]] ^ t[256 + bytes[i + 6]] ^ t[bytes[i + 7]];
  }
  for (; i < n; i++) crc = t[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return crc;
}

function crc32Final(crc: number): number {
  return (crc ^ 0xffffffff) >>> 0;
}

/** The checksum string the writer stores: CRC-32 of `bytes` as 8 lower-case hex digits. */
export function checksumHex(bytes: Uint8Array): string {
  return crc32(bytes).toString(16).padStart(8, '0');
}

// ---- writing ----

/**
 * Encodes F32 tensors (in the given order) and string metadata as a safetensors file. Adds the `checksum`
 * metadata entry; `metadata` must not already contain it.
 */
export function encodeSafetensors(tensors: TensorToWrite[], metadata: Record<string, string>): Uint8Array {
  return joinParts(encodeSafetensorsParts(tensors, metadata));
}

/** One buffer holding `parts` one after another. */
export function joinParts(parts: readonly Uint8Array[]): Uint8Array {
  const file = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    file.set(part, offset);
    offset += part.length;
  }
  return file;
}

/**
 * The same file as `encodeSafetensors`, in parts to be written one after another: the header, then each
 * tensor's bytes. On little-endian hosts a Float32Array tensor's part is a view of its own memory (no copy),
 * so the parts are valid only until the tensors change: write them at once. `checksum` computes the CRC-32
 * stored in the metadata (crc32 here, or a native one with its values, e.g. Node's zlib.crc32).
 */
export function encodeSafetensorsParts(tensors: TensorToWrite[], metadata: Record<string, string>, checksum: Crc32 = crc32): Uint8Array[] {
  checkMetadataToWrite(metadata);
  const names = new Set<string>();
  const header: Record<string, unknown> = Object.create(null); // tensor names such as "__proto__" are plain keys
  let dataBytes = 0;
  for (const tensor of tensors) {
    checkTensorToWrite(tensor, names);
    names.add(tensor.name);
    const half = tensor.data instanceof Uint16Array;
    const size = tensor.data.length * (half ? 2 : 4);
    header[tensor.name] = { dtype: half ? 'F16' : 'F32', shape: [...tensor.shape], data_offsets: [dataBytes, dataBytes + size] };
    dataBytes += size;
  }
  const dataParts = tensors.map((t) => (t.data instanceof Uint16Array ? uint16LittleEndianBytes(t.data) : float32LittleEndianBytes(t.data)));
  let crc = 0;
  // Empty parts are skipped: Node's zlib.crc32 returns 0, not the running CRC, for an empty view of an empty buffer.
  for (const part of dataParts) if (part.byteLength > 0) crc = checksum(part, crc) >>> 0;
  header[METADATA_KEY] = { ...metadata, [CHECKSUM_KEY]: crc.toString(16).padStart(8, '0') };
  const headerBytes = paddedHeaderBytes(JSON.stringify(header));
  const head = new Uint8Array(HEADER_LENGTH_BYTES + headerBytes.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  head.set(headerBytes, HEADER_LENGTH_BYTES);
  return [head, ...dataParts];
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** F16 bit patterns as little-endian bytes: a view of their own memory on little-endian hosts, else a copy. */
function uint16LittleEndianBytes(bits: Uint16Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength);
  const out = new Uint8Array(bits.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < bits.length; i++) view.setUint16(2 * i, bits[i], true);
  return out;
}

/** `values` as little-endian f32 bytes: a view of a Float32Array's own memory on little-endian hosts, else a copy. */
function float32LittleEndianBytes(values: ArrayLike<number>): Uint8Array {
  if (LITTLE_ENDIAN && values instanceof Float32Array) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i], true);
  return out;
}

/** UTF-8 bytes of the header JSON, padded with spaces so the tensor bytes start at a multiple of 8. */
function paddedHeaderBytes(json: string): Uint8Array {
  const raw = new TextEncoder().encode(json);
  const padded = new Uint8Array(Math.ceil(raw.length / HEADER_ALIGNMENT) * HEADER_ALIGNMENT).fill(0x20);
  padded.set(raw);
  return padded;
}

function checkMetadataToWrite(metadata: Record<string, string>): void {
  if (CHECKSUM_KEY in metadata) {
    throw new SafetensorsError(
      `metadata key "${CHECKSUM_KEY}" is reserved for the checksum the writer adds; rename or drop it`,
    );
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new SafetensorsError(
        `metadata "${key}" is a ${typeof value}, but safetensors metadata values must be strings; convert it with String() or JSON.stringify()`,
      );
    }
  }
}

function checkTensorToWrite(tensor: TensorToWrite, earlierNames: ReadonlySet<string>): void {
  const { name, shape, data } = tensor;
  if (name === METADATA_KEY) throw new SafetensorsError(`tensor name "${METADATA_KEY}" is reserved; rename the tensor`);
  if (earlierNames.has(name)) throw new SafetensorsError(`tensor "${name}" appears twice; tensor names must be unique`);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(`tensor "${name}" has shape [${shape.join(', ')}]; dimensions must be non-negative integers`);
  }
  const count = elementCount(shape);
  if (count !== data.length) {
    throw new SafetensorsError(
      `tensor "${name}" has shape [${shape.join(', ')}] (${count} elements) but ${data.length} values; make them agree`,
    );
  }
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, d) => product * d, 1);
}

// ---- reading ----

/**
 * The largest header the reader parses: 16 MiB. rltuner's own headers are a few kilobytes (the shipped
 * model's is 7,792 bytes; training records hold counts and settings, not file lists), and 16 MiB holds
 * the header of any safetensors file of up to tens of thousands of tensors, while a corrupt 8-byte
 * length (up to 2^64) is refused before a byte of it is decoded.
 */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024;
/** The most tensors a file may list: 65,536. A Note RNN has 3 per layer and 2 more (26 at 8 layers). */
export const MAX_TENSORS = 65_536;
/** The most dimensions a tensor's shape may have: 8. rltuner's tensors have 1 or 2. */
export const MAX_DIMENSIONS = 8;

/** A header entry after validation: its bytes are [begin, end) of the tensor bytes, checked against the file. */
export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** A file's header, checked against the file's size: nothing of the tensor bytes has been read. */
export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Offset of the tensor bytes in the file. */
  dataStart: number;
}

/**
 * Decodes a safetensors file. `source` names the file in error messages. Throws SafetensorsError for a
 * truncated file, a bad header, an unsupported dtype, inconsistent or overlapping offsets, trailing bytes,
 * non-string metadata, or a checksum mismatch ("corrupt").
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'model file'): DecodedSafetensors {
  const header = decodeSafetensorsHeader(bytes, source);
  return { tensors: decodeSafetensorsTensors(bytes, header, source), metadata: header.metadata };
}

/**
 * Reads and checks a file's header alone: its length against MAX_HEADER_BYTES and the file, each entry's
 * dtype, shape (at most MAX_DIMENSIONS) and byte count against its offsets, and the entries against the
 * tensor bytes (in bounds, no overlap, no gap, nothing after the last). Nothing is allocated for the
 * tensors: a caller can refuse what the header claims before any value is read.
 */
export function decodeSafetensorsHeader(bytes: Uint8Array, source = 'model file'): SafetensorsHeader {
  const fail = (problem: string): never => {
    throw new SafetensorsError(`${source}: ${problem}`);
  };
  if (bytes.length < HEADER_LENGTH_BYTES) {
    fail(`file is too short (${bytes.length} bytes; a safetensors file starts with an 8-byte header length)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  const available = bytes.length - HEADER_LENGTH_BYTES;
  if (headerLength > BigInt(available)) {
    fail(`header length ${headerLength} is larger than the ${available} bytes after it; the file is truncated or not safetensors`);
  }
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    fail(`header length ${headerLength} is above the ${MAX_HEADER_BYTES} bytes a header may have (MAX_HEADER_BYTES); the file is damaged or not a model`);
  }
  const dataStart = HEADER_LENGTH_BYTES + Number(headerLength);
  const header = parseHeader(bytes.subarray(HEADER_LENGTH_BYTES, dataStart), fail);
  const metadata = readMetadata(header[METADATA_KEY], fail);
  const names = Object.keys(header).filter((name) => name !== METADATA_KEY);
  if (names.length > MAX_TENSORS) fail(`the header lists ${names.length} tensors, above the ${MAX_TENSORS} a file may hold (MAX_TENSORS)`);
  const entries = names.map((name) => readTensorEntry(name, header[name], fail));
  checkLayout(entries, bytes.length - dataStart, fail);
  return { entries, metadata, dataStart };
}

/** The tensors of a file whose header decodeSafetensorsHeader checked: verifies the checksum, then reads the values. */
export function decodeSafetensorsTensors(bytes: Uint8Array, header: SafetensorsHeader, source = 'model file'): Map<string, DecodedTensor> {
  const data = bytes.subarray(header.dataStart);
  const expected = header.metadata[CHECKSUM_KEY];
  if (expected !== undefined && checksumHex(data) !== expected.toLowerCase()) {
    throw new SafetensorsError(`${source}: file is corrupt: tensor bytes have checksum ${checksumHex(data)}, header says ${preview(expected)}; re-create or re-download it`);
  }
  const tensors = new Map<string, DecodedTensor>();
  const dataView = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (const entry of header.entries) {
    tensors.set(entry.name, { shape: entry.shape, dtype: entry.dtype, data: readValues(dataView, entry) });
  }
  return tensors;
}

function parseHeader(headerBytes: Uint8Array, fail: (problem: string) => never): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch (error) {
    return fail(`header is not valid UTF-8 JSON (${previewName((error as Error).message, 120)}); the file is damaged or not safetensors`);
  }
  const deep = excessiveNestingAt(text);
  if (deep >= 0) fail(`header nests arrays and objects more than ${MAX_JSON_NESTING} deep (at character ${deep}; MAX_JSON_NESTING); the file is damaged or not safetensors`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return fail(`header is not valid UTF-8 JSON (${previewName((error as Error).message, 120)}); the file is damaged or not safetensors`);
  }
  if (!isPlainObject(parsed)) return fail('header JSON is not an object of tensor entries');
  return parsed;
}

function readMetadata(value: unknown, fail: (problem: string) => never): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) return fail(`"${METADATA_KEY}" is not an object of strings`);
  const metadata: Record<string, string> = Object.create(null);
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') fail(`metadata "${previewName(key)}" is ${preview(entry)}, not a string`);
    metadata[key] = entry as string;
  }
  return metadata;
}

function readTensorEntry(name: string, value: unknown, fail: (problem: string) => never): SafetensorsEntry {
  const shown = previewName(name);
  if (!isPlainObject(value)) return fail(`tensor "${shown}" has no {dtype, shape, data_offsets} entry`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string' || !Object.hasOwn(BYTES_PER_ELEMENT, dtype)) {
    fail(`tensor "${shown}" has unsupported dtype ${preview(dtype)}; supported: ${Object.keys(BYTES_PER_ELEMENT).join(', ')}`);
  }
  if (Array.isArray(shape) && shape.length > MAX_DIMENSIONS) {
    fail(`tensor "${shown}" has ${shape.length} dimensions, above the ${MAX_DIMENSIONS} a tensor may have (MAX_DIMENSIONS)`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`tensor "${shown}" has shape ${preview(shape)}; expected an array of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    fail(`tensor "${shown}" has data_offsets ${preview(offsets)}; expected [begin, end] non-negative integers`);
  }
  const [begin, end] = offsets as number[];
  const entry: SafetensorsEntry = { name, dtype: dtype as string, shape: shape as number[], begin, end };
  const count = elementCount(entry.shape);
  const expectedBytes = count * BYTES_PER_ELEMENT[entry.dtype];
  if (end - begin !== expectedBytes) {
    fail(
      `tensor "${shown}" has shape [${entry.shape.join(', ')}] (${count} × ${entry.dtype} = ${expectedBytes} bytes) but data_offsets [${begin}, ${end}] span ${end - begin} bytes`,
    );
  }
  return entry;
}

/** The tensors must tile the byte buffer exactly: in bounds, no overlap, no gap, nothing after the last. */
function checkLayout(entries: SafetensorsEntry[], dataLength: number, fail: (problem: string) => never): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous = '';
  for (const entry of sorted) {
    const shown = previewName(entry.name);
    if (entry.end > dataLength) {
      fail(`tensor "${shown}" data_offsets [${entry.begin}, ${entry.end}] run past the ${dataLength} tensor bytes; the file is truncated`);
    }
    if (entry.begin < covered) {
      fail(`tensor "${shown}" bytes [${entry.begin}, ${entry.end}) overlap tensor "${previous}" (ends at ${covered})`);
    }
    if (entry.begin > covered) {
      fail(`bytes [${covered}, ${entry.begin}) before tensor "${shown}" belong to no tensor`);
    }
    covered = entry.end;
    previous = shown;
  }
  if (covered < dataLength) {
    fail(`${dataLength - covered} trailing bytes after the last tensor (which ends at ${covered}); the file is damaged`);
  }
}

function readValues(dataView: DataView, entry: SafetensorsEntry): Float32Array {
  const width = BYTES_PER_ELEMENT[entry.dtype];
  const values = new Float32Array((entry.end - entry.begin) / width);
  for (let i = 0, offset = entry.begin; i < values.length; i++, offset += width) {
    if (entry.dtype === 'F32') values[i] = dataView.getFloat32(offset, true);
    else if (entry.dtype === 'BF16') values[i] = bfloat16ToNumber(dataView.getUint16(offset, true));
    else values[i] = float16ToNumber(dataView.getUint16(offset, true));
  }
  return values;
}

/** bfloat16 is the upper half of a float32. */
function bfloat16ToNumber(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, bits << 16);
  return view.getFloat32(0);
}

/** IEEE 754 half precision: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits. */
/**
 * The IEEE half-precision bit pattern nearest to `x` (round to nearest, ties to even; overflow to ±Infinity,
 * NaN kept a NaN). Exact for every value float16ToNumber returns.
 */
export function numberToFloat16(x: number): number {
  F32_SCRATCH[0] = x;
  const bits = U32_SCRATCH[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++; // a carry into the exponent is still right
  return sign | half;
}

const F32_SCRATCH = new Float32Array(1);
const U32_SCRATCH = new Uint32Array(F32_SCRATCH.buffer);

export function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
