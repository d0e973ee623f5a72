/**
 * `rltuner generate`: sample melodies from a model and write them as MIDI files, batch by batch: each
 * file is written (atomically) as soon as its batch is sampled, and Ctrl-C / SIGTERM stops after the
 * current batch, saying how many were written, with exit code 130 / 143. Batches are as large as the
 * model's (up to 256), so the files are the same as from one call sampling them all.
 */
import { join, resolve } from 'node:path';
import { sampleCompositions, type Priming } from '../rl/sampling.js';
import { NO_EVENT, tokenName } from '../music/encoding.js';
import { exportMidi, type ExportOptions } from '../music/midi_export.js';
import { importMidi, type ImportOptions, type ImportResult } from '../music/midi_import.js';
import { decodeModel, recordedImport } from '../io/model_file.js';
import { keyName, keyOfSignature, transpositionToReference, type Key } from '../music/keys.js';
import { IMPORT_FLAGS_HELP, importFlags, keyFlag } from './key_flags.js';
import { Random } from '../random.js';
import {
  loadKernelsFromDist, MIDI_FILE_LIMIT, numberFlag, parseFlags, partFlags, PART_FLAGS_HELP, readInput, readModelBytes, stopOnSignal, UsageError, writeFileAtomic,
  yieldToEventLoop,
} from './common.js';
import { loadPolicy } from './policy.js';

export const GENERATE_HELP = `rltuner generate: sample melodies from a model to MIDI files

Usage: rltuner generate [options]

  --model <file>        a Note RNN or tuned model (.safetensors) [the shipped default Note RNN]
  --prior <file>        the Note RNN prior of a G-tuned model [the shipped default]
  --count <n>           melodies to write [4]
  --length <steps>      sixteenth-note steps per melody [64]
  --temperature <x>     softmax temperature; 0 takes the most likely note [1]
  --seed <n>            random seed [1]
  --primer <file.mid>   start from this melody (it is fed to the model, not written); the melodies are
                        written in the primer's key, meter and tempo
${PART_FLAGS_HELP.replace(/each MIDI file/, 'the primer')}
${IMPORT_FLAGS_HELP.replace('[key]', "[as the model's training data was imported]")}
  --key <tonic>         write the melodies in this key (C, C#, Db, D, ... B) [the primer's, else C]
  --mode <name>         its mode: major, minor, dorian, phrygian, lydian, mixolydian, locrian [major]
  --key-of <file.mid>   write the melodies in the key of this MIDI file (its signature, else estimated)
  --qpm <n>             tempo of the MIDI files [the primer's, else 120]
  --out <dir>           folder for the files [runs/generate]
  -h, --help            this text

Files are written as their batch (up to 256 melodies) is sampled; Ctrl-C stops after the current batch.`;

/** Melodies sampled at a time (and so the most a Ctrl-C waits for); the policy's batch. */
const MAX_BATCH = 256;

export async function generateCommand(args: string[]): Promise<number | void> {
  const v = parseFlags('generate', args, {
    model: { type: 'string' }, prior: { type: 'string' }, count: { type: 'string' }, length: { type: 'string' },
    temperature: { type: 'string' }, seed: { type: 'string' }, primer: { type: 'string' }, qpm: { type: 'string' },
    out: { type: 'string' }, track: { type: 'string' }, channel: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    key: { type: 'string' }, mode: { type: 'string' }, 'key-of': { type: 'string' }, 'keep-key': { type: 'boolean' }, 'transpose-by': { type: 'string' },
  });
  if (v.help) {
    process.stdout.write(`${GENERATE_HELP}\n`);
    return;
  }
  const s = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const count = numberFlag('generate', 'count', s('count'), 4, 1, 100000, true);
  const length = numberFlag('generate', 'length', s('length'), 64, 1, 100000, true);
  const temperature = numberFlag('generate', 'temperature', s('temperature'), 1, 0, 100);
  const seed = numberFlag('generate', 'seed', s('seed'), 1, 0, 2 ** 32 - 1, true);
  const out = resolve(s('out') ?? 'runs/generate');
  const importOptions = { ...modelImportOptions(s('model')), ...partFlags('generate', v), ...importFlags('generate', v) };
  let priming: Priming = { kind: 'random_note' };
  const primerPath = s('primer');
  let primer: ImportResult | null = null;
  if (primerPath) {
    const bytes = readInput(resolve(primerPath), 'primer MIDI file', 'Pass a Standard MIDI File with a melody, or omit --primer.', MIDI_FILE_LIMIT);
    primer = importMidi(bytes, { name: primerPath, ...importOptions });
    priming = { kind: 'primer', tokens: primer.tokens };
    process.stderr.write(`primer ${primerPath}: ${primer.partChoice}; key ${primer.key.name} (${primer.key.source === 'signature' ? 'key signature' : `estimated: ${primer.key.reason}`}), ` +
      `transposed ${primer.transposition > 0 ? '+' : ''}${primer.transposition} to ${primer.tokensKey} for the model; meter ${primer.meter.numerator}/${primer.meter.denominator}, ${primer.qpm} qpm\n`);
  }
  const outputKey = writtenKey(v, primer, importOptions);
  const qpm = numberFlag('generate', 'qpm', s('qpm'), primer?.qpm ?? 120, 1, 1000);
  const exportOptions: ExportOptions = {
    qpm, key: outputKey.key, transpose: outputKey.transpose,
    ...(primer ? { timeSignature: { numerator: primer.meter.numerator, denominator: primer.meter.denominator } } : {}),
  };
  process.stderr.write(`writing in ${outputKey.description}\n`);
  const kernels = loadKernelsFromDist();
  const batch = Math.min(count, MAX_BATCH);
  const policy = loadPolicy(kernels, s('model'), batch, s('prior'));
  const rng = new Random(seed);
  const stop = stopOnSignal(() => process.stderr.write('stopping after the current batch (Ctrl-C again to quit at once)...\n'));
  let written = 0;
  try {
    while (written < count && !stop.requested) {
      const { compositions } = sampleCompositions(policy.models, rng, { count: Math.min(batch, count - written), numNotes: length, temperature, priming });
      for (const c of compositions) {
        written++;
        const file = join(out, `melody_${String(written).padStart(3, '0')}.mid`);
        writeFileAtomic(file, exportMidi(c, exportOptions));
        const preview = Array.from(c.slice(0, 16), (t) => (t === NO_EVENT ? '-' : tokenName(t))).join(' ');
        process.stdout.write(`${file}  ${preview}${c.length > 16 ? ' ...' : ''}\n`);
      }
      await yieldToEventLoop(); // lets a pending Ctrl-C be seen
    }
  } finally {
    stop.dispose();
  }
  const melodies = (n: number) => `${n} ${n === 1 ? 'melody' : 'melodies'}`;
  if (stop.requested) {
    process.stderr.write(`stopped: wrote ${melodies(written)} of ${count} to ${out}\n`);
    return stop.exitCode;
  }
  process.stdout.write(`wrote ${melodies(written)} from ${policy.path} (${policy.kind})\n`);
}

/** How the model's training melodies were imported (its metadata); note-count for models that record none. */
function modelImportOptions(model: string | undefined): ImportOptions {
  const { path, bytes } = readModelBytes(model);
  const decoded = decodeModel(bytes, path);
  const record = recordedImport(decoded, path);
  if (record === undefined) return { transposeBy: 'note-count' };
  return record.keepKey ? { transpose: false } : { transposeBy: record.transposeBy ?? 'key' };
}

/**
 * The key the melodies are written in, and the semitones that put the model's tokens there. The model's
 * tokens are in C major / A minor unless its data kept its keys. --key/--mode or --key-of choose the key;
 * else the primer's key (its transposition undone); else C major.
 */
function writtenKey(v: Record<string, unknown>, primer: ImportResult | null, importOptions: ImportOptions): { key: Key | null; transpose: number; description: string } {
  const keptKeys = importOptions.transpose === false;
  const asked = keyFlag('generate', v as Parameters<typeof keyFlag>[1]);
  const keyOf = typeof v['key-of'] === 'string' ? (v['key-of'] as string) : undefined;
  if (asked && keyOf) throw new UsageError('--key/--mode and --key-of both name the key to write in; pass one of them', 'generate');
  let target: Key | null = asked;
  let from = asked ? '--key/--mode' : '';
  if (keyOf) {
    const result = importMidi(readInput(resolve(keyOf), '--key-of MIDI file', 'Pass a Standard MIDI File whose key the melodies should take.', MIDI_FILE_LIMIT), { name: keyOf });
    target = { tonic: result.key.tonic, mode: result.key.mode };
    from = `--key-of ${keyOf} (${result.key.source === 'signature' ? 'its key signature' : 'estimated'})`;
  }
  if (target) {
    if (keptKeys) return { key: target, transpose: 0, description: `${keyName(target)} (signature only: the model's melodies kept their keys)` };
    return { key: target, transpose: -transpositionToReference(target), description: `${keyName(target)}, from ${from}` };
  }
  if (primer) {
    const key = { tonic: primer.key.tonic, mode: primer.key.mode };
    return { key, transpose: -primer.transposition, description: `${keyName(key)}, the primer's key (its transposition of ${primer.transposition} undone)` };
  }
  if (keptKeys) return { key: null, transpose: 0, description: 'the model\'s own keys (no key signature: its melodies kept their keys)' };
  return { key: keyOfSignature(0, 'major'), transpose: 0, description: 'C major, the key the model\'s melodies were transposed to' };
}
