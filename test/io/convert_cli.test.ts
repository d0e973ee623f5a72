// `rltuner convert`, run as a user would (needs `npm run build`, which `npm test` does first).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createModel } from '../../src/engine/arena.js';
import { importMagentaCheckpoint } from '../../src/io/magenta_checkpoint.js';
import { decodeModel, encodeModel } from '../../src/io/model_file.js';
import { Random } from '../../src/random.js';
import { testKernels } from '../engine/support.js';
import { rltuner as runCli } from '../support/cli.js';

const shippedPath = fileURLToPath(new URL('../../models/note_rnn_basic.safetensors', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'rltuner-convert-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const rltuner = (args: string[]) => runCli(args, { cwd: work });

describe('rltuner convert', () => {
  it('model → MusicRNN folder → model, the direction taken from what <in> is', async () => {
    const out = await rltuner(['convert', shippedPath, 'ckpt']);
    expect(out.code, out.stderr).toBe(0);
    expect(readdirSync(join(work, 'ckpt')).sort()).toEqual(['config.json', 'group1-shard1of1.bin', 'weights_manifest.json']);
    expect(out.stdout).toMatch(/mm\.MusicRNN/);
    // The folder is what the library's import reads.
    const files = {
      config: readFileSync(join(work, 'ckpt/config.json'), 'utf8'),
      manifest: readFileSync(join(work, 'ckpt/weights_manifest.json'), 'utf8'),
      shards: new Map([['group1-shard1of1.bin', new Uint8Array(readFileSync(join(work, 'ckpt/group1-shard1of1.bin')))]]),
    };
    const viaLibrary = importMagentaCheckpoint(files, 'ckpt');

    const back = await rltuner(['convert', 'ckpt', 'back.safetensors']);
    expect(back.code, back.stderr).toBe(0);
    const original = decodeModel(readFileSync(shippedPath));
    const converted = decodeModel(readFileSync(join(work, 'back.safetensors')), 'back.safetensors');
    expect(converted.config).toEqual(original.config);
    expect(converted.info.notes).toMatchObject({ importedFrom: 'Magenta.js MusicRNN checkpoint' });
    for (const [name, t] of original.tensors) {
      expect(Array.from(converted.tensors.get(name)!.data), name).toEqual(Array.from(viaLibrary.tensors.get(name)!.data));
      const worst = Math.max(...t.data.map((v, i) => Math.abs(v - converted.tensors.get(name)!.data[i])));
      expect(worst, name).toBeLessThan(1e-6); // only forget-gate biases may differ, by float32 rounding of ±1
    }
    // Naming the manifest instead of the folder works too; an existing <out> needs --force.
    const again = await rltuner(['convert', 'ckpt/weights_manifest.json', 'back.safetensors']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/back\.safetensors already exists; pass --force/);
    expect((await rltuner(['convert', 'ckpt/weights_manifest.json', 'back.safetensors', '--force'])).code).toBe(0);
    // - writes the model file to standard output (the message goes to stderr); a checkpoint folder cannot go there.
    const toStdout = await rltuner(['convert', 'ckpt', '-']);
    expect(toStdout.code, toStdout.stderr).toBe(0);
    expect(toStdout.stdoutBytes).toEqual(new Uint8Array(readFileSync(join(work, 'back.safetensors'))));
    expect(toStdout.stderr).toMatch(/^wrote standard output: a Note RNN of LSTM layers \[100\]/);
    const folder = await rltuner(['convert', shippedPath, '-']);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain('<out> -: a MusicRNN checkpoint is a folder of several files');
  }, 30_000);

  it('says what a Magenta manifest given as a model is, and refuses what it cannot convert', async () => {
    await rltuner(['convert', shippedPath, 'ckpt2']);
    const asModel = await rltuner(['generate', '--model', 'ckpt2/weights_manifest.json', '--count', '1']);
    expect(asModel.code).toBe(1);
    expect(asModel.stderr).toMatch(/weights_manifest\.json: this is a Magenta\/tfjs weights manifest .*rltuner convert/);
    expect(asModel.stderr).not.toMatch(/header length/);

    const g = createModel(testKernels(), { inputSize: 38, hiddenSizes: [8], outputSize: 38 }, { maxBatch: 1 });
    g.initialize(new Random(1));
    writeFileSync(join(work, 'g_tuned.safetensors'), encodeModel(g, { notes: { algorithm: 'g' } }));
    const refused = await rltuner(['convert', 'g_tuned.safetensors', 'g_ckpt']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/g_tuned\.safetensors: a G-tuned model acts with its Note RNN prior/);
    expect(refused.stderr).toMatch(/`rltuner distill --tuned .*g_tuned\.safetensors` trains a basic Note RNN on its compositions/);
    // The shipped phrase model: no Magenta model looks back four bars; distill says how to get one that converts.
    const phrase = await rltuner(['convert', fileURLToPath(new URL('../../models/note_rnn.safetensors', import.meta.url)), 'phrase_ckpt']);
    expect(phrase.code).toBe(1);
    expect(phrase.stderr).toMatch(/uses rltuner's phrase encoding .*\n  `rltuner distill --tuned .*note_rnn\.safetensors` trains a basic Note RNN/);

    writeFileSync(join(work, 'ckpt2/config.json'), JSON.stringify({ type: 'MusicRNN', dataConverter: { type: 'MelodyConverter', args: { minPitch: 48, maxPitch: 83 } }, chordEncoder: 'PitchChordEncoder' }));
    const chords = await rltuner(['convert', 'ckpt2', 'chords.safetensors']);
    expect(chords.code).toBe(1);
    expect(chords.stderr).toMatch(/ckpt2\/config\.json: "chordEncoder" is "PitchChordEncoder"/);

    const usage = await rltuner(['convert', shippedPath]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/expected <in> and <out>/);
    const help = await rltuner(['convert', '--help']);
    expect(help.stdout).toMatch(/rltuner convert: between rltuner models and Magenta\.js MusicRNN checkpoints/);
  }, 30_000);
});
