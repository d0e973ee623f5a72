/**
 * Runs one of rltuner's readers on a file in a fresh node process and measures it honestly: the wall time
 * of the call, and the peak resident memory during it less the resident memory just before it (heap,
 * ArrayBuffers, code and the garbage collector's own space alike, everything the process holds).
 *
 * The peak is Linux's VmHWM, reset just before the call through /proc/self/clear_refs, so it is the
 * call's own peak; where that cannot be reset (another OS), the process's lifetime peak is used, which
 * can only overstate the call's. The reader first runs once on a valid file of its kind, so the code is
 * compiled and the heap warmed before the measured call. Uses dist/ (built by `npm test`'s pretest).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));

/** The readers a fresh process can run, by the kind of file. */
export type ReaderKind = 'model' | 'magenta' | 'noteseq' | 'midi';

export interface Measured {
  /** What the call gave: "ok <description>" or "<ErrorName>: <message>". */
  outcome: string;
  /**
   * Milliseconds of CPU the call took (user and system time of the measuring process across the call, which
   * runs on one thread): what the input costs, not how long the machine's other work kept it waiting.
   */
  ms: number;
  /** Wall-clock milliseconds across the call (the CPU time plus any time the process waited). */
  wallMs: number;
  /** Peak resident memory during the call minus resident memory before it. */
  peakGrowthBytes: number;
  /** How the peak was read: 'VmHWM' (the call's own) or 'maxRSS' (the process's lifetime, an overstatement). */
  peakFrom: 'VmHWM' | 'maxRSS';
}

const SCRIPT = `
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
const dist = process.argv[1];
const [kind, warmUp, input] = process.argv.slice(2);
const { decodeModel } = await import(join(dist, 'io/model_file.js'));
const { tunedModelSettings } = await import(join(dist, 'rl/tuned_model.js'));
const { importMagentaCheckpoint } = await import(join(dist, 'io/magenta_checkpoint.js'));
const { fromNoteSequence } = await import(join(dist, 'music/note_sequence.js'));
const { importMidi } = await import(join(dist, 'music/midi_import.js'));
const readers = {
  model: (path) => {
    const decoded = decodeModel(new Uint8Array(readFileSync(path)), path);
    const settings = tunedModelSettings(decoded, path);
    return 'layers [' + decoded.config.hiddenSizes + '], ' + settings.numNotes + '-step compositions';
  },
  magenta: (folder) => {
    const shards = new Map(readdirSync(folder).filter((f) => f.endsWith('.bin')).map((f) => [f, new Uint8Array(readFileSync(join(folder, f)))]));
    const text = (f) => readFileSync(join(folder, f), 'utf8');
    return 'layers [' + importMagentaCheckpoint({ config: text('config.json'), manifest: text('weights_manifest.json'), shards }, folder).config.hiddenSizes + ']';
  },
  noteseq: (path) => fromNoteSequence(JSON.parse(readFileSync(path, 'utf8')), { name: path }).tokens.length + ' steps',
  midi: (path) => importMidi(new Uint8Array(readFileSync(path)), { name: path }).tokens.length + ' steps',
};
const read = readers[kind];
const run = (path) => { try { return 'ok ' + read(path); } catch (e) { return e.name + ': ' + e.message; } };
const warm = run(warmUp);
if (!warm.startsWith('ok')) throw new Error('the warm-up file was refused: ' + warm);
globalThis.gc?.();
const status = (field) => Number(new RegExp(field + ':\\\\s+(\\\\d+)').exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
let peakFrom = 'maxRSS';
try { writeFileSync('/proc/self/clear_refs', '5'); status('VmHWM'); peakFrom = 'VmHWM'; } catch {}
const before = peakFrom === 'VmHWM' ? status('VmRSS') : process.memoryUsage.rss();
const started = performance.now();
const cpuBefore = process.cpuUsage();
const outcome = run(input);
const cpu = process.cpuUsage(cpuBefore);
const wallMs = performance.now() - started;
const ms = (cpu.user + cpu.system) / 1000;
const peak = peakFrom === 'VmHWM' ? status('VmHWM') : process.resourceUsage().maxRSS * 1024;
process.stdout.write(JSON.stringify({ outcome, ms, wallMs, peakGrowthBytes: peak - before, peakFrom }));
`;

/** Runs the `kind` reader on `warmUp` (a valid file), then measures it on `input`. */
export function measureReader(kind: ReaderKind, warmUp: string, input: string): Promise<Measured> {
  return new Promise((done, fail) => {
    execFile(process.execPath, ['--expose-gc', '--input-type=module', '-e', SCRIPT, DIST, kind, warmUp, input], { maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
      if (error) fail(new Error(`the measuring process failed: ${stderr || error.message}`));
      else done(JSON.parse(stdout) as Measured);
    });
  });
}

/**
 * measureReader, run again (at most `attempts` times in all) while a run is over `boundMs`: a slow reader
 * is slow every time, while a pause from other processes on a shared machine hits one run. Returns the
 * fastest run's time and outcome, and the largest peak of all runs (memory is never excused).
 */
export async function measureReaderWithin(kind: ReaderKind, warmUp: string, input: string, boundMs: number, attempts = 3): Promise<Measured & { runs: number }> {
  let best = await measureReader(kind, warmUp, input);
  let runs = 1;
  let peak = best.peakGrowthBytes;
  while (best.ms > boundMs && runs < attempts) {
    const again = await measureReader(kind, warmUp, input);
    runs++;
    peak = Math.max(peak, again.peakGrowthBytes);
    if (again.outcome !== best.outcome) throw new Error(`${input}: gave "${best.outcome}" once and "${again.outcome}" the next time`);
    if (again.ms < best.ms) best = again;
  }
  return { ...best, peakGrowthBytes: peak, runs };
}
