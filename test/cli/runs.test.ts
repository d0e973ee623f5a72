// Runs that cannot lie, through the real command line (needs `npm run build`, which `npm test` does first):
// train refuses to resume with other data, build or settings; the same command gives the same model
// bytes; a signal stops after a checkpoint with exit code 130 / 143 and the resumed run ends like an
// uninterrupted one; generate writes files as it goes; bad numbers and empty paths are refused.
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeModel, MODEL_FINGERPRINT_FORMAT } from '../../src/io/model_file.js';
import { fileListFingerprint, kernelDigest } from '../../src/io/fingerprint.js';
import { interrupted as interruptedCli, rltuner as runCli } from '../support/cli.js';

const nottingham = fileURLToPath(new URL('../../data/nottingham/melody/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'rltuner-runs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const rltuner = (args: string[], nodeFlags: string[] = []) => runCli(args, { cwd: work, nodeFlags });
const interrupted = (args: string[], when: RegExp, signal: NodeJS.Signals, stream: 'stderr' | 'stdout' = 'stderr') => interruptedCli(args, when, signal, { cwd: work, stream });

const tunes = (numbers: number[]) => numbers.map((n) => join(nottingham, `ashover${n}.mid`));
function listFile(name: string, files: string[]): string {
  writeFileSync(join(work, name), `${files.join('\n')}\n`);
  return name;
}
const trainList = listFile('tunes.txt', tunes([1, 2, 3, 4, 5, 6, 7, 8]));
const small = ['train', '--data', trainList, '--hidden', '8', '--batch', '4', '--window', '32', '--lr', '0.01', '--no-baselines'];
const modelBytes = (out: string) => readFileSync(join(work, out, 'note_rnn.safetensors'));

describe('--overwrite never deletes what a user owns', () => {
  it("a folder of the user's files under rltuner's names, with no run marker, survives tune --overwrite and train --overwrite byte for byte", async () => {
    const files: Record<string, string> = {
      'config.json': '{"my": "settings"}\n', 'evaluation.md': '# my listening notes\n', 'metrics.jsonl': '{"mine": 1}\n',
      'samples/lead_1.mid': 'MThd my lead', 'note_rnn.safetensors': 'my own model', 'checkpoint.safetensors': 'my checkpoint',
    };
    const dir = join(work, 'users-folder');
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    const tune = await rltuner(['tune', '--out', 'users-folder', '--overwrite', '--training-steps', '64', '--eval-compositions', '0', '--quiet']);
    const train = await rltuner([...small, '--epochs', '1', '--out', 'users-folder', '--overwrite', '--quiet']);
    for (const [run, kind] of [[tune, 'tune'], [train, 'train']] as const) {
      expect(run.code, run.stderr).not.toBe(0);
      expect(run.stderr).toContain(`--overwrite: ${dir} was not started by an rltuner ${kind} run`);
      expect(run.stderr).toContain('nothing was removed');
    }
    for (const [name, text] of Object.entries(files)) expect(readFileSync(join(dir, name), 'utf8')).toBe(text);
    expect(readdirSync(dir).sort()).toEqual(['checkpoint.safetensors', 'config.json', 'evaluation.md', 'metrics.jsonl', 'note_rnn.safetensors', 'samples']);
  }, 60_000);
});

describe('train runs that cannot lie', () => {
  it('the same command gives the same model bytes, with fingerprints and no wall-clock figures', async () => {
    const a = await rltuner([...small, '--epochs', '2', '--out', 'same-a', '--quiet', 'true']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toBe(''); // --quiet true was taken as --quiet
    const b = await rltuner([...small, '--epochs', '2', '--out', 'same-b', '--quiet=false']);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/epoch 2\/2/);
    expect(Buffer.compare(modelBytes('same-a'), modelBytes('same-b'))).toBe(0);

    const decoded = decodeModel(new Uint8Array(modelBytes('same-a')));
    expect(decoded.metadata.format_version).toBe('2');
    const listed = tunes([1, 2, 3, 4, 5, 6, 7, 8]).map((name) => ({ name, bytes: new Uint8Array(readFileSync(name)) }));
    const kernels = kernelDigest(new Uint8Array(readFileSync(fileURLToPath(new URL('../../dist/rltuner.wasm', import.meta.url)))));
    expect(decoded.info.fingerprints).toEqual({ format: MODEL_FINGERPRINT_FORMAT, kernelBuild: 'plain', kernels, trainingData: fileListFingerprint(listed) });
    const header = JSON.stringify(decoded.metadata);
    expect(header).not.toMatch(/seconds|"date"|started/);
    // metrics.jsonl keeps the timings.
    const metrics = readFileSync(join(work, 'same-a', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.map((m) => m.epoch)).toEqual([1, 2]);
    expect(typeof metrics[0].seconds).toBe('number');
  }, 60_000);

  it('--resume refuses other settings, data or build, naming both values; a finished run is not replaced', async () => {
    const first = await rltuner([...small, '--epochs', '1', '--out', 'guarded', '--quiet']);
    expect(first.code, first.stderr).toBe(0);
    const before = modelBytes('guarded');

    const settings = await rltuner([...small, '--epochs', '2', '--out', 'guarded', '--resume', '--hidden', '16', '--lr', '0.5']);
    expect(settings.code).toBe(2);
    expect(settings.stderr).toContain('--hidden: the checkpoint has 8, this run has 16');
    expect(settings.stderr).toContain('--lr: the checkpoint has 0.01, this run has 0.5');

    const otherList = listFile('other.txt', tunes([1, 2, 3, 4, 5, 6, 7, 9]));
    const data = await rltuner(['train', '--data', otherList, '--out', 'guarded', '--resume', '--epochs', '2']);
    expect(data.code).toBe(2);
    expect(data.stderr).toContain(`--data: the checkpoint has ${join(work, trainList)}, this run has ${join(work, otherList)}`);

    // Same path, other files in it: caught by the data fingerprint.
    const savedList = readFileSync(join(work, trainList), 'utf8');
    writeFileSync(join(work, trainList), `${tunes([1, 2, 3, 4, 5, 6, 7, 9]).join('\n')}\n`);
    const changed = await rltuner(['train', '--out', 'guarded', '--resume', '--epochs', '2']);
    writeFileSync(join(work, trainList), savedList);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(/trainingData: the checkpoint has [0-9a-f]{64}, this run has [0-9a-f]{64}/);

    // A runtime that accepts the relaxed build: asking for it is refused, the checkpoint was computed with the plain one.
    const relaxed = await rltuner(['train', '--out', 'guarded', '--resume', '--epochs', '2', '--relaxed-simd'], ['--experimental-wasm-relaxed-simd']);
    expect(relaxed.code).toBe(2);
    expect(relaxed.stderr).toContain('kernelBuild: the checkpoint has plain, this run has relaxed');

    const contradictory = await rltuner(['train', '--out', 'guarded', '--resume', '--overwrite']);
    expect(contradictory.code).toBe(2);
    expect(contradictory.stderr).toMatch(/pass only one of them/);

    const again = await rltuner([...small, '--epochs', '1', '--out', 'guarded']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a run of rltuner train .*pass --resume to continue it/);
    expect(Buffer.compare(modelBytes('guarded'), before)).toBe(0);

    // A resume needs every epoch's record of metrics.jsonl up to the checkpoint.
    const metricsPath = join(work, 'guarded', 'metrics.jsonl');
    const metrics = readFileSync(metricsPath, 'utf8');
    rmSync(metricsPath);
    const missing = await rltuner(['train', '--out', 'guarded', '--resume', '--epochs', '2']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`--resume: ${metricsPath} is missing, but the checkpoint is at epoch 1`);
    writeFileSync(metricsPath, '');
    const emptied = await rltuner(['train', '--out', 'guarded', '--resume', '--epochs', '2']);
    expect(emptied.code).toBe(2);
    expect(emptied.stderr).toMatch(/holds the records of epochs \[\], but the checkpoint is at epoch 1 \(records 1\.\.1 expected\): the file was shortened or replaced/);
    writeFileSync(metricsPath, metrics);

    // Flags left out are the checkpoint's; only --epochs changes.
    const resumed = await rltuner(['train', '--out', 'guarded', '--resume', '--epochs', '2', '--quiet']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const training = decodeModel(new Uint8Array(modelBytes('guarded'))).info.training as { hiddenSizes: number[]; epochsRun: number };
    expect(training).toMatchObject({ hiddenSizes: [8], epochsRun: 2 });
  }, 60_000);

  it('SIGINT stops after the checkpoint with exit code 130, and the resumed run ends exactly like an uninterrupted one', async () => {
    const stopped = await interrupted([...small, '--epochs', '100000', '--out', 'stopped'], /epoch 1\/100000/, 'SIGINT');
    expect(stopped.code, stopped.stderr).toBe(130);
    const epoch = Number(/stopped after epoch (\d+); its checkpoint is written/.exec(stopped.stderr)?.[1]);
    expect(epoch).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(work, 'stopped', 'checkpoint.safetensors'))).toBe(true);
    expect(existsSync(join(work, 'stopped', '.rltuner.lock'))).toBe(false);
    const lines = () => readFileSync(join(work, 'stopped', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines().map((m) => m.epoch)).toEqual(Array.from({ length: epoch }, (_, i) => i + 1));

    // A torn last metrics line (as a full disk or a kill mid-append leaves) is dropped with a notice and the run goes on.
    appendFileSync(join(work, 'stopped', 'metrics.jsonl'), '{"epoch":999,"train_na');
    const total = String(epoch + 1);
    const resumed = await rltuner([...small, '--epochs', total, '--out', 'stopped', '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/metrics\.jsonl: dropped its torn last line/);
    const straight = await rltuner([...small, '--epochs', total, '--out', 'straight', '--quiet']);
    expect(straight.code, straight.stderr).toBe(0);
    expect(Buffer.compare(modelBytes('stopped'), modelBytes('straight'))).toBe(0);
    const withoutTime = (m: { seconds?: number; cpu_seconds?: number }) => ({ ...m, seconds: undefined, cpu_seconds: undefined });
    const straightLines = readFileSync(join(work, 'straight', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines().map(withoutTime)).toEqual(straightLines.map(withoutTime));
  }, 60_000);

  it('SIGTERM stops the same way with exit code 143', async () => {
    const stopped = await interrupted([...small, '--epochs', '100000', '--out', 'terminated'], /epoch 1\/100000/, 'SIGTERM');
    expect(stopped.code, stopped.stderr).toBe(143);
    expect(stopped.stderr).toMatch(/stopped after epoch \d+; its checkpoint is written/);
    const resumed = await rltuner(['train', '--out', 'terminated', '--resume', '--epochs', '100000', '--hidden', '9']);
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toContain('--hidden: the checkpoint has 8, this run has 9');
  }, 60_000);
});

describe('generate and flags', () => {
  it('generate writes each file as soon as its batch is sampled, and Ctrl-C stops after the batch with exit code 130', async () => {
    const run = await interrupted(['generate', '--count', '100000', '--length', '32', '--out', 'gen-stop'], /melody_001\.mid/, 'SIGINT', 'stdout');
    expect(run.code, run.stderr).toBe(130);
    const written = Number(/stopped: wrote (\d+) melodies of 100000 to /.exec(run.stderr)?.[1]);
    expect(written).toBeGreaterThanOrEqual(256);
    expect(written % 256).toBe(0);
    expect(written).toBeLessThan(100000);
    const files = readdirSync(join(work, 'gen-stop')).filter((f) => f.endsWith('.mid'));
    expect(files).toHaveLength(written);
    expect(readdirSync(join(work, 'gen-stop')).filter((f) => f.includes('.tmp-'))).toEqual([]);
  }, 60_000);

  it('numbers are plain decimals and empty paths are refused, each with a message', async () => {
    for (const [args, message] of [
      [['generate', '--count', '0x10'], /--count 0x10: expected an integer in 1\.\.100000 \(not a plain decimal/],
      [['generate', '--temperature', '1e-400'], /--temperature 1e-400: expected a number in 0\.\.100 \(too small: it underflows to 0\)/],
      [['generate', '--model', ''], /--model '': the value is empty/],
      [['train', '--data', trainList, '--out', ''], /--out '' would write into the current folder/],
      [['train', '--data', trainList, '--lr', '0b1', '--out', 'never'], /--lr 0b1: expected a number/],
      [['tune', '--gamma', '0x1', '--out', 'never'], /gamma = "0x1"/],
    ] as const) {
      const r = await rltuner([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(existsSync(join(work, 'never'))).toBe(false);
  }, 60_000);
});
