/**
 * Reading a Note RNN run's data from disk (Node only): the Nottingham splits, or --data with --valid and
 * --test (or a held-out tenth by name hash), imported with the run's part and import settings.
 */
import { fileListFingerprint } from '../io/fingerprint.js';
import { buildCorpus, splitByNameHash, type CorpusReport, type Melody, type MelodyInfo, type MidiSource } from '../music/corpus.js';
import { HELD_OUT_DESCRIPTION, HELD_OUT_SHARE, melodyGrid, TIMING_BEFORE_ALIGNED, TrainingDataError, type DataChoice, type Splits } from '../train/training_data.js';
import { readMidiSources, readNottinghamSplit } from './corpus_files.js';

/**
 * A model's compact record of one melody: [name, key in the file, 's'ignature, 't'ext event or 'e'stimated,
 * transposition, meter, steps per bar, qpm, bar position of the first note (null: bars are not whole steps)].
 */
function melodyRecord(info: MelodyInfo): [string, string, string, number, string, number, number, number | null] {
  return [info.name, info.key, info.keySource === 'signature' ? 's' : info.keySource === 'text' ? 't' : 'e', info.transposition, info.meter, info.stepsPerBar, info.qpm, info.barPosition];
}

/** The corpora of a run (train, valid, test), imported with the run's part and import settings. */
export async function loadSplits(choice: DataChoice): Promise<Splits> {
  const record = choice.import ?? { transposeBy: 'key', keepKey: false };
  const options = { ...choice.part, transposeBy: record.transposeBy, timing: record.timing ?? TIMING_BEFORE_ALIGNED, ...(record.keepKey ? { transpose: false } : {}) };
  const build = (name: string, sources: MidiSource[]) => {
    const { melodies, report } = buildCorpus(sources, options);
    return { melodies: melodies.map((m) => m.tokens), names: melodies.map((m) => m.name), grids: melodies.map((m) => melodyGrid(m.info)), report, name };
  };
  const importDescription = { import: { ...record, ...choice.part } };
  const { nottingham, data, valid, test } = choice.paths;
  if (nottingham) {
    const dir = nottingham.path;
    const [tr, va, te] = await Promise.all((['train', 'valid', 'test'] as const).map((s) => readNottinghamSplit(dir, s)));
    const train = build('train', tr), validSplit = build('valid', va), testSplit = build('test', te);
    return {
      train: train.melodies, valid: validSplit.melodies, test: testSplit.melodies,
      description: {
        corpus: 'Nottingham Music Database (GPLv3)', splits: 'standard train/valid/test', trainFiles: tr.length, validFiles: va.length, testFiles: te.length,
        nottingham: nottingham.given, ...importDescription,
        melodies: { train: train.report.files.map(melodyRecord), valid: validSplit.report.files.map(melodyRecord), test: testSplit.report.files.map(melodyRecord) },
      },
      reports: { train: train.report, valid: validSplit.report, test: testSplit.report },
      fingerprints: { trainingData: fileListFingerprint(tr), validationData: fileListFingerprint(va), testData: fileListFingerprint(te) },
      names: { train: train.names, valid: validSplit.names, test: testSplit.names },
      grids: { train: train.grids, valid: validSplit.grids, test: testSplit.grids },
    };
  }
  if (!data) throw new TrainingDataError('no training data: pass --nottingham <dir> or --data <folder|file|list>');
  const dataSources = await readMidiSources(data.path);
  const fingerprints: Splits['fingerprints'] = { trainingData: fileListFingerprint(dataSources) };
  const { melodies: dataMelodies, report: dataReport } = buildCorpus(dataSources, options);
  const reports: Record<string, CorpusReport> = { data: dataReport };
  let trainMelodies = dataMelodies;
  let validMelodies: Melody[];
  let heldOut: string[] | null = null;
  if (valid) {
    const sources = await readMidiSources(valid.path);
    const v = buildCorpus(sources, options);
    validMelodies = v.melodies;
    reports.valid = v.report;
    fingerprints.validationData = fileListFingerprint(sources);
  } else {
    if (dataMelodies.length < 2) throw new TrainingDataError(`${data.given} gives ${dataMelodies.length} melody; need at least 2 to hold one out for validation (or pass --valid)`);
    const split = splitByNameHash(dataMelodies, HELD_OUT_SHARE);
    trainMelodies = split.kept;
    validMelodies = split.heldOut;
    heldOut = validMelodies.map((melody) => melody.name);
  }
  let testMelodies: Melody[] = [];
  if (test) {
    const sources = await readMidiSources(test.path);
    const t = buildCorpus(sources, options);
    testMelodies = t.melodies;
    reports.test = t.report;
    fingerprints.testData = fileListFingerprint(sources);
  }
  const records = (melodies: Melody[]) => melodies.map((m) => melodyRecord(m.info!));
  return {
    train: trainMelodies.map((m) => m.tokens), valid: validMelodies.map((m) => m.tokens), test: testMelodies.map((m) => m.tokens),
    description: {
      data: data.given, valid: valid?.given ?? HELD_OUT_DESCRIPTION, test: test?.given ?? null,
      ...(heldOut ? { heldOut } : {}), ...importDescription,
      melodies: { train: records(trainMelodies), valid: records(validMelodies), test: records(testMelodies) },
    },
    reports,
    fingerprints,
    names: { train: trainMelodies.map((m) => m.name), valid: validMelodies.map((m) => m.name), test: testMelodies.map((m) => m.name) },
    grids: { train: trainMelodies.map((m) => melodyGrid(m.info)), valid: validMelodies.map((m) => melodyGrid(m.info)), test: testMelodies.map((m) => melodyGrid(m.info)) },
  };
}

