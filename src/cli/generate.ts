/**
 * `rltuner generate`: sample melodies from a model and write them as MIDI files, batch by batch: each
 * file is written (atomically) as soon as its batch is sampled, and Ctrl-C / SIGTERM stops after the
 * current batch, saying how many were written, with exit code 130 / 143. Batches are as large as the
 * model's (up to 256), so the files are the same as from one call sampling them all.
 */
import { join, resolve } from 'node:path';
import { sampleCompositions, type Priming } from '../policy/sampling.js';
import { NO_EVENT, NUM_CLASSES, NUM_SPECIAL, tokenName } from '../music/encoding.js';
import { barGrid } from '../music/encodings.js';
import { exportMidi, type ExportOptions } from '../music/midi_export.js';
import { melodyAsText } from '../music/notes.js';
import { importMidi, type ImportOptions, type ImportResult } from '../music/midi_import.js';
import { decodeModel, recordedImport } from '../io/model_file.js';
import { keyName, transposeKey, type Key } from '../music/keys.js';
import { checkKeyOfModel, describeModelKey, importFlagRows, importFlags, keyFlag, modelKeyOf, type ModelKey } from './key_flags.js';
import { TIMING_BEFORE_ALIGNED } from '../train/training_data.js';
import { Random } from '../random.js';
import {
  loadKernelsFromDist, MIDI_FILE_LIMIT, PART_FLAGS, partFlags, readInput, readModelBytes, SEED_RANGE, STDOUT, stopOnSignal, UsageError, writeFileAtomic,
  yieldToEventLoop,
} from './common.js';
import { commandHelp, defineCommand, inGroup, parseCommandLine } from './flags.js';
import { loadPolicy } from './policy.js';

export const GENERATE = defineCommand({
  name: 'generate',
  title: 'sample melodies from a model to MIDI files',
  usage: ['generate [options]'],
  flags: [
    { name: 'model', kind: 'string', arg: '<file>', doc: 'a Note RNN or tuned model (.safetensors)', defaultText: 'the shipped default Note RNN' },
    { name: 'prior', kind: 'string', arg: '<file>', doc: 'the Note RNN prior of a G-tuned model (the very Note RNN it was tuned from)', defaultText: 'the shipped default' },
    { name: 'count', kind: 'integer', min: 1, max: 100000, default: 4, doc: 'melodies to write' },
    { name: 'length', alias: 'num-notes', kind: 'integer', min: 1, max: 100000, default: 64, arg: '<steps>', doc: 'sixteenth-note steps per melody' },
    { name: 'temperature', kind: 'number', min: 0, max: 100, default: 1, doc: 'softmax temperature; 0 takes the most likely note' },
    { name: 'seed', kind: 'integer', ...SEED_RANGE, default: 1, doc: 'random seed' },
    {
      name: 'key', kind: 'string', arg: '<tonic>',
      doc: "the key of the melodies' notes, written in their key signature: C, C#, Db, D, ... B. A tuned model's notes are in the key it was tuned in, so --key/--mode must name that key (the same flags as `tune`); a Note RNN's are in C or A (trained by key) or on the white keys (the shipped model)",
      defaultText: "the model's: a tuned model's --key/--mode, a Note RNN's C major",
    },
    {
      name: 'mode', kind: 'string', arg: '<name>',
      doc: 'its mode: major, minor, dorian, phrygian, lydian, mixolydian, locrian. Modes beyond major and minor are written with their notes\' signature (D dorian: no sharps or flats) and a text event naming them',
      defaultText: "the model's",
    },
    {
      name: 'transpose', kind: 'integer', min: -24, max: 24, arg: '<n>',
      expected: 'a whole number of semitones from -24 to 24 (e.g. 2 moves the melodies a whole tone up)',
      doc: 'move the melodies n semitones (-24..24) for playback; the signature moves with them', defaultText: "0; with a primer and a Note RNN, back to the primer's key",
    },
    ...inGroup('Primer', [
      {
        name: 'primer', kind: 'string', arg: '<file.mid>',
        doc: "start from this melody (it is fed to the model, not written), moved to the model's key; the melodies continue it in its meter and tempo, bars lined up",
      },
      ...PART_FLAGS.map((row) => ({ ...row, doc: row.doc.replace('each MIDI file', 'the primer') })),
      ...importFlagRows(true),
    ]),
    ...inGroup('Output', [
      { name: 'meter', kind: 'string', arg: '<n/d>', doc: 'time signature written (e.g. 6/8)', defaultText: "the primer's, else 4/4" },
      { name: 'qpm', kind: 'number', min: 1, max: 1000, default: 120, doc: 'tempo of the MIDI files', defaultText: "the primer's with --primer" },
      {
        name: 'out', kind: 'string', arg: '<dir>', default: 'runs/generate',
        doc: 'folder for the files, melody_001.mid, ...; - writes the one melody of --count 1 to standard output',
      },
      { name: 'notes', kind: 'boolean', doc: 'print each whole melody as note names with durations, bar by bar (C4 8th, rest 16th, ... | ...), instead of its first 16 steps' },
    ]),
  ],
  notes: 'Files are written as their batch (up to 256 melodies) is sampled; Ctrl-C stops after the current batch.',
});

/** Melodies sampled at a time (and so the most a Ctrl-C waits for); the policy's batch. */
const MAX_BATCH = 256;

export async function generateCommand(args: string[]): Promise<number | void> {
  const { values: v, given, help } = parseCommandLine(GENERATE, args);
  if (help) {
    process.stdout.write(commandHelp(GENERATE));
    return;
  }
  const { count, length, temperature, seed } = v;
  const toStdout = v.out === STDOUT;
  if (toStdout && count !== 1) {
    throw new UsageError(`--out - writes one MIDI file to standard output, and --count ${count} asks for ${count}; pass --count 1, or name a folder`, 'generate');
  }
  const out = toStdout ? STDOUT : resolve(v.out);
  const asked = keyFlag('generate', v);
  const transposeGiven = v.transpose;
  const meterGiven = meterFlag(v.meter);
  const model = readModelBytes(v.model);
  const decoded = decodeModel(model.bytes, model.path);
  const modelKey = modelKeyOf(decoded);
  if (asked) checkKeyOfModel('generate', asked, modelKey, model.path);
  const importOptions = { ...modelImportOptions(decoded, model.path), ...partFlags(v), ...importFlags('generate', v) };

  let priming: Priming = { kind: 'random_note' };
  const primerPath = v.primer;
  let primer: ImportResult | null = null;
  let primerShift = 0;
  if (primerPath) {
    const bytes = readInput(resolve(primerPath), 'primer MIDI file', 'Pass a Standard MIDI File with a melody, or omit --primer.', MIDI_FILE_LIMIT);
    primer = importMidi(bytes, { name: primerPath, ...importOptions });
    let tokens = primer.tokens;
    if (modelKey.kind === 'tuned') {
      // The primer's tonic, where the import put it, moved to the model's tonic (the nearer way that fits).
      primerShift = shiftToTonic(primer.tokens, (primer.key.tonic + primer.transposition + 1200) % 12, modelKey.key.tonic);
      tokens = primer.tokens.map((t) => (t < NUM_SPECIAL ? t : t + primerShift));
    }
    priming = { kind: 'primer', tokens };
    process.stderr.write(`primer ${primerPath}: ${primer.partChoice}; key ${primer.key.name} (${describeKeySource(primer)}), ` +
      `moved ${signed(primer.transposition + primerShift)} for the model; meter ${primer.meter.numerator}/${primer.meter.denominator}` +
      `${primer.barPosition ? ` (starts ${primer.barPosition} steps into a bar)` : ''}, ${primer.qpm} qpm\n`);
  }
  const written = writtenKey(asked, modelKey, primer, primerShift, transposeGiven);
  const meter = meterGiven ?? (primer ? { numerator: primer.meter.numerator, denominator: primer.meter.denominator } : { numerator: 4, denominator: 4 });
  const stepsPerBar = (meter.numerator * 16) / meter.denominator;
  // After a primer the melodies start where it ended within its bar.
  const barPosition = primer && primer.barPosition !== null && Number.isInteger(stepsPerBar) && !meterGiven
    ? (primer.barPosition + primer.tokens.length) % stepsPerBar
    : 0;
  const qpm = given.has('qpm') || !primer ? v.qpm : primer.qpm;
  const exportOptions: ExportOptions = { qpm, key: written.key, transpose: written.transpose, timeSignature: meter, barPosition };
  // Where the melodies' bars fall, for a lookback model (it looks back by bars and counts the steps in them).
  const grid = barGrid(stepsPerBar, barPosition);
  process.stderr.write(`writing in ${written.description}; meter ${meter.numerator}/${meter.denominator}${barPosition ? `, starting ${barPosition} steps into the bar (after the primer)` : ''}\n`);
  const kernels = loadKernelsFromDist();
  const batch = Math.min(count, MAX_BATCH);
  const policy = loadPolicy(kernels, v.model, batch, v.prior);
  const rng = new Random(seed);
  const stop = stopOnSignal(() => process.stderr.write('stopping after the current batch (Ctrl-C again to quit at once)...\n'));
  let writtenCount = 0;
  try {
    while (writtenCount < count && !stop.requested) {
      const { compositions } = sampleCompositions(policy.models, rng, { count: Math.min(batch, count - writtenCount), numNotes: length, temperature, priming, meter: grid });
      for (const c of compositions) {
        writtenCount++;
        const preview = v.notes
          ? `\n  ${melodyAsText(c, Number.isInteger(stepsPerBar) ? stepsPerBar : 16, barPosition, written.transpose)}`
          : `${Array.from(c.slice(0, 16), (t) => (t === NO_EVENT ? '-' : tokenName(t))).join(' ')}${c.length > 16 ? ' ...' : ''}`;
        if (toStdout) {
          process.stdout.write(exportMidi(c, exportOptions));
          process.stderr.write(`standard output  ${preview}\n`);
          continue;
        }
        const file = join(out, `melody_${String(writtenCount).padStart(3, '0')}.mid`);
        writeFileAtomic(file, exportMidi(c, exportOptions));
        process.stdout.write(`${file}  ${preview}\n`);
      }
      await yieldToEventLoop(); // lets a pending Ctrl-C be seen
    }
  } finally {
    stop.dispose();
  }
  const melodies = (n: number) => `${n} ${n === 1 ? 'melody' : 'melodies'}`;
  if (stop.requested) {
    process.stderr.write(`stopped: wrote ${melodies(writtenCount)} of ${count} to ${out}\n`);
    return stop.exitCode;
  }
  (toStdout ? process.stderr : process.stdout).write(`wrote ${melodies(writtenCount)} from ${policy.path} (${policy.kind})\n`);
}

const signed = (n: number) => `${n > 0 ? '+' : ''}${n}`;

function describeKeySource(primer: ImportResult): string {
  return primer.key.source === 'signature' ? 'key signature' : primer.key.source === 'text' ? 'named in the file' : `estimated: ${primer.key.reason}`;
}

/** --meter n/d, or undefined when not given. */
function meterFlag(given: string | undefined): { numerator: number; denominator: number } | undefined {
  if (given === undefined) return undefined;
  const match = /^(\d{1,3})\/(\d{1,3})$/.exec(given.trim());
  const numerator = match ? Number(match[1]) : NaN, denominator = match ? Number(match[2]) : NaN;
  if (!match || numerator < 1 || numerator > 255 || ![1, 2, 4, 8, 16, 32, 64, 128].includes(denominator)) {
    throw new UsageError(`--meter ${given}: expected a time signature n/d with n 1..255 and d a power of two up to 128 (e.g. 4/4, 6/8)`, 'generate');
  }
  return { numerator, denominator };
}

/**
 * Semitones (−6..+5, else the other way round an octave) that move a primer's tonic `from` to `to` while
 * every note stays a class of the encoding.
 */
function shiftToTonic(tokens: ArrayLike<number>, from: number, to: number): number {
  const up = (((to - from) % 12) + 12) % 12;
  const nearer = up > 5 ? up - 12 : up;
  let low = Infinity, high = -Infinity;
  for (let i = 0; i < tokens.length; i++) if (tokens[i] >= NUM_SPECIAL) { low = Math.min(low, tokens[i]); high = Math.max(high, tokens[i]); }
  for (const shift of [nearer, nearer > 0 ? nearer - 12 : nearer + 12]) if (low + shift >= NUM_SPECIAL && high + shift < NUM_CLASSES) return shift;
  throw new UsageError(`--primer: its notes span ${high - low} semitones; moved to the model's tonic they would leave MIDI 48..83 (pass a primer of a narrower range)`, 'generate');
}

/**
 * How the model's training melodies were imported (its metadata, checked: recordedImport); note-count and
 * nearest timing for models that record none.
 */
function modelImportOptions(decoded: ReturnType<typeof decodeModel>, path: string): ImportOptions {
  const record = recordedImport(decoded, path);
  if (record === undefined) return { transposeBy: 'note-count', timing: TIMING_BEFORE_ALIGNED };
  const timing = record.timing ?? TIMING_BEFORE_ALIGNED;
  return record.keepKey ? { transpose: false, timing } : { transposeBy: record.transposeBy ?? 'key', timing };
}

/**
 * The key the melodies are written in and the semitones that move the model's notes there: the key of
 * the notes (--key/--mode, checked against the model; else a tuned model's key; else, after a primer, the
 * key the primer was moved to; else C major) moved by --transpose (by default 0; with a primer and a Note
 * RNN, the primer's transposition undone, so the melodies sound in the primer's key).
 */
function writtenKey(asked: Key | null, modelKey: ModelKey, primer: ImportResult | null, primerShift: number, transposeGiven: number | undefined): { key: Key | null; transpose: number; description: string } {
  let notesKey: Key | null;
  let from: string;
  if (asked) {
    notesKey = asked;
    from = '--key/--mode';
  } else if (modelKey.kind === 'tuned') {
    notesKey = modelKey.key;
    from = 'the key the model was tuned in';
  } else if (primer) {
    notesKey = transposeKey({ tonic: primer.key.tonic, mode: primer.key.mode }, primer.transposition + primerShift);
    from = 'the key the primer was moved to for the model';
  } else if (modelKey.kind === 'kept') {
    notesKey = null;
    from = '';
  } else {
    notesKey = { tonic: 0, mode: 'major' };
    from = `the model's notes: ${describeModelKey(modelKey)}`;
  }
  const undoPrimer = primer !== null && modelKey.kind !== 'tuned' && !asked && transposeGiven === undefined;
  const transpose = transposeGiven ?? (undoPrimer ? -(primer.transposition + primerShift) : 0);
  if (notesKey === null) {
    return { key: null, transpose, description: `the model's own keys (no key signature: its melodies kept their keys)${transpose ? `, moved ${signed(transpose)}` : ''}` };
  }
  const key = transposeKey(notesKey, transpose);
  const moved = transpose === 0 ? '' : undoPrimer ? `, moved ${signed(transpose)} back to the primer's key` : `, moved ${signed(transpose)} by --transpose`;
  return { key, transpose, description: `${keyName(key)} (the notes are in ${keyName(notesKey)}, ${from}${moved})` };
}
