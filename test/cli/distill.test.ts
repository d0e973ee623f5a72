// `rltuner distill`, run as a user would (needs `npm run build`): a phrase-encoding teacher (which Magenta.js
// cannot run) becomes a basic student that `convert` exports; the same command gives the same file.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/io/model_file.js';
import { sha256Hex } from '../../src/io/sha256.js';
import { rltuner as runCli } from '../support/cli.js';

const phrasePath = fileURLToPath(new URL('../../models/note_rnn.safetensors', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'rltuner-distill-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const rltuner = (args: string[]) => runCli(args, { cwd: work });
const small = ['--tuned', phrasePath, '--compositions', '64', '--held-out', '16', '--length', '32', '--epochs', '2', '--hidden', '8', '--quiet'];

describe('rltuner distill', () => {
  it('trains a basic student on the teacher, reports KL(teacher ‖ student), and convert exports the student', async () => {
    const run = await rltuner(['distill', ...small, '--out', 'd1']);
    expect(run.code, run.stderr).toBe(0);
    expect(readdirSync(join(work, 'd1')).filter((f) => !f.startsWith('.')).sort()).toEqual(['distill.json', 'metrics.jsonl', 'note_rnn.safetensors', 'report.md']);
    const student = decodeModel(new Uint8Array(readFileSync(join(work, 'd1/note_rnn.safetensors'))));
    expect(student.config).toMatchObject({ inputSize: 38, hiddenSizes: [8], outputSize: 38 });
    expect(student.config.input).toBeUndefined();
    expect(student.info.fingerprints?.teacher).toBe(sha256Hex(new Uint8Array(readFileSync(phrasePath))));
    const report = JSON.parse(readFileSync(join(work, 'd1/distill.json'), 'utf8'));
    expect(report.student.steps).toBe(16 * 32);
    expect(report.student.klPerStep).toBeGreaterThan(0);
    // The student's KL is its cross-entropy with the teacher minus the teacher's entropy, both per step.
    expect(report.student.klPerStep).toBeLessThan(-report.student.studentLogProb);
    expect(report.shippedBasicNoteRnn.steps).toBe(16 * 32);
    expect(readFileSync(join(work, 'd1/metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(run.stdout).toMatch(/\| the student \(this run\) \| \d\.\d{4} \|/);

    const exported = await rltuner(['convert', 'd1/note_rnn.safetensors', 'ckpt']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(readdirSync(join(work, 'ckpt')).sort()).toEqual(['config.json', 'group1-shard1of1.bin', 'weights_manifest.json']);
    expect(JSON.parse(readFileSync(join(work, 'ckpt/config.json'), 'utf8')).dataConverter.type).toBe('MelodyConverter');

    // evaluate names the student after its teacher (here the phrase Note RNN itself), scored against a basic Note RNN.
    const basicPath = fileURLToPath(new URL('../../models/note_rnn_basic.safetensors', import.meta.url));
    const evaluated = await rltuner(['evaluate', '--model', basicPath, '--tuned', 'd1/note_rnn.safetensors', '--count', '20', '--quiet']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(evaluated.stdout).toMatch(/^\| metric \| Note RNN \| Student of a Note RNN \(note_rnn\.safetensors\) \|/m);

    // The same command gives the same student, to the byte.
    const again = await rltuner(['distill', ...small, '--out', 'd2']);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(join(work, 'd2/note_rnn.safetensors'))).toEqual(readFileSync(join(work, 'd1/note_rnn.safetensors')));
  }, 60_000);

  it('says what is missing or wrong', async () => {
    const none = await rltuner(['distill', '--out', 'd3']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--tuned <model file> is missing/);
    const missing = await rltuner(['distill', '--tuned', 'nowhere.safetensors', '--out', 'd4']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/model file not found: .*nowhere\.safetensors/);
  }, 30_000);
});
