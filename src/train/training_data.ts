/**
 * What a Note RNN trains on: the data a run names (paths and the part and import settings), the melodies of
 * its splits once read, and how the shipped model's data was imported. Pure: reading the files is
 * src/node/training_data.ts's.
 */
import type { Fingerprints } from '../io/fingerprint.js';
import { barGrid, type BarGrid } from '../music/encodings.js';
import type { CorpusReport, MelodyInfo } from '../music/corpus.js';
import type { TimingRule, TransposeRule } from '../music/midi_import.js';

/** The data flags of a run; paths are recorded as given (for reports) and resolved (to compare and load). */
export const DATA_FLAGS = ['nottingham', 'data', 'valid', 'test'] as const;
export type DataFlag = (typeof DATA_FLAGS)[number];

export interface DataChoice {
  paths: Partial<Record<DataFlag, { given: string; path: string }>>;
  part: { track?: number; channel?: number };
  /**
   * How melodies are transposed: by key (default), by note count (the first importer, which the shipped
   * model was trained with), or kept in their keys. Absent in checkpoints older than this field: those
   * runs imported by note count.
   */
  import?: ImportRecord;
}

/** The import settings a model records (metadata data.import), so `rltuner score` reads new data the same way. */
export interface ImportRecord {
  transposeBy: TransposeRule;
  keepKey: boolean;
  /** How notes were put on the grid; absent in runs from before 'aligned' timing: those used 'nearest'. */
  timing?: TimingRule;
}

/** What a run trained on when its records say nothing of the import: the note-count rule of the first importer. */
export const IMPORT_BEFORE_KEYS: ImportRecord = Object.freeze({ transposeBy: 'note-count', keepKey: false, timing: 'nearest' });
/** The timing of a run whose record names none: the first importer's ('nearest'), which it was trained with. */
export const TIMING_BEFORE_ALIGNED: TimingRule = 'nearest';

export interface Splits {
  train: Uint8Array[];
  valid: Uint8Array[];
  test: Uint8Array[];
  description: Record<string, unknown>;
  reports: Record<string, CorpusReport>;
  /** Fingerprints of the files each split was read from. */
  fingerprints: Pick<Fingerprints, 'trainingData' | 'validationData' | 'testData'>;
  /** The file of each melody of each split, in order. */
  names: { train: string[]; valid: string[]; test: string[] };
  /** Where each melody's steps fall in its bars (its meter and pickup), in order: the lookback encoding reads them. */
  grids: { train: BarGrid[]; valid: BarGrid[]; test: BarGrid[] };
}

/** The bar grid of an imported melody: its meter's bar and the bar position of its first step (4/4 from a downbeat when unknown). */
export function melodyGrid(info: MelodyInfo | undefined): BarGrid {
  return info ? barGrid(info.stepsPerBar, info.barPosition) : barGrid(16, 0);
}

/** Share of --data held out for validation when no --valid is given, and how the model records it. */
export const HELD_OUT_SHARE = 0.1;
export const HELD_OUT_DESCRIPTION = 'the files of --data whose name hashes (FNV-1a) into the lowest tenth (listed in heldOut)';


/** The training data cannot be used as given (too few melodies, nothing named): a usage problem. */
export class TrainingDataError extends Error {
  override readonly name = 'TrainingDataError';
}
