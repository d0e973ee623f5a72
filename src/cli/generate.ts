/**
 * `rltuner generate`: sample melodies from a model and write them as MIDI files.
 */
import { join, resolve } from 'node:path';
import { sampleCompositions, type Priming } from '../rl/sampling.js';
import { NO_EVENT, tokenName } from '../music/encoding.js';
import { exportMidi } from '../music/midi_export.js';
import { importMidi } from '../music/midi_import.js';
import { Random } from '../random.js';
import { loadKernelsFromDist, numberFlag, parseFlags, partFlags, PART_FLAGS_HELP, readInput, writeFileAtomic } from './common.js';
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
  -h, --help            this text`;

export async function generateCommand(args: string[]): Promise<void> {
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
  const policy = loadPolicy(kernels, s('model'), Math.min(count, 256), s('prior'));
  const rng = new Random(seed);
  const { compositions } = sampleCompositions(policy.models, rng, { count, numNotes: length, temperature, priming });
  compositions.forEach((c, i) => {
    const file = join(out, `melody_${String(i + 1).padStart(3, '0')}.mid`);
    writeFileAtomic(file, exportMidi(c, { qpm }));
    const preview = Array.from(c.slice(0, 16), (t) => (t === NO_EVENT ? '-' : tokenName(t))).join(' ');
    process.stdout.write(`${file}  ${preview}${c.length > 16 ? ' ...' : ''}\n`);
  });
  process.stdout.write(`wrote ${compositions.length} ${compositions.length === 1 ? "melody" : "melodies"} from ${policy.path} (${policy.kind})\n`);
}
