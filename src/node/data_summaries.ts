/**
 * The data summaries made from MIDI files on disk (Node only): a data reference from any corpus (a MIDI
 * folder, a file or a split list) for `rltuner evaluate --reference`, and the two summaries the library
 * ships — the Nottingham test split's reference at 32, 64 and 128 steps, and the composition terms' model
 * fitted on the train split — which scripts/data_summaries.mjs writes as JSON and a test recomputes.
 * Every corpus is imported as `rltuner train` imports it by default (each tune's tonic moved to C or A).
 */
import { join } from 'node:path';
import { buildCorpus, type CorpusOptions, type CorpusReport } from '../music/corpus.js';
import { cutPieces, dataReference, referenceTunesOf, type DataReference, type ReferenceTune } from '../eval/data_reference.js';
import { fitCompositionModel, type CompositionModel } from '../rules/composition.js';
import { readMidiSources, readNottinghamSplit } from './corpus_files.js';

/** The lengths the shipped summaries cover: the paper's 32 steps, and four and eight bars. */
export const SUMMARY_LENGTHS: readonly number[] = [32, 64, 128];
/** How the corpora are imported: as `rltuner train` does by default. */
export const SUMMARY_IMPORT: CorpusOptions = Object.freeze({ transposeBy: 'key' });

/** The tunes of a MIDI folder, file or split list, imported as `rltuner train` imports them. */
export async function readReferenceTunes(pathOrList: string, options: CorpusOptions = SUMMARY_IMPORT): Promise<{ tunes: ReferenceTune[]; report: CorpusReport }> {
  const { melodies, report } = buildCorpus(await readMidiSources(pathOrList), options);
  return { tunes: referenceTunesOf(melodies), report };
}

/** A data reference of `numNotes` steps from a MIDI folder, file or split list. */
export async function loadDataReference(pathOrList: string, numNotes: number, name = pathOrList): Promise<DataReference> {
  const { tunes } = await readReferenceTunes(pathOrList);
  return dataReference(name, tunes, numNotes);
}

export interface DataSummaries {
  reference: { source: Record<string, unknown>; references: DataReference[] };
  compositionModel: CompositionModel;
}

/** The shipped summaries, computed from `dataDir` (data/nottingham: melody/ and splits/). */
export async function computeDataSummaries(dataDir: string): Promise<DataSummaries> {
  const [testSources, trainSources] = await Promise.all([readNottinghamSplit(dataDir, 'test'), readNottinghamSplit(dataDir, 'train')]);
  const test = buildCorpus(testSources, SUMMARY_IMPORT);
  const train = buildCorpus(trainSources, SUMMARY_IMPORT);
  const importSettings = { transposeBy: SUMMARY_IMPORT.transposeBy };
  const name = 'Nottingham test split';
  return {
    reference: {
      source: {
        corpus: 'Nottingham Music Database (GPLv3), data/nottingham', files: 'splits/test.txt', filesRead: test.report.filesRead,
        melodies: test.melodies.length, import: importSettings, cut: 'non-overlapping pieces aligned to each tune\'s end', script: 'scripts/data_summaries.mjs',
      },
      references: SUMMARY_LENGTHS.map((numNotes) => dataReference(name, referenceTunesOf(test.melodies), numNotes)),
    },
    compositionModel: fitCompositionModel(
      {
        corpus: 'Nottingham Music Database (GPLv3), data/nottingham', files: 'splits/train.txt', filesRead: train.report.filesRead,
        melodies: train.melodies.length, import: importSettings, script: 'scripts/data_summaries.mjs',
      },
      train.melodies.map((m) => m.tokens),
      SUMMARY_LENGTHS,
      cutPieces,
    ),
  };
}

/** The JSON text of a summary as the script writes it: two-space indent, arrays of numbers on one line. */
export function summaryJson(value: unknown): string {
  const text = JSON.stringify(value, null, 2).replace(/\[\s*(-?[\d.eE+-]+(?:,\s*-?[\d.eE+-]+)*)\s*\]/g, (_, items: string) => `[${items.split(/,\s*/).join(', ')}]`);
  return `${text}\n`;
}

/** Where the shipped summaries live, relative to the package root. */
export const SUMMARY_FILES = {
  reference: join('src', 'eval', 'nottingham_reference.json'),
  compositionModel: join('src', 'rules', 'nottingham_composition_model.json'),
} as const;
