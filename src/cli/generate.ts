/**
 * `rltuner generate`: sample melodies from a model and write them as MIDI files, batch by batch: each
 * file is written (atomically) as soon as its batch is sampled, and Ctrl-C / SIGTERM stops after the
 * current batch, saying how many were written, with exit code 130 / 143. Batches are as large as the
 * model's (up to 256), so the files are the same as from one call sampling them all.
 */
import { join, resolve } from 'node:path';
import { sampleCompositions, type Priming } from '../rl/sampling.js';
import { NO_EVENT, tokenName } from '../music/encoding.js';
import { exportMidi } from '../music/midi_export.js';
import { importMidi } from '../music/midi_import.js';
import { Random } from '../random.js';
import {
  loadKernelsFromDist, numberFlag, parseFlags, partFlags, PART_FLAGS_HELP, readInput, stopOnSignal, writeFileAtomic, yieldToEventLoop,
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
  --primer <file.mid>   start from this melody (it is fed to the model, not written)
${PART_FLAGS_HELP.replace(/each MIDI file/, 'the primer')}
  --qpm <n>             tempo of the MIDI files [120]
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
  const qpm = numberFlag('generate', 'qpm', s('qpm'), 120, 1, 1000);
  const out = resolve(s('out') ?? 'runs/generate');
  let priming: Priming = { kind: 'random_note' };
  const primerPath = s('primer');
  if (primerPath) {
    const bytes = readInput(resolve(primerPath), 'primer MIDI file', 'Pass a Standard MIDI File with a melody, or omit --primer.');
    priming = { kind: 'primer', tokens: importMidi(bytes, { name: primerPath, ...partFlags('generate', v) }).tokens };
  }
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
        writeFileAtomic(file, exportMidi(c, { qpm }));
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
