/**
 * `rltuner score --model <file> <paths…>`: the held-out likelihood of a Note RNN on MIDI files (nats per
 * step, perplexity, accuracy, accuracy on events) beside n-gram baselines fitted on the model's recorded
 * training data (or --baseline-data). The files are imported the way the model's training data was
 * (its metadata `data.import`); a model that records no import (the shipped one) was trained on the
 * first importer's note-count transposition, so that is used.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { decodeModel, recordedImport, type DecodedModel } from '../io/model_file.js';
import { buildCorpus, formatCorpusSummary, splitByNameHash, type CorpusOptions, type Melody } from '../music/corpus.js';
import { readMidiSources, readNottinghamSplit } from '../node/corpus_files.js';
import { scoreNoteRnn, type NoteRnnScore } from '../train/scoring.js';
import { loadKernelsFromDist, PACKAGE_ROOT, PART_FLAGS, partFlags, Progress, QUIET, readModelBytes, UsageError } from './common.js';
import { readSourcesOf } from './corpus.js';
import { commandHelp, defineCommand, parseCommandLine } from './flags.js';
import { importFlagRows, importFlags } from './key_flags.js';
import { HELD_OUT_SHARE, IMPORT_BEFORE_KEYS, melodyGrid, TIMING_BEFORE_ALIGNED, type ImportRecord } from '../train/training_data.js';
import { encodingOf } from '../music/encodings.js';

export const SCORE = defineCommand({
  name: 'score',
  title: 'how well a Note RNN predicts melodies it has not seen',
  usage: ['score [--model <file>] <path> [<path> ...] [options]'],
  intro: 'The melodies to score, <path>: folders of .mid files, .mid files, or lists of them.',
  positionals: 'the melodies to score',
  flags: [
    { name: 'model', kind: 'string', arg: '<file>', doc: 'a Note RNN (.safetensors)', defaultText: 'the shipped default' },
    {
      name: 'baseline-data', kind: 'string', multiple: true, arg: '<path>',
      doc: 'fit the n-gram baselines on these melodies (a tenth, by file-name hash, chooses the discount); repeat for several',
      defaultText: "the model's recorded training data: train split, discount on valid",
    },
    { name: 'no-baselines', kind: 'boolean', doc: 'only the model' },
    ...PART_FLAGS,
    ...importFlagRows(true),
    { name: 'json', kind: 'boolean', doc: 'print the figures as JSON' },
    QUIET,
  ],
  notes: `Figures: nats per predicted step (the first step of each melody is context), perplexity, accuracy, and
accuracy on the steps whose target is not NO_EVENT. A lookback model reads each melody's meter and pickup;
its figures are per event (the classes that play an event summed), so they compare with a basic model's.`,
});

interface RecordedData {
  corpus?: string;
  nottingham?: string;
  data?: string;
  valid?: string;
  heldOut?: string[];
}

/** The import the model's training data went through (note-count for models that record none). */
function recordedImportOf(decoded: DecodedModel, path: string): { options: CorpusOptions; description: string } {
  const record = recordedImport(decoded, path);
  if (record === undefined || (record.transposeBy === undefined && record.keepKey === undefined)) {
    return {
      options: { transposeBy: IMPORT_BEFORE_KEYS.transposeBy, timing: TIMING_BEFORE_ALIGNED },
      description: 'transposed by note count, timing nearest (the model records no import settings: it predates key-based transposition)',
    };
  }
  const options: CorpusOptions = { transposeBy: record.transposeBy ?? 'key', timing: record.timing ?? TIMING_BEFORE_ALIGNED };
  if (record.keepKey) options.transpose = false;
  if (record.track !== undefined) options.track = record.track;
  if (record.channel !== undefined) options.channel = record.channel;
  return { options, description: `${record.keepKey ? 'keys kept' : `transposed by ${options.transposeBy}`}, timing ${options.timing} (as the model was trained)` };
}

/** The baseline training and validation melodies the model's metadata points to, or why there are none. */
async function recordedBaselineData(decoded: DecodedModel, options: CorpusOptions): Promise<{ train: Melody[]; valid: Melody[]; description: string } | string> {
  // Metadata from an untrusted file: only fields of the types train writes are followed.
  const given = (typeof decoded.info.data === 'object' && decoded.info.data !== null ? decoded.info.data : {}) as Record<string, unknown>;
  const text = (key: keyof RecordedData) => (typeof given[key] === 'string' && given[key] !== '' ? (given[key] as string) : undefined);
  const data: RecordedData = {
    corpus: text('corpus'), nottingham: text('nottingham'), data: text('data'), valid: text('valid'),
    heldOut: Array.isArray(given.heldOut) ? given.heldOut.filter((name): name is string => typeof name === 'string') : undefined,
  };
  const build = (sources: Awaited<ReturnType<typeof readMidiSources>>) => buildCorpus(sources, options).melodies;
  if (data.nottingham !== undefined || data.corpus?.startsWith('Nottingham')) {
    const candidates = [data.nottingham && resolve(data.nottingham), resolve(PACKAGE_ROOT, 'data', 'nottingham')].filter((d): d is string => Boolean(d));
    const dir = candidates.find((d) => existsSync(resolve(d, 'splits', 'train.txt')));
    if (dir === undefined) return `the model was trained on the Nottingham splits, not found at ${candidates.join(' or ')}`;
    const [train, valid] = await Promise.all([readNottinghamSplit(dir, 'train'), readNottinghamSplit(dir, 'valid')]);
    return { train: build(train), valid: build(valid), description: `the Nottingham train split (${dir}), discount chosen on its valid split` };
  }
  if (typeof data.data === 'string') {
    if (!existsSync(resolve(data.data))) return `the model's training data ${data.data} is not found from this folder`;
    const melodies = build(await readMidiSources(resolve(data.data)));
    if (Array.isArray(data.heldOut)) {
      const heldOut = new Set(data.heldOut);
      return { train: melodies.filter((m) => !heldOut.has(m.name)), valid: melodies.filter((m) => heldOut.has(m.name)), description: `${data.data} without its held-out files (discount chosen on them)` };
    }
    if (typeof data.valid === 'string' && existsSync(resolve(data.valid))) {
      return { train: melodies, valid: build(await readMidiSources(resolve(data.valid))), description: `${data.data}, discount chosen on ${data.valid}` };
    }
    return { train: melodies, valid: melodies, description: `${data.data}` };
  }
  return 'the model records no training data';
}

const row = (name: string, m: { nats: number; perplexity: number; accuracy: number; accuracyOnEvents: number }) =>
  `| ${name} | ${m.nats.toFixed(4)} | ${m.perplexity.toFixed(3)} | ${(100 * m.accuracy).toFixed(2)}% | ${Number.isNaN(m.accuracyOnEvents) ? 'n/a' : `${(100 * m.accuracyOnEvents).toFixed(2)}%`} |`;

/** The figures as a Markdown table, model first. */
export function formatScoreTable(score: NoteRnnScore, modelName: string): string {
  return [
    '| model | nats/step | perplexity | accuracy | accuracy (events) |',
    '|---|---|---|---|---|',
    row(modelName, score.model),
    ...score.baselines.map((b) => row(`${b.order}-gram (KN, D=${b.discount})`, b.metrics)),
  ].join('\n');
}

export async function scoreCommand(args: string[]): Promise<number | void> {
  const { values: v, positionals, help } = parseCommandLine(SCORE, args);
  if (help) {
    process.stdout.write(commandHelp(SCORE));
    return;
  }
  const model = readModelBytes(v.model);
  const decoded = decodeModel(model.bytes, model.path);
  const recorded = recordedImportOf(decoded, model.path);
  const given = { ...partFlags(v), ...importFlags('score', v) };
  const options: CorpusOptions = { ...recorded.options, ...given };
  const importDescription = Object.keys(given).length > 0 ? `as asked: ${JSON.stringify(given)}` : recorded.description;
  const sources = await readSourcesOf(positionals, 'score');
  const { melodies, report } = buildCorpus(sources, options);
  process.stderr.write(`scored: ${formatCorpusSummary(report)}\n`);

  let baselineTrain: Uint8Array[] | undefined;
  let baselineValid: Uint8Array[] | undefined;
  let baselineDescription = 'none (--no-baselines)';
  if (!v['no-baselines']) {
    const paths = v['baseline-data'];
    if (paths !== undefined) {
      const all = buildCorpus(await readSourcesOf(paths, 'score'), options).melodies;
      if (all.length < 2) throw new UsageError(`--baseline-data gives ${all.length} melody; need at least 2 (one tenth chooses the discount)`, 'score');
      const split = splitByNameHash(all, HELD_OUT_SHARE);
      baselineTrain = split.kept.map((m) => m.tokens);
      baselineValid = split.heldOut.map((m) => m.tokens);
      baselineDescription = `${paths.join(', ')} (discount chosen on the tenth held out by file-name hash)`;
    } else {
      const found = await recordedBaselineData(decoded, options);
      if (typeof found === 'string') {
        baselineDescription = `none: ${found}; pass --baseline-data <path>`;
      } else {
        baselineTrain = found.train.map((m) => m.tokens);
        baselineValid = found.valid.map((m) => m.tokens);
        baselineDescription = found.description;
      }
    }
  }
  const progress = new Progress(Boolean(v.quiet));
  const score = scoreNoteRnn(loadKernelsFromDist(), decoded, melodies.map((m) => m.tokens), {
    baselineTrain, baselineValid, grids: melodies.map((m) => melodyGrid(m.info)),
    onProgress: (done, total) => progress.bar(done, total, `the model: ${done}/${total} steps${baselineTrain ? ', then the n-gram baselines' : ''}`),
  });
  progress.done();
  if (v.json) {
    process.stdout.write(`${JSON.stringify({ modelFile: model.path, import: importDescription, baselinesFittedOn: baselineDescription, ...score }, null, 2)}\n`);
    return;
  }
  const hidden = decoded.config.hiddenSizes.join(',');
  process.stdout.write([
    `Model: ${model.path}`,
    `Melodies: ${score.melodies} (${score.model.steps} predicted steps), imported ${importDescription}`,
    `Baselines fitted on: ${baselineDescription}`,
    `Evaluated in ${score.batch} lanes of ${score.windowSteps}-step windows, state carried through each melody`,
    '',
    formatScoreTable(score, `LSTM [${hidden}]${encodingOf(decoded.config).name === 'basic' ? '' : ` ${encodingOf(decoded.config).name}`}`),
    '',
    ...(score.model.labelNats === undefined ? [] : [
      `The ${encodingOf(decoded.config).name} encoding's figures are per event (each event's probability sums the classes that play it); its label loss (what training minimises) is ${score.model.labelNats.toFixed(4)} nats/step.`, '']),
  ].join('\n'));
}
