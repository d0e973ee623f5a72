// Files that once made rltuner take minutes and gigabytes, give garbage with exit status 0, or hang
// (test/fixtures/reader_repro/README.md), and the promise they are held to now: each ends in a named
// error naming the file, the value found and the limit, within 1 s and 64 MB, measured in a fresh process
// (test/support/fresh_process.ts: wall time and peak resident memory of the call). The command-line
// checks run dist/cli.js (built by `npm test`) and allow 3 s for node's start-up and loading the kernels.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { exportMagentaCheckpoint, importMagentaCheckpoint, MagentaCheckpointError } from '../../src/io/magenta_checkpoint.js';
import { decodeModel } from '../../src/io/model_file.js';
import { toNoteSequence } from '../../src/music/note_sequence.js';
import { measureReaderWithin, type ReaderKind } from '../support/fresh_process.js';
import { rltuner } from '../support/cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REPRO = join(ROOT, 'test', 'fixtures', 'reader_repro');
const SHIPPED_MODEL = join(ROOT, 'models', 'note_rnn_basic.safetensors');
const MIDI = join(ROOT, 'data', 'nottingham', 'melody', 'ashover1.mid');
const MB = 1024 * 1024;
const work = mkdtempSync(join(tmpdir(), 'rltuner-reader-repro-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A valid checkpoint folder (the shipped model exported) and a valid NoteSequence: the warm-up files. */
const shippedDecoded = decodeModel(new Uint8Array(readFileSync(SHIPPED_MODEL)), SHIPPED_MODEL);
const exported = exportMagentaCheckpoint(shippedDecoded);
const VALID_CHECKPOINT = join(work, 'valid-checkpoint');
mkdirSync(VALID_CHECKPOINT);
writeFileSync(join(VALID_CHECKPOINT, 'config.json'), exported.config);
writeFileSync(join(VALID_CHECKPOINT, 'weights_manifest.json'), exported.manifest);
for (const [name, bytes] of exported.shards) writeFileSync(join(VALID_CHECKPOINT, name), bytes);
const VALID_SEQUENCE = join(work, 'valid.json');
writeFileSync(VALID_SEQUENCE, JSON.stringify(toNoteSequence([14, 1, 16, 1, 18, 0, 21, 1], { qpm: 120 })));
const WARM_UP: Record<Exclude<ReaderKind, 'midi'>, string> = { model: SHIPPED_MODEL, magenta: VALID_CHECKPOINT, noteseq: VALID_SEQUENCE };

const cli = (args: string[]) => rltuner(args, { cwd: work });

/** Each fixture: the reader that reads it, the error it must end in (after "<path>: " or "<path>/"), and a command that reads it. */
const FIXTURES: { path: string; kind: Exclude<ReaderKind, 'midi'>; error: string; command?: (path: string) => string[] }[] = [
  {
    path: 'models/arch_h4096x8.safetensors', kind: 'model',
    error: 'ModelFileError: {path}: the architecture metadata claims LSTM layers [4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096], which needs tensor "lstm.0.w_x" of shape [38, 16384], but the file\'s is [38, 400]; the file is damaged or its metadata was edited',
    command: (path) => ['generate', '--model', path, '--count', '1', '--out', join(work, 'gen')],
  },
  {
    path: 'models/numnotes_2e9.safetensors', kind: 'model',
    error: 'ModelFileError: {path}: its metadata records notes.config.numNotes = 2000000000, outside what rltuner allows (integer in [8, 1024], as for a tuning config); the file is damaged or was edited',
    command: (path) => ['generate', '--model', path, '--count', '1', '--out', join(work, 'gen')],
  },
  {
    path: 'models/weights_big.safetensors', kind: 'model',
    error: 'ModelFileError: {path}: tensor "lstm.0.w_x" holds 3.0000000054977558e+38 at element 0, beyond the ±1000000 a weight may have (MAX_ABS_WEIGHT); the file is damaged or comes from a run that diverged',
    command: (path) => ['score', '--model', path, MIDI, '--no-baselines'],
  },
  {
    path: 'magenta/dtype_constructor_truncated_shard', kind: 'magenta',
    error: 'MagentaCheckpointError: {path}/weights_manifest.json: group 0: weight pad has dtype "constructor", which tfjs does not write (a manifest\'s dtypes: float32, int32, bool, complex64, uint8, uint16, float16, string)',
    command: (path) => ['convert', path, join(work, 'converted.safetensors'), '--force'],
  },
  {
    path: 'magenta/nan_bypass_alloc_1p6GB', kind: 'magenta',
    error: 'MagentaCheckpointError: {path}/weights_manifest.json: group 0: weight pad has shape [1e+308,1e+308,0]: dimension 1e+308 is not a whole number from 0 to 2^53 − 1; the manifest is damaged',
    command: (path) => ['convert', path, join(work, 'converted.safetensors'), '--force'],
  },
  {
    path: 'noteseq/end_4p5e9.json', kind: 'noteseq',
    error: "NoteSequenceError: {path}: melody is 4500000000 steps long, above the maximum of 65536 (beyond the 4194304 steps any import allows; the sequence's times or quantization are corrupt)",
  },
  {
    path: 'noteseq/long_note_2e9_steps.json', kind: 'noteseq',
    error: "NoteSequenceError: {path}: melody is 2000000000 steps long, above the maximum of 65536 (beyond the 4194304 steps any import allows; the sequence's times or quantization are corrupt)",
  },
  {
    path: 'noteseq/tiny_steps_per_quarter.json', kind: 'noteseq',
    error: 'NoteSequenceError: {path}: quantizationInfo.stepsPerQuarter = 1e-7 is not a whole number of steps from 0 to 2147483647 (Magenta stores it as an int32; MAX_STEPS_PER_UNIT)',
  },
];

describe('the regression files in test/fixtures/reader_repro', () => {
  it('are the files its README lists', () => {
    const listed = [...readFileSync(join(REPRO, 'README.md'), 'utf8').matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]).sort();
    const present = ['models', 'magenta', 'noteseq'].flatMap((dir) => readdirSync(join(REPRO, dir)).map((f) => `${dir}/${f}`)).sort();
    expect(listed).toEqual(present);
    expect(FIXTURES.map((f) => f.path).sort()).toEqual(present);
  });

  for (const fixture of FIXTURES) {
    it(`${fixture.path}: a named error naming the file, the value and the limit, within 1 s and 64 MB`, async () => {
      const path = join(REPRO, fixture.path);
      const measured = await measureReaderWithin(fixture.kind, WARM_UP[fixture.kind], path, 1000);
      console.log(`${fixture.path}: ${measured.ms.toFixed(1)} ms, peak resident memory +${(measured.peakGrowthBytes / MB).toFixed(1)} MB (${measured.peakFrom})`);
      expect(measured.outcome).toBe(fixture.error.replace('{path}', path));
      expect(measured.ms).toBeLessThan(1000);
      expect(measured.peakGrowthBytes).toBeLessThan(64 * MB);
    }, 20_000);

    if (fixture.command) {
      it(`${fixture.path}: the same through \`rltuner ${fixture.command('x')[0]}\`, exit status 1`, async () => {
        const path = join(REPRO, fixture.path);
        const result = await cli(fixture.command!(path));
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(`rltuner ${fixture.command!('x')[0]}: ${fixture.error.replace('{path}', path).replace(/^\w+: /, '')}\n`);
        expect(result.ms).toBeLessThan(3000);
      }, 20_000);
    }
  }
});

describe('checkpoint shards are regular files, each read once', () => {
  const checkpointWith = (name: string, manifest: string, shard: (dir: string) => void): string => {
    const dir = join(work, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), exported.config);
    writeFileSync(join(dir, 'weights_manifest.json'), manifest);
    shard(dir);
    return dir;
  };

  it('a shard that is a link to /dev/zero is refused before a byte is read', async () => {
    const dir = checkpointWith('zero', exported.manifest, (d) => symlinkSync('/dev/zero', join(d, 'group1-shard1of1.bin')));
    const result = await cli(['convert', dir, join(work, 'zero.safetensors')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`rltuner convert: ${join(dir, 'group1-shard1of1.bin')}: the shard is a device or socket, not a regular file`);
    expect(result.ms).toBeLessThan(3000);
  }, 20_000);

  it('a manifest naming one shard 2,000 times is refused (in the library and in `convert`), the shard read once', async () => {
    const [group] = JSON.parse(exported.manifest) as { paths: string[]; weights: unknown[] }[];
    const manifest = JSON.stringify([{ ...group, paths: Array(2000).fill(group.paths[0]) }]);
    const shard = [...exported.shards.values()][0];
    expect(() => importMagentaCheckpoint({ config: exported.config, manifest, shards: exported.shards }, 'ckpt')).toThrow(MagentaCheckpointError);
    expect(() => importMagentaCheckpoint({ config: exported.config, manifest, shards: exported.shards }, 'ckpt'))
      .toThrow('ckpt/weights_manifest.json: group 0 lists the shard group1-shard1of1.bin again (first in group 0); a tfjs manifest lists each shard once, so the manifest is damaged');
    const dir = checkpointWith('repeated', manifest, (d) => writeFileSync(join(d, 'group1-shard1of1.bin'), shard));
    const result = await cli(['convert', dir, join(work, 'repeated.safetensors')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('lists the shard group1-shard1of1.bin again');
    expect(result.ms).toBeLessThan(3000);
  }, 20_000);
});

describe('inputs the commands read are regular files', () => {
  const fifo = join(work, 'pipe.mid');
  execFileSync('mkfifo', [fifo]);
  const folder = join(work, 'a-folder.safetensors');
  mkdirSync(folder);

  for (const [label, args, what] of [
    ['a FIFO as --primer', ['generate', '--primer', fifo, '--count', '1', '--out', join(work, 'g1')], 'primer MIDI file'],
    ['a FIFO as --model', ['generate', '--model', fifo, '--count', '1', '--out', join(work, 'g2')], 'model file'],
    ['a FIFO as tune --primer', ['tune', '--priming', 'primer', '--primer', fifo, '--training-steps', '32', '--out', join(work, 't0')], 'primer MIDI file'],
    ['a FIFO as --config', ['tune', '--config', fifo, '--out', join(work, 't1')], 'config file'],
  ] as const) {
    it(`${label} is refused at once, naming it (it used to wait forever)`, async () => {
      const result = await cli([...args]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`the ${what} ${fifo} is a FIFO (named pipe), not a regular file`);
      expect(result.ms).toBeLessThan(3000);
    }, 20_000);
  }

  it('a folder as --model is refused, naming it', async () => {
    const result = await cli(['generate', '--model', folder, '--count', '1', '--out', join(work, 'g4')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`the model file ${folder} is a folder, not a regular file`);
  }, 20_000);

  it('a config file over 1 MiB is refused by its size, naming the limit', async () => {
    const big = join(work, 'big.json');
    writeFileSync(big, `{"seed": 1, "pad": "${'x'.repeat(MB)}"}`);
    const result = await cli(['tune', '--config', big, '--out', join(work, 't2')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`the config file ${big} is ${readFileSync(big).length} bytes, above the ${MB} bytes such a file may have (MAX_CONFIG_FILE_BYTES)`);
  }, 20_000);
});
