/**
 * The check of "one meaning of --key": tune a model in a key with `rltuner tune --key <tonic> --mode <mode>`,
 * generate melodies from it with the same flags, and read the MIDI files back: the share of notes (by
 * count and by time) in the key's scale, the most common final pitch classes, the key signatures and
 * the text events the files carry. Prints one JSON line.
 *
 *   npm run build
 *   node test/cli/key_check.mjs [--key D] [--mode dorian] [--training-steps 200000] [--count 200]
 *                               [--length 64] [--out runs/key-check] [--reuse]
 *
 * --reuse takes the tuned model already in <out>/tune instead of tuning again. Not part of `npm test`
 * (a full tune takes minutes); a functional check, not a timing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));
const { values } = parseArgs({
  options: {
    key: { type: 'string', default: 'D' }, mode: { type: 'string', default: 'dorian' }, 'training-steps': { type: 'string', default: '200000' },
    count: { type: 'string', default: '200' }, length: { type: 'string', default: '64' }, out: { type: 'string', default: 'runs/key-check' },
    reuse: { type: 'boolean', default: false },
  },
});
const { readMidiFile } = await import(join(root, 'dist/music/midi_file.js'));
const { keyNamed, scaleOf } = await import(join(root, 'dist/music/keys.js'));
const cli = join(root, 'dist/cli.js');
const out = resolve(values.out);
const keyFlags = ['--key', values.key, '--mode', values.mode];

if (!values.reuse || !existsSync(join(out, 'tune'))) {
  execFileSync('node', [cli, 'tune', ...keyFlags, '--training-steps', values['training-steps'], '--eval-every', '0', '--eval-compositions', '50',
    '--out', join(out, 'tune'), '--quiet', '--overwrite'], { stdio: ['ignore', 'ignore', 'inherit'] });
}
const model = readdirSync(join(out, 'tune')).find((f) => f.endsWith('_tuned.safetensors'));
rmSync(join(out, 'generate'), { recursive: true, force: true });
execFileSync('node', [cli, 'generate', '--model', join(out, 'tune', model), ...keyFlags, '--count', values.count, '--length', values.length,
  '--seed', '1', '--out', join(out, 'generate')], { stdio: ['ignore', 'ignore', 'inherit'] });

const scale = new Set(scaleOf(keyNamed(values.key, values.mode)));
const names = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'];
let notes = 0, notesInKey = 0, time = 0, timeInKey = 0;
const finals = new Array(12).fill(0);
const signatures = {}, texts = {};
for (const file of readdirSync(join(out, 'generate')).filter((f) => f.endsWith('.mid'))) {
  const midi = readMidiFile(new Uint8Array(readFileSync(join(out, 'generate', file))));
  const { tick, pitch, isOn, count } = midi.notes;
  const sounding = new Map();
  let last = -1, lastTick = -1;
  for (let i = 0; i < count; i++) {
    if (isOn[i]) {
      sounding.set(pitch[i], tick[i]);
      notes++;
      if (scale.has(pitch[i] % 12)) notesInKey++;
      if (tick[i] >= lastTick) [lastTick, last] = [tick[i], pitch[i]];
    } else if (sounding.has(pitch[i])) {
      const length = tick[i] - sounding.get(pitch[i]);
      sounding.delete(pitch[i]);
      time += length;
      if (scale.has(pitch[i] % 12)) timeInKey += length;
    }
  }
  if (last >= 0) finals[last % 12]++;
  const signature = midi.keySignatures.map((k) => `${k.sharps} ${k.mode}`).join(', ') || 'none';
  signatures[signature] = (signatures[signature] ?? 0) + 1;
  const text = midi.texts.map((t) => t.text).join(', ') || 'none';
  texts[text] = (texts[text] ?? 0) + 1;
}
const percent = (a, b) => Math.round((1000 * a) / b) / 10;
process.stdout.write(`${JSON.stringify({
  key: `${values.key} ${values.mode}`, trainingSteps: Number(values['training-steps']), melodies: Number(values.count), length: Number(values.length),
  notes, inKeyByCount: percent(notesInKey, notes), inKeyByTime: percent(timeInKey, time),
  finalPitchClasses: finals.map((n, pc) => [names[pc], n]).sort((a, b) => b[1] - a[1]).slice(0, 4),
  signatures, texts,
})}\n`);
