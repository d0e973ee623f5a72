// The prior's new options on the real command line (needs `npm run build`, which `npm test` does first):
// train --encoding lookback with dropout and weight decay on whole-phrase windows, the same bits on one and
// two threads and after --resume; then generate, tune, evaluate, score and convert on the lookback model.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/io/model_file.js';
import { encodingOf, LOOKBACK_ENCODING } from '../../src/music/encodings.js';
import { importMidi } from '../../src/music/midi_import.js';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const nottingham = fileURLToPath(new URL('../../data/nottingham/melody/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'rltuner-prior-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function rltuner(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('node', [cli, ...args], { cwd: work, maxBuffer: 1 << 24 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** The tensor bytes of a safetensors file (after its header). */
const tensorBytes = (path: string) => {
  const bytes = readFileSync(join(work, path));
  return bytes.subarray(8 + Number(bytes.readBigUInt64LE(0)));
};

describe('a lookback prior on the command line', () => {
  it('trains with dropout on 128-step windows: one and two threads and a resumed run give the same bits', async () => {
    const list = join(work, 'tunes.txt');
    const names = ['jigs1.mid', 'jigs2.mid', 'jigs3.mid', 'reelsa-c1.mid', 'reelsa-c2.mid', 'reelsa-c3.mid', 'waltzes1.mid', 'waltzes2.mid', 'ashover1.mid', 'ashover2.mid'];
    writeFileSync(list, names.map((n) => join(nottingham, n)).join('\n'));
    const common = [
      'train', '--data', list, '--encoding', 'lookback', '--hidden', '24', '--batch', '4', '--window', '128', '--lr', '0.01',
      '--dropout', '0.5', '--input-dropout', '0.1', '--weight-decay', '0.01', '--quiet', '--no-baselines',
    ];
    const one = await rltuner([...common, '--epochs', '2', '--threads', '1', '--out', 'one']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/LSTM \[24\] lookback, dropout 0\.5, input dropout 0\.1, weight decay 0\.01 \(best epoch\)/);
    expect(one.stdout).toMatch(/its label loss, what training minimises, is \d\.\d{4} nats\/step on valid/);
    const two = await rltuner([...common, '--epochs', '2', '--threads', '2', '--out', 'two']);
    expect(two.code, two.stderr).toBe(0);
    expect(await rltuner([...common, '--epochs', '1', '--threads', '2', '--out', 'resumed'])).toMatchObject({ code: 0 });
    const resumed = await rltuner(['train', '--out', 'resumed', '--resume', '--epochs', '2', '--quiet', '--no-baselines']);
    expect(resumed.code, resumed.stderr).toBe(0);
    for (const run of ['two', 'resumed']) {
      expect(Buffer.compare(tensorBytes(join(run, 'note_rnn.safetensors')), tensorBytes(join('one', 'note_rnn.safetensors'))), run).toBe(0);
      expect(Buffer.compare(tensorBytes(join(run, 'checkpoint.safetensors')), tensorBytes(join('one', 'checkpoint.safetensors'))), run).toBe(0);
    }
    const decoded = decodeModel(readFileSync(join(work, 'one', 'note_rnn.safetensors')), 'one');
    expect(encodingOf(decoded.config)).toBe(LOOKBACK_ENCODING);
    expect(decoded.info.training).toMatchObject({ encoding: 'lookback', dropout: 0.5, inputDropout: 0.1, weightDecay: 0.01, windowSteps: 128 });
    const metrics = readFileSync(join(work, 'one', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.every((m) => m.cpu_seconds > 0)).toBe(true);
    // A resume with another encoding or dropout is refused, naming both values.
    const other = await rltuner(['train', '--out', 'resumed', '--resume', '--epochs', '3', '--encoding', 'basic', '--dropout', '0.2']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/--encoding: the checkpoint has lookback, this run has basic/);
    expect(other.stderr).toMatch(/--dropout: the checkpoint has 0\.5, this run has 0\.2/);
    expect((await rltuner([...common, '--encoding', 'attention', '--out', 'bad'])).stderr).toMatch(/--encoding attention: expected basic, lookback, phrase/);
  }, 120_000);

  it('generate, tune, evaluate, score and convert take it', async () => {
    const model = join(work, 'one', 'note_rnn.safetensors');
    const gen = await rltuner(['generate', '--model', model, '--count', '2', '--length', '64', '--meter', '6/8', '--out', 'gen']);
    expect(gen.code, gen.stderr).toBe(0);
    for (const f of readdirSync(join(work, 'gen'))) {
      const tokens = importMidi(new Uint8Array(readFileSync(join(work, 'gen', f))), { transpose: false }).tokens;
      expect(Math.max(...tokens)).toBeLessThan(38);
    }
    const tune = await rltuner(['tune', '--model', model, '--algorithm', 'g', '--training-steps', '320', '--eval-every', '0', '--eval-compositions', '10', '--sample-count', '1', '--quiet', '--out', 'tune']);
    expect(tune.code, tune.stderr).toBe(0);
    const tuned = decodeModel(readFileSync(join(work, 'tune', 'g_tuned.safetensors')), 'g_tuned');
    expect(encodingOf(tuned.config)).toBe(LOOKBACK_ENCODING); // the Q-network shares its prior's encoding
    const evaluate = await rltuner(['evaluate', '--model', model, '--tuned', join(work, 'tune', 'g_tuned.safetensors'), '--count', '20', '--length', '64']);
    expect(evaluate.code, evaluate.stderr).toBe(0);
    expect(evaluate.stdout).toMatch(/pieces where a 2-bar window recurs/);
    const score = await rltuner(['score', '--model', model, join(nottingham, 'jigs4.mid'), join(nottingham, 'reelsa-c4.mid'), '--no-baselines']);
    expect(score.code, score.stderr).toBe(0);
    expect(score.stdout).toMatch(/\| LSTM \[24\] lookback \| \d\.\d{4} \|/);
    const out = await rltuner(['convert', model, 'magenta']);
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(work, 'magenta', 'config.json'), 'utf8')).encoderDecoder.type).toBe('LookbackEventSequenceEncoderDecoder');
    const back = await rltuner(['convert', 'magenta', 'back.safetensors']);
    expect(back.code, back.stderr).toBe(0);
    const a = decodeModel(readFileSync(model), 'a'), b = decodeModel(readFileSync(join(work, 'back.safetensors')), 'b');
    expect(encodingOf(b.config)).toBe(LOOKBACK_ENCODING);
    for (const [name, t] of a.tensors) if (!name.endsWith('.b')) expect(Array.from(b.tensors.get(name)!.data), name).toEqual(Array.from(t.data));
  }, 120_000);
});
