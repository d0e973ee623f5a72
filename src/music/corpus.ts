/**
 * A training corpus from many MIDI files (SPEC §2.5): every file is imported with importMidi; a file that
 * yields no melody (or could not be read from disk) is skipped and reported with its reason, never
 * stopping the whole import. Pure: takes bytes already read (see src/node/corpus_files.ts for reading
 * them from disk). Names and reasons in the report and in errors are printed with control characters
 * escaped (a file name is text from the outside world).
 */

import { printableText } from './midi_file.js';
import { MidiImportError, importMidi, type ImportOptions, type MidiImportFailure } from './midi_import.js';

/** No file of a corpus gave a usable melody; the message says how many were tried and why the first failed. */
export class CorpusError extends Error {
  override readonly name = 'CorpusError';
}

export interface MidiSource {
  /** Name used in reports (a file name or a path relative to the corpus folder). */
  name: string;
  bytes: Uint8Array;
  /** Set when the file could not be read (then `bytes` is empty): why, e.g. "cannot be read: permission denied". */
  unreadable?: string;
}

export interface Melody {
  name: string;
  tokens: Uint8Array;
}

export interface CorpusReport {
  filesRead: number;
  melodiesKept: number;
  /** Steps over all kept melodies. */
  totalSteps: number;
  /** Notes read from the chosen parts of kept melodies (before chords were reduced). */
  totalNotes: number;
  chordNotesDropped: number;
  notesFolded: number;
  /** Files that gave no melody; `failure` is absent for an unexpected error (a bug worth reporting). */
  skippedFiles: { name: string; failure?: MidiImportFailure; reason: string }[];
  /** Tracks/channels of kept files that were not used as the melody. */
  skippedParts: { name: string; track: number; channel: number; noteCount: number; reason: string }[];
  /** Import warnings of kept files (chords reduced, notes folded, odd chunks). */
  warnings: { name: string; message: string }[];
}

/** Options passed to importMidi for every file (`name` is taken from each source). */
export type CorpusOptions = Omit<ImportOptions, 'name'>;

/** Imports every source; throws only when none gives a melody. */
export function buildCorpus(files: readonly MidiSource[], options: CorpusOptions = {}): { melodies: Melody[]; report: CorpusReport } {
  const melodies: Melody[] = [];
  const report: CorpusReport = {
    filesRead: files.length,
    melodiesKept: 0,
    totalSteps: 0,
    totalNotes: 0,
    chordNotesDropped: 0,
    notesFolded: 0,
    skippedFiles: [],
    skippedParts: [],
    warnings: [],
  };
  for (const file of files) {
    if (file.unreadable !== undefined) {
      report.skippedFiles.push({ name: file.name, failure: 'unreadable', reason: file.unreadable });
      continue;
    }
    try {
      const result = importMidi(file.bytes, { ...options, name: file.name });
      melodies.push({ name: file.name, tokens: result.tokens });
      report.melodiesKept += 1;
      report.totalSteps += result.tokens.length;
      report.totalNotes += result.noteCount;
      report.chordNotesDropped += result.chordNotesDropped;
      report.notesFolded += result.notesFolded;
      report.skippedParts.push(...result.skippedParts.map((part) => ({ name: file.name, ...part })));
      report.warnings.push(...result.warnings.map((message) => ({ name: file.name, message })));
    } catch (error) {
      report.skippedFiles.push(
        error instanceof MidiImportError
          ? { name: file.name, failure: error.reason, reason: error.detail }
          : { name: file.name, reason: `unexpected error (please report it): ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}` },
      );
    }
  }
  if (melodies.length === 0) {
    const firstReasons = report.skippedFiles.slice(0, 3).map(formatSkippedFile).join('; ');
    throw new CorpusError(
      `no usable melody in ${files.length} MIDI files` + (files.length > 0 ? ` (first reasons: ${firstReasons})` : ' (the file list is empty; check the path)'),
    );
  }
  return { melodies, report };
}

/** A human-readable summary: counts first, then every skipped file and part, then warnings. */
export function formatCorpusReport(report: CorpusReport): string {
  const lines = [
    `files read: ${report.filesRead}`,
    `melodies kept: ${report.melodiesKept}`,
    `files skipped: ${report.skippedFiles.length}${formatSkipCounts(report)}`,
    `total steps: ${report.totalSteps} (${(report.totalSteps / 16).toFixed(0)} bars of 4/4)`,
    `notes: ${report.totalNotes} (chord notes dropped: ${report.chordNotesDropped}, folded by octaves: ${report.notesFolded})`,
  ];
  if (report.skippedFiles.length > 0) {
    lines.push('skipped files:', ...report.skippedFiles.map((skip) => `  ${formatSkippedFile(skip)}`));
  }
  if (report.skippedParts.length > 0) {
    lines.push(
      'unused parts:',
      ...report.skippedParts.map((part) => `  ${printableText(part.name)}: track ${part.track} channel ${part.channel} (${part.noteCount} notes): ${printableText(part.reason)}`),
    );
  }
  if (report.warnings.length > 0) {
    lines.push('warnings:', ...report.warnings.map((warning) => `  ${printableText(warning.name)}: ${printableText(warning.message)}`));
  }
  return lines.join('\n');
}

/**
 * The short form for logs: one line of counts, then every skipped file with its reason (no parts or
 * warnings), e.g. "1034 files read, 1032 melodies kept, 2 files skipped (unreadable 1, too-short 1):".
 */
export function formatCorpusSummary(report: CorpusReport): string {
  const head = `${report.filesRead} files read, ${report.melodiesKept} melodies kept, ${report.skippedFiles.length} files skipped${formatSkipCounts(report)}`;
  if (report.skippedFiles.length === 0) return head;
  return [`${head}:`, ...report.skippedFiles.map((skip) => `  ${formatSkippedFile(skip)}`)].join('\n');
}

/** " (unreadable 2, too-short 1)": skipped files counted by failure, in order of first appearance. */
function formatSkipCounts(report: CorpusReport): string {
  if (report.skippedFiles.length === 0) return '';
  const counts = new Map<string, number>();
  for (const skip of report.skippedFiles) counts.set(skip.failure ?? 'unexpected error', (counts.get(skip.failure ?? 'unexpected error') ?? 0) + 1);
  return ` (${[...counts].map(([failure, count]) => `${failure} ${count}`).join(', ')})`;
}

function formatSkippedFile(skip: CorpusReport['skippedFiles'][number]): string {
  return `${printableText(skip.name)}: ${printableText(skip.reason)} [${skip.failure ?? 'unexpected error'}]`;
}

/** File names from a split list: one per line; blank lines and lines starting with '#' are ignored. */
export function loadSplitList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'));
}
