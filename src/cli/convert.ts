/**
 * `rltuner convert <in> <out>`: between rltuner model files and Magenta.js MusicRNN checkpoint folders
 * (src/io/magenta_checkpoint.ts does the conversion; this file reads and writes the files). The direction
 * comes from what <in> is: a folder (or a .json file in it) is a Magenta checkpoint, a file is a model.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize, resolve } from 'node:path';
import { createModel } from '../engine/arena.js';
import {
  exportMagentaCheckpoint, importMagentaCheckpoint, MAGENTA_CONFIG_FILE, MagentaCheckpointError, MAGENTA_MANIFEST_FILE, MAX_CHECKPOINT_BYTES,
  MAX_MAGENTA_JSON_BYTES, MAX_MANIFEST_SHARDS, MUSIC_RNN_CONFIG,
} from '../io/magenta_checkpoint.js';
import { InputFileError, readRegularFile } from '../node/input_files.js';
import { decodeModel, encodeModel, loadModelInto } from '../io/model_file.js';
import { loadKernelsFromDist, MODEL_FILE_LIMIT, readInput, STDOUT, UsageError, writeFileAtomic, writeOutput } from './common.js';
import { commandHelp, defineCommand, parseCommandLine } from './flags.js';
import { encodingOf, PHRASE_ENCODING } from '../music/encodings.js';
import { policyKind } from './policy.js';

export const CONVERT = defineCommand({
  name: 'convert',
  title: 'between rltuner models and Magenta.js MusicRNN checkpoints',
  usage: ['convert <in> <out> [--force]'],
  intro: `  From Magenta:  <in>  a MusicRNN checkpoint folder (config.json, weights_manifest.json and the shard
                       files it lists), or one of those two .json files in it
                 <out> the rltuner model file to write (.safetensors), usable with --model anywhere;
                       - writes it to standard output
  To Magenta:    <in>  an rltuner model file (a Note RNN, or a Q- or Psi-tuned model)
                 <out> the folder to write config.json, weights_manifest.json and group1-shard1of1.bin
                       into; Magenta.js loads it with new mm.MusicRNN('<URL of the folder>')`,
  positionals: '<in> and <out>',
  flags: [
    { name: 'force', kind: 'boolean', doc: 'replace output files that already exist' },
  ],
  notes: `What converts: Magenta's basic_rnn melody model, a one-hot input of 38 classes (MIDI 48..83, note off,
no event), and its lookback_rnn (rltuner's --encoding lookback: 121 inputs, 40 classes), into TF
BasicLSTMCell layers (any number, any size) and a fully connected output; weights in float32 or
quantized to uint8, uint16 or float16. Classes 0 and 1 swap (Magenta: 0 = no event, 1 = note off; in
each of the lookback input's three one-hot blocks too), gates are reordered and TF's run-time forget
bias of 1.0 is folded into rltuner's bias. A lookback checkpoint is one whose config.json names Magenta's
LookbackEventSequenceEncoderDecoder (an export writes it so) or whose weights have the lookback shapes.
Magenta.js has no lookback data converter: it cannot run a lookback export (Magenta's Python lookback_rnn
takes the weights). A lookback model trained with other bars than 4/4 (its meter) still converts; Magenta
always looks back 16 and 32 steps.
Refused, with the reason: chord-conditioned, attention and drum models, other pitch ranges, and
G-tuned models (they act with their Note RNN prior, which a MusicRNN cannot hold), and phrase-encoding models
(no Magenta model looks back four bars): \`rltuner distill\` trains a basic Note RNN on such a model's
compositions, which converts.`,
});

export async function convertCommand(args: string[]): Promise<number | void> {
  const { values: v, positionals, help } = parseCommandLine(CONVERT, args);
  if (help) {
    process.stdout.write(commandHelp(CONVERT));
    return;
  }
  if (positionals.length !== 2) {
    throw new UsageError(`expected <in> and <out>, got ${positionals.length === 0 ? 'nothing' : positionals.map((p) => JSON.stringify(p)).join(' ')}`);
  }
  const input = resolve(positionals[0]);
  const output = positionals[1] === STDOUT ? STDOUT : resolve(positionals[1]);
  const force = v.force === true;
  if (!existsSync(input)) {
    throw new UsageError(`${input} does not exist\n  Give a Magenta.js MusicRNN checkpoint folder or an rltuner model file (.safetensors).`);
  }
  if (statSync(input).isDirectory()) return fromMagenta(input, null, output, force);
  if (input.endsWith('.json')) return fromMagenta(dirname(input), input, output, force);
  if (output === STDOUT) {
    throw new UsageError(`<out> -: a MusicRNN checkpoint is a folder of several files, which standard output cannot hold; name a folder to write it into`);
  }
  return toMagenta(input, output, force);
}

/** Magenta checkpoint folder → rltuner model file. `jsonFile` is the .json file named on the command line, if any. */
function fromMagenta(folder: string, jsonFile: string | null, output: string, force: boolean): void {
  let configPath = join(folder, MAGENTA_CONFIG_FILE);
  let manifestPath = join(folder, MAGENTA_MANIFEST_FILE);
  if (jsonFile !== null) {
    const isManifest = Array.isArray(readJson(jsonFile));
    if (isManifest) manifestPath = jsonFile;
    else configPath = jsonFile;
  }
  const example = JSON.stringify(MUSIC_RNN_CONFIG);
  if (!existsSync(manifestPath)) {
    throw new UsageError(`${manifestPath} not found: a MusicRNN checkpoint folder holds ${MAGENTA_CONFIG_FILE}, ${MAGENTA_MANIFEST_FILE} and the shard files it lists (found: ${listFolder(folder)})`);
  }
  if (!existsSync(configPath)) {
    throw new UsageError(`${configPath} not found: it says which model the weights belong to; for Magenta's basic_rnn melody model write ${example} there`);
  }
  const manifest = readJson(manifestPath);
  const shards = readShards(manifest, folder, manifestPath);
  const decoded = importMagentaCheckpoint({ config: readJson(configPath), manifest, shards }, folder);
  if (output !== STDOUT && existsSync(output) && statSync(output).isDirectory()) {
    throw new UsageError(`${output} is a folder; name the model file to write, e.g. ${join(output, 'note_rnn.safetensors')}`);
  }
  if (output !== STDOUT) refuseOverwrite([output], force);
  const model = createModel(loadKernelsFromDist(), decoded.config, { maxBatch: 1 });
  loadModelInto(model, decoded, folder);
  const written = writeOutput(output, encodeModel(model, decoded.info));
  (output === STDOUT ? process.stderr : process.stdout).write(
    `wrote ${written}: a Note RNN of LSTM layers [${decoded.config.hiddenSizes}] (${encodingOf(decoded.config).name} encoding) from the MusicRNN checkpoint ${folder}\n`);
}

/** Whether `decoded` is a policy `rltuner distill` can make a basic Note RNN of: a phrase-encoding network or a G model. */
function distillable(decoded: ReturnType<typeof decodeModel>, source: string): boolean {
  if (policyKind(decoded, source) === 'g') return true;
  try {
    return encodingOf(decoded.config) === PHRASE_ENCODING;
  } catch {
    return false; // a shape no encoding has: nothing to sample from
  }
}

/** rltuner model file → Magenta checkpoint folder. */
function toMagenta(input: string, output: string, force: boolean): void {
  const bytes = readInput(input, 'model file', 'Pass a model written by `rltuner train` or `rltuner tune`.', MODEL_FILE_LIMIT);
  const decoded = decodeModel(bytes, input);
  let checkpoint: ReturnType<typeof exportMagentaCheckpoint>;
  try {
    checkpoint = exportMagentaCheckpoint(decoded, decoded.info, input);
  } catch (e) {
    // What cannot be one MusicRNN (a phrase-encoding network, a G model with its prior) can be distilled into one.
    if (!(e instanceof MagentaCheckpointError) || !distillable(decoded, input)) throw e;
    throw new MagentaCheckpointError(`${e.message}\n  \`rltuner distill --tuned ${input}\` trains a basic Note RNN on its compositions, which converts`);
  }
  if (existsSync(output) && !statSync(output).isDirectory()) {
    throw new UsageError(`${output} is a file; a MusicRNN checkpoint is a folder: name a new or existing folder to write it into`);
  }
  const files: [string, string | Uint8Array][] = [
    [MAGENTA_CONFIG_FILE, checkpoint.config], [MAGENTA_MANIFEST_FILE, checkpoint.manifest], ...checkpoint.shards,
  ];
  refuseOverwrite(files.map(([name]) => join(output, name)), force);
  for (const [name, data] of files) writeFileAtomic(join(output, name), data);
  process.stdout.write(
    `wrote ${output}: ${files.map(([name]) => name).join(', ')} (MusicRNN ${encodingOf(decoded.config).name}_rnn melody model, LSTM layers [${decoded.config.hiddenSizes}])\n` +
      (encodingOf(decoded.config).name === 'basic'
        ? `  load it in Magenta.js with new mm.MusicRNN('<URL of ${basename(output)}>')\n`
        : '  Magenta.js has no lookback data converter and cannot run it; Magenta\'s Python lookback_rnn takes the weights\n'),
  );
}

function refuseOverwrite(paths: string[], force: boolean): void {
  const existing = paths.filter((p) => existsSync(p));
  if (existing.length > 0 && !force) throw new UsageError(`${existing.join(', ')} already ${existing.length === 1 ? 'exists' : 'exist'}; pass --force to replace, or choose another <out>`);
}

/** A checkpoint's JSON file: a regular file of at most MAX_MAGENTA_JSON_BYTES, parsed. */
function readJson(path: string): unknown {
  const text = new TextDecoder().decode(readCheckpointFile(path, 'checkpoint JSON file', MAX_MAGENTA_JSON_BYTES, 'MAX_MAGENTA_JSON_BYTES'));
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path}: not valid JSON (${(e as Error).message.slice(0, 160)})`);
  }
}

/**
 * The shard files the manifest lists, each read once: paths inside the folder only, regular files only
 * (a shard linked to /dev/zero or a FIFO is refused), their sizes summed and checked against
 * MAX_CHECKPOINT_BYTES before any is read. A shard that does not exist is left out (the import names it);
 * one listed twice is read once (the import refuses the manifest).
 */
function readShards(manifest: unknown, folder: string, manifestPath: string): Map<string, Uint8Array> {
  const shards = new Map<string, Uint8Array>();
  if (!Array.isArray(manifest)) return shards;
  const paths = new Set<string>();
  for (const group of manifest) {
    for (const path of Array.isArray(group?.paths) ? group.paths : []) {
      if (typeof path !== 'string' || path === '' || path.includes('\0') || isAbsolute(path) || normalize(path).startsWith('..')) {
        throw new UsageError(`${manifestPath}: shard path ${JSON.stringify(path)?.slice(0, 120)} leaves the checkpoint folder or is not a file name; shard paths are relative to it`);
      }
      paths.add(path);
      if (paths.size > MAX_MANIFEST_SHARDS) throw new UsageError(`${manifestPath}: lists more than ${MAX_MANIFEST_SHARDS} shard files (MAX_MANIFEST_SHARDS); the manifest is damaged`);
    }
  }
  let total = 0;
  const present: string[] = [];
  for (const path of paths) {
    const file = join(folder, path);
    let info;
    try {
      info = statSync(file);
    } catch {
      continue; // missing: importMagentaCheckpoint names it
    }
    if (!info.isFile()) {
      const kind = info.isDirectory() ? 'a folder' : info.isFIFO() ? 'a FIFO (named pipe)' : 'a device or socket';
      throw new UsageError(`${file}: the shard is ${kind}, not a regular file; a checkpoint's shards are files of weight bytes`);
    }
    total += info.size;
    if (total > MAX_CHECKPOINT_BYTES) {
      throw new UsageError(`${folder}: the shards listed in ${MAGENTA_MANIFEST_FILE} hold more than ${MAX_CHECKPOINT_BYTES} bytes (${total} up to ${path}), above what a checkpoint may have (MAX_CHECKPOINT_BYTES)`);
    }
    present.push(path);
  }
  for (const path of present) shards.set(path, readCheckpointFile(join(folder, path), 'shard', MAX_CHECKPOINT_BYTES, 'MAX_CHECKPOINT_BYTES'));
  return shards;
}

/** A regular file of at most `maxBytes`, or a UsageError naming it, what it is and the limit. */
function readCheckpointFile(path: string, what: string, maxBytes: number, limitName: string): Uint8Array {
  try {
    return readRegularFile(path, what, maxBytes, limitName);
  } catch (e) {
    if (e instanceof InputFileError) throw new UsageError(e.message);
    throw e;
  }
}

function listFolder(folder: string): string {
  const names = readdirSync(folder);
  return names.length === 0 ? 'nothing' : names.slice(0, 10).join(', ') + (names.length > 10 ? ', ...' : '');
}
