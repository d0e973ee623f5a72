// The real command line, run as a user would (needs `npm run build`, which `npm test` does first).
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/io/model_file.js';
import { importMidi } from '../../src/music/midi_import.js';
import { rltuner as runCli, spawnRltuner } from '../support/cli.js';

const nottingham = fileURLToPath(new URL('../../data/nottingham/melody/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'rltuner-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const rltuner = (args: string[]) => runCli(args, { cwd: work });

const tuneArgs = (out: string, steps: number) => [
  'tune', '--preset', 'classic', '--out', out, '--training-steps', String(steps), '--exploration-steps', '800', '--replay-capacity', '3000',
  '--log-every', '400', '--eval-every', '0', '--checkpoint-every', '800', '--eval-compositions', '40', '--sample-count', '1', '--quiet',
];

describe('rltuner CLI', () => {
  it('help answers for every command', async () => {
    const top = await rltuner(['--help']);
    expect(top.code).toBe(0);
    for (const command of ['tune', 'evaluate', 'generate', 'train']) {
      expect(top.stdout).toContain(command);
      const r = await rltuner([command, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`rltuner ${command}`);
    }
    expect((await rltuner(['tune', '--help'])).stdout).toMatch(/--reward-scaler <number in \[0, 1000\]>/);
    expect((await rltuner(['nonsense'])).code).toBe(2);
  }, 30_000); // ten processes in a row: slow on a busy machine

  it('generate writes MIDI files that import back', async () => {
    const r = await rltuner(['generate', '--count', '2', '--length', '48', '--seed', '7', '--out', 'gen']);
    expect(r.code).toBe(0);
    const files = readdirSync(join(work, 'gen')).sort();
    expect(files).toEqual(['melody_001.mid', 'melody_002.mid']);
    for (const f of files) {
      const tokens = importMidi(new Uint8Array(readFileSync(join(work, 'gen', f))), { transpose: false, centre: false }).tokens;
      expect(tokens.length).toBeGreaterThan(8);
      expect(Math.max(...tokens)).toBeLessThan(38);
    }
  });

  it('tune runs end to end, and a run stopped and resumed ends exactly like a straight one', async () => {
    const straight = await rltuner(tuneArgs('straight', 1600));
    expect(straight.code, straight.stderr).toBe(0);
    for (const f of ['config.json', 'metrics.jsonl', 'checkpoint.safetensors', 'q_tuned.safetensors', 'rewards.svg', 'note_probabilities.svg', 'evaluation.md', 'evaluation.json']) {
      expect(existsSync(join(work, 'straight', f)), f).toBe(true);
    }
    expect(readdirSync(join(work, 'straight', 'samples')).sort()).toEqual(['note_rnn_1.mid', 'q_1.mid']);
    expect(straight.stdout).toMatch(/notes excessively repeated/);

    expect((await rltuner(tuneArgs('split', 800))).code).toBe(0);
    const resumed = await rltuner([...tuneArgs('split', 1600), '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const a = decodeModel(new Uint8Array(readFileSync(join(work, 'straight', 'q_tuned.safetensors'))));
    const b = decodeModel(new Uint8Array(readFileSync(join(work, 'split', 'q_tuned.safetensors'))));
    for (const [name, t] of a.tensors) expect(Array.from(b.tensors.get(name)!.data), name).toEqual(Array.from(t.data));
    // Every record but the wall-clock steps per second is the same.
    const records = (dir: string) => readFileSync(join(work, dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
      const { 'charts/SPS': sps, ...rest } = JSON.parse(l);
      if (sps !== undefined) expect(sps).toBeGreaterThan(0);
      return rest;
    });
    expect(records('split')).toEqual(records('straight'));
    expect(records('straight').filter((r) => 'losses/q_values' in r)).toHaveLength(4);
    // A finished run is not overwritten by accident.
    const again = await rltuner(tuneArgs('straight', 1600));
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a run of rltuner tune .*; pass --resume to continue it, or --overwrite to start over/);
  }, 120_000);

  it('Ctrl-C writes a checkpoint and exits 130; --resume ends bit-identical to an uninterrupted run', async () => {
    const args = tuneArgs('interrupted', 400_000).filter((a) => a !== '--quiet');
    const child = spawnRltuner(args, { cwd: work });
    let stderr = '';
    let signalled = false;
    child.stderr.on('data', (d) => {
      stderr += d;
      // Wait for the run to be under way (its first checkpoint line), not for a fixed time.
      if (!signalled && /checkpoint at step 800/.test(stderr)) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise((r) => child.on('exit', r));
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/stopped at step \d+; checkpoint written/);
    const stoppedAt = Number(/stopped at step (\d+)/.exec(stderr)![1]);
    expect(stoppedAt).toBeLessThan(12_800);
    const resumed = await rltuner(['tune', '--out', 'interrupted', '--resume', '--training-steps', '12800', '--quiet']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const straight = await rltuner(tuneArgs('uninterrupted', 12_800));
    expect(straight.code, straight.stderr).toBe(0);
    const bytes = (dir: string) => readFileSync(join(work, dir, 'q_tuned.safetensors'));
    expect(bytes('interrupted').equals(bytes('uninterrupted'))).toBe(true);
  }, 120_000);

  it('--threads 2 reproduces itself and the one-thread run bit for bit, and a two-thread run resumes to the same bits', async () => {
    const args = (out: string, steps: number, threads: number) => [
      'tune', '--out', out, '--training-steps', String(steps), '--exploration-steps', '1600', '--replay-capacity', '2500',
      '--log-every', '400', '--eval-every', '0', '--checkpoint-every', '1600', '--eval-compositions', '20', '--sample-count', '0',
      '--threads', String(threads), '--preset', 'g', '--quiet',
    ];
    const runs = await Promise.all([rltuner(args('two-a', 3200, 2)), rltuner(args('two-b', 3200, 2))]);
    runs.push(await rltuner(args('one', 3200, 1)));
    runs.push(await rltuner(args('two-resumed', 1600, 2)));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const resumed = await rltuner(['tune', '--out', 'two-resumed', '--resume', '--training-steps', '3200', '--threads', '2', '--quiet']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const bytes = (dir: string) => readFileSync(join(work, dir, 'g_tuned.safetensors'));
    expect(bytes('two-a').equals(bytes('two-b')), 'two threads, twice').toBe(true);
    expect(bytes('two-a').equals(bytes('one')), 'two threads against one').toBe(true);
    expect(bytes('two-resumed').equals(bytes('two-a')), 'two threads, stopped at 1,600 and resumed').toBe(true);
    expect((await rltuner(['tune', '--threads', '0', '--out', 'never'])).stderr).toMatch(/--threads 0: expected an integer in 1\.\.\d+/);
    // evaluate on two threads prints what it prints on one
    const evaluations = await Promise.all(['1', '2'].map((t) => rltuner(['evaluate', '--tuned', join(work, 'two-a', 'g_tuned.safetensors'), '--count', '300', '--threads', t, '--quiet'])));
    expect(evaluations[0].code, evaluations[0].stderr).toBe(0);
    expect(evaluations[1].stdout).toBe(evaluations[0].stdout);
  }, 240_000);

  it('SIGTERM also stops at a checkpoint, with exit code 143', async () => {
    const child = spawnRltuner(tuneArgs('terminated', 400_000).filter((a) => a !== '--quiet'), { cwd: work });
    let stderr = '';
    let signalled = false;
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!signalled && /checkpoint at step 800\n/.test(stderr)) {
        signalled = true;
        child.kill('SIGTERM');
      }
    });
    expect(await new Promise((r) => child.on('exit', r)), stderr).toBe(143);
    expect(existsSync(join(work, 'terminated', 'checkpoint.safetensors'))).toBe(true);
  }, 60_000);

  it('--resume refuses another model, other settings and other inputs, naming both values', async () => {
    const model = join(work, 'model.safetensors');
    copyFileSync(fileURLToPath(new URL('../../models/note_rnn_basic.safetensors', import.meta.url)), model);
    expect((await rltuner([...tuneArgs('base', 800), '--model', model])).code).toBe(0);
    // Another path is refused by name...
    const otherPath = await rltuner([...tuneArgs('base', 1600), '--resume', '--model', join(work, 'straight', 'q_tuned.safetensors')]);
    expect(otherPath.code).toBe(2);
    expect(otherPath.stderr).toMatch(/--model: the run used .*model\.safetensors, the command gives .*q_tuned\.safetensors/);
    // ...and other contents at the same path by fingerprint, naming both.
    const original = readFileSync(model);
    copyFileSync(join(work, 'straight', 'q_tuned.safetensors'), model);
    const otherModel = await rltuner([...tuneArgs('base', 1600), '--resume']);
    expect(otherModel.code).toBe(2);
    const { createHash } = await import('node:crypto');
    const hash = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    expect(otherModel.stderr).toContain(`noteRnn: the run has ${hash(original)}, this run has ${hash(readFileSync(model))}`);
    writeFileSync(model, original);
    const gamma = await rltuner([...tuneArgs('base', 1600), '--resume', '--gamma', '0.9']);
    expect(gamma.code).toBe(2);
    expect(gamma.stderr).toMatch(/gamma: the run has 0\.7, the command asks for 0\.9/);
    const algorithm = await rltuner(['tune', '--out', 'base', '--resume', '--algorithm', 'g']);
    expect(algorithm.code).toBe(2);
    expect(algorithm.stderr).toMatch(/algorithm: the run has "q", the command asks for "g"/);
    const config = JSON.parse(readFileSync(join(work, 'base', 'config.json'), 'utf8'));
    expect(config.config.gamma).toBe(0.7);
    // The run remembers its model: --resume alone continues with it.
    const ok = await rltuner(['tune', '--out', 'base', '--resume', '--training-steps', '1600', '--quiet']);
    expect(ok.code, ok.stderr).toBe(0);
  }, 60_000);

  it('--resume cannot lie: fewer steps than done, a missing or shortened metrics.jsonl, and other kernels are refused', async () => {
    expect((await rltuner(tuneArgs('liar', 800))).code).toBe(0);
    const resume = (...more: string[]) => rltuner(['tune', '--out', 'liar', '--resume', '--quiet', ...more]);
    const fewer = await resume('--training-steps', '400');
    expect(fewer.code).toBe(2);
    expect(fewer.stderr).toMatch(/--resume --training-steps 400: the checkpoint in .*checkpoint\.safetensors is already at step 800; pass --training-steps 800 or more/);

    const metrics = join(work, 'liar', 'metrics.jsonl');
    const original = readFileSync(metrics, 'utf8');
    rmSync(metrics);
    const missing = await resume();
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`--resume: ${metrics} is missing, but the checkpoint at step 800 was taken after 2 records of it`);
    writeFileSync(metrics, original.split('\n').slice(1).join('\n'));
    const shortened = await resume();
    expect(shortened.code).toBe(2);
    expect(shortened.stderr).toContain(`--resume: ${metrics} holds 1 records up to step 800, but the checkpoint was taken after 2: the file was shortened or replaced`);
    writeFileSync(metrics, original);

    // The kernels are fingerprinted by a digest of their wasm, not by a label: other kernels are refused, naming both digests.
    const { decodeSafetensors, encodeSafetensorsParts, joinParts } = await import('../../src/io/safetensors.js');
    const { kernelDigest } = await import('../../src/io/fingerprint.js');
    const checkpointPath = join(work, 'liar', 'checkpoint.safetensors');
    const checkpoint = readFileSync(checkpointPath);
    const decoded = decodeSafetensors(new Uint8Array(checkpoint));
    const fingerprints = JSON.parse(decoded.metadata.fingerprints);
    const ours = kernelDigest(new Uint8Array(readFileSync(fileURLToPath(new URL('../../dist/rltuner.wasm', import.meta.url)))));
    expect(fingerprints.kernels).toBe(ours);
    const other = 'f'.repeat(64);
    const withoutChecksum = ({ checksum: _, ...rest }: Record<string, string>) => rest;
    const tensors = [...decoded.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
    writeFileSync(checkpointPath, joinParts(encodeSafetensorsParts(tensors, { ...withoutChecksum(decoded.metadata), fingerprints: JSON.stringify({ ...fingerprints, kernels: other }) })));
    const kernels = await resume();
    expect(kernels.code).toBe(2);
    expect(kernels.stderr).toContain(`kernels: the run has ${other}, this run has ${ours}`);
    writeFileSync(checkpointPath, checkpoint);
    const honest = await resume('--training-steps', '1600');
    expect(honest.code, honest.stderr).toBe(0);
    expect(readFileSync(metrics, 'utf8').trim().split('\n').length).toBe(4);
  }, 60_000);

  it('pg: tune --algorithm pg end to end; two threads give the same bits, and so does a run stopped and resumed; the tuned policy generates, evaluates and converts alone', async () => {
    const pg = (out: string, steps: number, ...more: string[]) => rltuner([
      'tune', '--algorithm', 'pg', '--pg-groups', '2', '--pg-group-size', '8', '--training-steps', String(steps), '--log-every', '1024',
      '--eval-every', '0', '--checkpoint-every', '1024', '--eval-compositions', '40', '--sample-count', '1', '--out', out, '--quiet',
      '--model', fileURLToPath(new URL('../../models/note_rnn_basic.safetensors', import.meta.url)), ...more, // a basic Note RNN: the policy converts to Magenta
    ]);
    const runs = await Promise.all([pg('pg-one', 3072), pg('pg-two', 3072, '--threads', '2'), pg('pg-split', 1536)]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const resumed = await rltuner(['tune', '--out', 'pg-split', '--resume', '--training-steps', '3072', '--quiet']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const bytes = (dir: string) => readFileSync(join(work, dir, 'pg_tuned.safetensors'));
    expect(bytes('pg-two').equals(bytes('pg-one')), 'two threads against one').toBe(true);
    expect(bytes('pg-split').equals(bytes('pg-one')), 'stopped at 1,536 and resumed').toBe(true);
    expect(readdirSync(join(work, 'pg-one', 'samples')).sort()).toEqual(['note_rnn_1.mid', 'pg_1.mid']);
    expect(runs[0].stdout).toMatch(/\| metric \| Note RNN \| PG \|/);
    const model = join(work, 'pg-one', 'pg_tuned.safetensors');
    const generated = await rltuner(['generate', '--model', model, '--count', '1', '--out', 'pg-generated']);
    expect(generated.code, generated.stderr).toBe(0);
    const evaluated = await rltuner(['evaluate', '--tuned', model, '--model', fileURLToPath(new URL('../../models/note_rnn_basic.safetensors', import.meta.url)), '--count', '50', '--quiet']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(evaluated.stdout).toMatch(/\| PG \(pg_tuned\.safetensors\) \|/);
    const converted = await rltuner(['convert', model, 'pg-magenta']);
    expect(converted.code, converted.stderr).toBe(0);
    expect(readdirSync(join(work, 'pg-magenta')).sort()).toEqual(['config.json', 'group1-shard1of1.bin', 'weights_manifest.json']);
  }, 120_000);

  it('evaluate refuses a G model with a prior other than the Note RNN it was tuned from, naming both', async () => {
    const g = await rltuner(['tune', '--algorithm', 'g', '--out', 'g-run', '--training-steps', '320', '--eval-compositions', '10', '--sample-count', '0', '--quiet']);
    expect(g.code, g.stderr).toBe(0);
    const ok = await rltuner(['evaluate', '--tuned', join('g-run', 'g_tuned.safetensors'), '--count', '20', '--quiet']);
    expect(ok.code, ok.stderr).toBe(0);
    const other = await rltuner(['evaluate', '--model', join('g-run', 'g_tuned.safetensors'), '--tuned', join('g-run', 'g_tuned.safetensors'), '--count', '20', '--quiet']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/this G model was tuned from [0-9a-f]{64} \(.*note_rnn\.safetensors\); --model .*g_tuned\.safetensors is [0-9a-f]{64}/);
  }, 60_000);

  it('bad input is named with what to do', async () => {
    const gamma = await rltuner(['tune', '--gamma', '2', '--out', 'bad']);
    expect(gamma.code).toBe(2);
    expect(gamma.stderr).toMatch(/gamma/);
    expect(gamma.stderr).toMatch(/\[0, 1\]/);
    const unknown = await rltuner(['tune', '--gama', '0.5']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/gama/);
    const missing = await rltuner(['generate', '--model', 'nope.safetensors']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/model file not found: .*nope\.safetensors/);
    expect(missing.stderr).toMatch(/rltuner train|omit --model/);
    const count = await rltuner(['generate', '--count', '0']);
    expect(count.code).toBe(2);
    expect(count.stderr).toMatch(/--count 0: expected an integer in 1\.\.100000/);
  }, 60_000);

  it('train runs on a list of MIDI files and resumes to the same weights', async () => {
    const list = join(work, 'tunes.txt');
    const names = ['ashover1.mid', 'ashover2.mid', 'ashover3.mid', 'ashover4.mid', 'ashover5.mid', 'ashover6.mid', 'ashover7.mid', 'ashover8.mid', 'ashover9.mid', 'ashover10.mid'];
    (await import('node:fs')).writeFileSync(list, names.map((n) => join(nottingham, n)).join('\n'));
    const common = ['train', '--data', list, '--hidden', '16', '--batch', '4', '--window', '32', '--lr', '0.01', '--quiet', '--no-baselines'];
    const straight = await rltuner([...common, '--epochs', '3', '--out', 'train-a']);
    expect(straight.code, straight.stderr).toBe(0);
    expect(straight.stdout).toMatch(/LSTM \[16\]/);
    await rltuner([...common, '--epochs', '1', '--out', 'train-b']);
    const resumed = await rltuner([...common, '--epochs', '3', '--out', 'train-b', '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const a = readFileSync(join(work, 'train-a', 'checkpoint.safetensors'));
    const b = readFileSync(join(work, 'train-b', 'checkpoint.safetensors'));
    const history = (bytes: Buffer) => {
      const len = Number(bytes.readBigUInt64LE(0));
      const header = JSON.parse(bytes.subarray(8, 8 + len).toString());
      return { header, trainer: JSON.parse(header.__metadata__.trainer) };
    };
    const ha = history(a), hb = history(b);
    expect(hb.trainer.epoch).toBe(3);
    expect(hb.trainer.history.map((h: { valid: { nats: number } }) => h.valid.nats)).toEqual(ha.trainer.history.map((h: { valid: { nats: number } }) => h.valid.nats));
    const tensorBytes = (bytes: Buffer) => bytes.subarray(8 + Number(bytes.readBigUInt64LE(0)));
    expect(Buffer.compare(tensorBytes(a), tensorBytes(b))).toBe(0);
  }, 120_000);

  it('longer pieces: tune, evaluate and generate at 64 and 128 steps; data rows against --reference; composition terms in metrics', async () => {
    for (const n of [64, 128]) {
      const r = await rltuner([
        'tune', '--num-notes', String(n), '--out', `long-${n}`, '--training-steps', String(6 * n), '--exploration-steps', String(3 * n),
        '--replay-capacity', '1000', '--log-every', String(2 * n), '--eval-every', String(3 * n), '--eval-compositions', '20', '--sample-count', '1',
        '--weight-phrase-recurrence', '1', '--weight-tonic-ending', '0.5', '--preset', 'g', '--quiet',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const evaluation = JSON.parse(readFileSync(join(work, `long-${n}`, 'evaluation.json'), 'utf8'));
      expect(evaluation.tuned.data.steps).toBe(20 * n);
      expect(evaluation.tuned.data.recurrencePieces).toBe(20);
      expect(evaluation.tuned.dataReference.numNotes).toBe(n);
      expect(readFileSync(join(work, `long-${n}`, 'evaluation.md'), 'utf8')).toContain('| data: Nottingham test split |');
      const records = readFileSync(join(work, `long-${n}`, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(records.filter((m) => 'composition/phrase_recurrence' in m)).toHaveLength(3);
      expect(records.filter((m) => 'data/recurring_2_bar' in m)).toHaveLength(1); // the periodic evaluation at step 3n
      const config = JSON.parse(readFileSync(join(work, `long-${n}`, 'config.json'), 'utf8')).config;
      expect(config).toMatchObject({ numNotes: n, weightPhraseRecurrence: 1, weightTonicEnding: 0.5 });
      expect(config).toMatchObject({ weightRhythm: 0, weightPitchRange: 0 }); // the whole resolved config is recorded
      const sample = importMidi(new Uint8Array(readFileSync(join(work, `long-${n}`, 'samples', 'g_1.mid'))), { transpose: false, centre: false }).tokens;
      expect(sample.length).toBeGreaterThan(n / 2);
      expect(sample.length).toBeLessThanOrEqual(n);
    }
    // A reference corpus of our own: a folder of six tunes.
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(work, 'six'), { recursive: true });
    for (const name of ['ashover1.mid', 'ashover2.mid', 'ashover3.mid', 'ashover4.mid', 'ashover5.mid', 'ashover6.mid']) copyFileSync(join(nottingham, name), join(work, 'six', name));
    const e = await rltuner(['evaluate', '--tuned', join('long-128', 'g_tuned.safetensors'), '--num-notes', '128', '--count', '40', '--reference', 'six', '--json', 'long.json', '--quiet']);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toContain('| data: six |');
    expect(e.stdout).toMatch(/## Goals at 128 steps \(stated for 1,000 compositions; this evaluation has 40\)/);
    expect(e.stdout).toMatch(/\| pieces where a 2-bar window recurs \(≥ 64 steps\): ≥ 30 % \(1,000 pieces of 128 steps\) \| \d+\.\d% [✓✗] \|/);
    const json = JSON.parse(readFileSync(join(work, 'long.json'), 'utf8'));
    expect(json.numNotes).toBe(128);
    expect(json.reference).toMatchObject({ name: 'six', numNotes: 128, tunes: 6 });
    expect(json.goals.map((c: { goals: { row: string }[] }) => c.goals.map((g) => g.row))).toEqual([['recurring_2_bar'], ['recurring_2_bar']]);
    expect(json.models[1].data.recurrencePieces).toBe(40);
    // At a length with no shipped reference the rows still print, with a note on stderr.
    const odd = await rltuner(['evaluate', '--length', '48', '--count', '10']);
    expect(odd.code, odd.stderr).toBe(0);
    expect(odd.stderr).toMatch(/no data reference at 48 steps .*--reference data\/nottingham\/splits\/test\.txt/);
    expect(odd.stdout).toMatch(/\| note-ons per bar \(16 steps\) \| \d+\.\d\d \|/);
    expect((await rltuner(['evaluate', '--reference', 'nowhere'])).stderr).toMatch(/--reference nowhere: .*nowhere does not exist/);
    const g = await rltuner(['generate', '--num-notes', '128', '--count', '1', '--out', 'gen-128']);
    expect(g.code, g.stderr).toBe(0);
    expect(readdirSync(join(work, 'gen-128'))).toEqual(['melody_001.mid']);
  }, 180_000);

  it('help shows what a bare command runs; misspelt commands and flags get the nearest name, in rltuner\'s words', async () => {
    const help = (await rltuner(['tune', '--help'])).stdout.split('\n');
    // `rltuner tune --help | grep -A1 algorithm`: the algorithm field's line and the next, the reward scaler's.
    const at = help.findIndex((l) => l.startsWith('  --algorithm '));
    expect(help.slice(at, at + 2).join('\n')).toMatch(/^ {2}--algorithm <q \| psi \| g \| pg> {2}default pg .*\n {2}--reward-scaler <number in \[0, 1000\]> {2}default 2 /);
    const command = await rltuner(['tunee']);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('rltuner: unknown command "tunee"; did you mean tune?');
    const flag = await rltuner(['tune', '--trainig-steps', '100', '--out', 'never']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('rltuner tune: unknown flag --trainig-steps; did you mean --training-steps?');
    const missing = await rltuner(['evaluate', '--count']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('rltuner evaluate: --count needs a value (<n>)');
    for (const r of [command, flag, missing]) expect(r.stderr).not.toMatch(/Option '|ERR_PARSE_ARGS|TypeError/);
    expect(existsSync(join(work, 'never'))).toBe(false);
  }, 30_000);

  it('- writes a command\'s one file to standard output: evaluate --json / --markdown, generate --out with one melody', async () => {
    const toStdout = await rltuner(['evaluate', '--count', '20', '--json', '-', '--quiet']);
    expect(toStdout.code, toStdout.stderr).toBe(0);
    const json = JSON.parse(toStdout.stdout);
    expect(json).toMatchObject({ count: 20, numNotes: 32 });
    expect(toStdout.stderr).toMatch(/\| notes excessively repeated/); // the table goes to stderr then
    expect(existsSync(join(work, '-'))).toBe(false);
    const toFile = await rltuner(['evaluate', '--count', '20', '--json', 'eval20.json', '--quiet']);
    expect(JSON.parse(readFileSync(join(work, 'eval20.json'), 'utf8'))).toEqual(json);
    const markdown = await rltuner(['evaluate', '--count', '20', '--markdown', '-', '--quiet']);
    expect(markdown.stdout).toBe(`${toFile.stdout.split('\n\n').slice(1).join('\n\n')}`);
    const both = await rltuner(['evaluate', '--json', '-', '--markdown', '-']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--json - and --markdown -: standard output holds one file');

    const midi = await rltuner(['generate', '--count', '1', '--seed', '3', '--out', '-']);
    expect(midi.code, midi.stderr).toBe(0);
    expect(await rltuner(['generate', '--count', '1', '--seed', '3', '--out', 'gen-3'])).toMatchObject({ code: 0 });
    expect(midi.stdoutBytes).toEqual(new Uint8Array(readFileSync(join(work, 'gen-3', 'melody_001.mid'))));
    expect(midi.stderr).toMatch(/^standard output {2}\S/m);
    const many = await rltuner(['generate', '--count', '2', '--out', '-']);
    expect(many.code).toBe(2);
    expect(many.stderr).toContain('--out - writes one MIDI file to standard output, and --count 2 asks for 2');
  }, 60_000);

  it('progress: plain lines at each tenth off a terminal, none with --quiet', async () => {
    const args = ['tune', '--preset', 'classic', '--training-steps', '1600', '--exploration-steps', '800', '--replay-capacity', '3000', '--log-every', '400',
      '--eval-every', '0', '--checkpoint-every', '0', '--eval-compositions', '0', '--sample-count', '0'];
    const loud = await rltuner([...args, '--out', 'progress-loud']);
    expect(loud.code, loud.stderr).toBe(0);
    const lines = loud.stderr.split('\n').filter((l) => /^step \d+\/1600 /.test(l));
    // One line per logging interval here (each crosses a tenth), the share of its step; none at the end (100 %).
    expect(lines.map((l) => Number(/\((\d+)%/.exec(l)![1]))).toEqual(lines.map((l) => Math.floor((100 * Number(/^step (\d+)/.exec(l)![1])) / 1600)));
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/\(50%, \d+ (s|min \d+ s) left\)$/);
    const quiet = await rltuner([...args, '--out', 'progress-quiet', '--quiet']);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toMatch(/^step \d+/m);
  }, 60_000);
});
