/**
 * A training corpus from many MIDI files (SPEC §2.5): every file is imported with importMidi; a file that
 * yields no melody (or could not be read from disk) is skipped and reported with its reason, never
 * stopping the whole import. Pure: takes bytes already read (see src/node/corpus_files.ts for reading
 * them from disk). Names and reasons in the report and in errors are printed with control characters
 * escaped (a file name is text from the outside world).
 */

import { printableText } from './midi_file.js';
import { MidiImportError, importMidi, type ImportOptions, type ImportResult, type MidiImportFailure } from './midi_import.js';

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
  /** What the import found and did (absent for melodies made in code). */
  info?: MelodyInfo;
}

/** One kept file: the part taken, the key, meter and tempo found, and what the import changed. */
export interface MelodyInfo {
  name: string;
  track: number;
  channel: number;
  /** Why that part was taken as the melody. */
  partChoice: string;
  /** The key in the file, e.g. "D major", "A dorian". */
  key: string;
  keySource: 'signature' | 'text' | 'estimated';
  /** Where the mode came from: the signature (major or minor), a text event, or the notes. */
  modeFrom: 'signature' | 'text' | 'notes';
  /** Why the key was estimated (no signature, or the notes contradict it). */
  keyReason?: string;
  /** What decided the key beyond the signature (several signatures, another tonic of its scale, the mode). */
  keyNotes: string[];
  /** The file's key signature, when it has one (e.g. "G major"). */
  keySignature: string | null;
  /** The signature was a C major placeholder the notes contradict (replaced by the estimate). */
  keyPlaceholder: boolean;
  /** Semitones applied (−6..+5), and the key the tokens are in. */
  transposition: number;
  tokensKey: string;
  /** "6/8"; stepsPerBar 12. "4/4 (none in file)", "6/8 (estimated; placeholder 1/4)". */
  meter: string;
  stepsPerBar: number;
  /** Steps from the bar line to the first note (0: a downbeat; else a pickup); null when bars are not whole steps. */
  barPosition: number | null;
  /** Steps before the first downbeat (stepsPerBar − barPosition), 0 without a pickup. */
  pickupSteps: number;
  qpm: number;
  steps: number;
  notes: number;
  chordNotesDropped: number;
  notesCut: number;
  notesFolded: number;
  /** Onsets more than a quarter step off the 16th grid after the file's grid offset is removed (triplets, swing), rounded. */
  offGridNotes: number;
  /** The file's constant grid offset in ticks, removed before rounding. */
  gridOffsetTicks: number;
  tripletGroups: number;
  graceNotesDropped: number;
  /** Notes dropped because a note nearer the step rounds onto the same 16th. */
  notesMergedOnStep: number;
}

/** The per-file record of an import. */
export function melodyInfo(result: ImportResult): MelodyInfo {
  return {
    name: result.name,
    track: result.track,
    channel: result.channel,
    partChoice: result.partChoice,
    key: result.key.name,
    keySource: result.key.source,
    modeFrom: result.key.modeFrom,
    ...(result.key.reason === undefined ? {} : { keyReason: result.key.reason }),
    keyNotes: result.key.notes,
    keySignature: result.key.signature?.name ?? null,
    keyPlaceholder: result.key.placeholder,
    transposition: result.transposition,
    tokensKey: result.tokensKey,
    meter: `${result.meter.numerator}/${result.meter.denominator}` +
      (result.meter.source === 'default' ? ' (none in file)' : result.meter.source === 'estimated' ? ` (estimated; placeholder ${result.meter.placeholder})` : ''),
    stepsPerBar: result.meter.stepsPerBar,
    barPosition: result.barPosition,
    pickupSteps: result.barPosition === null || result.barPosition === 0 ? 0 : result.meter.stepsPerBar - result.barPosition,
    qpm: result.qpm,
    steps: result.tokens.length,
    notes: result.noteCount,
    chordNotesDropped: result.chordNotesDropped,
    notesCut: result.notesCut,
    notesFolded: result.notesFolded,
    offGridNotes: result.offGridNotes,
    gridOffsetTicks: result.gridOffsetTicks,
    tripletGroups: result.tripletGroups,
    graceNotesDropped: result.graceNotesDropped,
    notesMergedOnStep: result.notesMergedOnStep,
  };
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
  /** Notes shortened because the next onset came first. */
  notesCut: number;
  /** Onsets more than a quarter step off the 16th grid (after each file's grid offset is removed), rounded to it. */
  offGridNotes: number;
  /** Files whose notes all lay off the grid by one offset, removed before rounding. */
  filesWithGridOffset: number;
  /** Triplet groups rounded to the grid; grace notes dropped; notes dropped for a nearer one on their step. */
  tripletGroups: number;
  graceNotesDropped: number;
  notesMergedOnStep: number;
  /** Melodies starting with a pickup (their first note is not on a downbeat). */
  pickups: number;
  /** Keys taken from key signatures, named by text events, and estimated (no signature, or the notes contradicted it). */
  keysFromSignatures: number;
  keysFromText: number;
  keysEstimated: number;
  keySignaturesContradicted: number;
  /** Of the contradicted signatures, C major placeholders. */
  keyPlaceholders: number;
  /** Files with several key signatures at the tick of the one in force (the notes chose). */
  severalKeySignatures: number;
  /** Keys whose tonic is another degree of the signature's scale than its own (the melody's end and profile said so). */
  tonicsFromNotes: number;
  /** Kept melodies per mode ("dorian": 12) and how many modes came from the notes rather than the signature's major or minor. */
  modes: Record<string, number>;
  modesFromNotes: number;
  /** Time signatures that were placeholders (1/4), replaced by estimated meters. */
  meterPlaceholders: number;
  /** Kept melodies per key in the files ("D major": 12), per meter ("6/8": 30). */
  keys: Record<string, number>;
  meters: Record<string, number>;
  /** How the import was asked to work: transposition rule (or kept keys), timing rule and the part options. */
  importSettings: { transposedBy: string; timing: string; track?: number; channel?: number };
  /** Every kept file, in order. */
  files: MelodyInfo[];
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
    notesCut: 0,
    offGridNotes: 0,
    filesWithGridOffset: 0,
    tripletGroups: 0,
    graceNotesDropped: 0,
    notesMergedOnStep: 0,
    pickups: 0,
    keysFromSignatures: 0,
    keysFromText: 0,
    keysEstimated: 0,
    keySignaturesContradicted: 0,
    keyPlaceholders: 0,
    severalKeySignatures: 0,
    tonicsFromNotes: 0,
    modes: {},
    modesFromNotes: 0,
    meterPlaceholders: 0,
    keys: {},
    meters: {},
    importSettings: {
      transposedBy: options.transpose === false ? 'none (keys kept)' : (options.transposeBy ?? 'key'),
      timing: options.timing ?? 'aligned',
      ...(options.track === undefined ? {} : { track: options.track }),
      ...(options.channel === undefined ? {} : { channel: options.channel }),
    },
    files: [],
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
      const info = melodyInfo(result);
      melodies.push({ name: file.name, tokens: result.tokens, info });
      report.files.push(info);
      report.melodiesKept += 1;
      report.totalSteps += result.tokens.length;
      report.totalNotes += result.noteCount;
      report.chordNotesDropped += result.chordNotesDropped;
      report.notesFolded += result.notesFolded;
      report.notesCut += result.notesCut;
      report.offGridNotes += result.offGridNotes;
      if (result.gridOffsetTicks !== 0) report.filesWithGridOffset++;
      report.tripletGroups += result.tripletGroups;
      report.graceNotesDropped += result.graceNotesDropped;
      report.notesMergedOnStep += result.notesMergedOnStep;
      if (info.pickupSteps > 0) report.pickups++;
      if (result.key.source === 'signature') report.keysFromSignatures++;
      else if (result.key.source === 'text') report.keysFromText++;
      else report.keysEstimated++;
      if (result.key.source === 'estimated' && result.key.signature !== null) report.keySignaturesContradicted++;
      if (result.key.placeholder) report.keyPlaceholders++;
      if (result.key.signaturesAtOnce > 1) report.severalKeySignatures++;
      if (result.key.source === 'signature' && result.key.notes.some((note) => note.startsWith('tonic:'))) report.tonicsFromNotes++;
      report.modes[result.key.mode] = (report.modes[result.key.mode] ?? 0) + 1;
      if (result.key.modeFrom === 'notes' && result.key.source !== 'estimated') report.modesFromNotes++;
      if (result.meter.placeholder !== undefined) report.meterPlaceholders++;
      report.keys[info.key] = (report.keys[info.key] ?? 0) + 1;
      report.meters[info.meter] = (report.meters[info.meter] ?? 0) + 1;
      for (const part of result.skippedParts) report.skippedParts.push({ name: file.name, ...part }); // one at a time: a file may skip more parts than a call takes arguments
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
    `notes: ${report.totalNotes} (chord notes dropped: ${report.chordNotesDropped}, folded by octaves: ${report.notesFolded}, off the 16th grid rounded: ${report.offGridNotes}, ` +
      `grace notes dropped: ${report.graceNotesDropped}, dropped for a nearer note on their step: ${report.notesMergedOnStep}; triplet groups: ${report.tripletGroups}; pickups: ${report.pickups})`,
    formatKeyAndGridLine(report),
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
 * warnings), e.g. "1034 files read, 1032 melodies kept, 2 files skipped (unreadable 1, too-short 1):",
 * then what to do about files that lack a requested part, then one line on keys, grid and meters.
 */
export function formatCorpusSummary(report: CorpusReport): string {
  const head = `${report.filesRead} files read, ${report.melodiesKept} melodies kept, ${report.skippedFiles.length} files skipped${formatSkipCounts(report)}`;
  const lines = report.skippedFiles.length === 0 ? [head] : [`${head}:`, ...report.skippedFiles.map((skip) => `  ${formatSkippedFile(skip)}`)];
  const hint = partMissingHint(report);
  if (hint) lines.push(`  ${hint}`);
  if (report.melodiesKept > 0) lines.push(`  ${formatKeyAndGridLine(report)}`);
  return lines.join('\n');
}

/**
 * "keys: 1021 from signatures, 0 named by text, 13 estimated (13 signatures contradicted by the notes, 2
 * placeholders); modes: major 850, minor 120, ...; transposed by: key; timing: aligned, 37 notes off the
 * 16th grid rounded, ...; meters: ...".
 */
function formatKeyAndGridLine(report: CorpusReport): string {
  return `keys: ${report.keysFromSignatures} from signatures, ${report.keysFromText} named by text, ${report.keysEstimated} estimated ` +
    `(${report.keySignaturesContradicted} signatures contradicted by the notes, ${report.keyPlaceholders} of them placeholders); modes: ${formatCounts(report.modes, 6)}; ` +
    `transposed by: ${report.importSettings.transposedBy}; timing: ${report.importSettings.timing}, ${report.offGridNotes} notes off the 16th grid rounded, ` +
    `${report.filesWithGridOffset} files' grid offset removed, ${report.tripletGroups} triplet groups, ${report.graceNotesDropped} grace notes dropped; ` +
    `${report.pickups} pickups; meters: ${formatCounts(report.meters, 4)}`;
}

/** "4/4 533, 6/8 364, 3/4 59, 2/4 40, 12 more": the largest counts first. */
function formatCounts(counts: Record<string, number>, shown: number): string {
  const sorted = Object.entries(counts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const head = sorted.slice(0, shown).map(([name, count]) => `${name} ${count}`);
  if (sorted.length > shown) head.push(`${sorted.length - shown} more`);
  return head.join(', ');
}

/** What to do when files lack the requested track or channel. */
function partMissingHint(report: CorpusReport): string | null {
  const missing = report.skippedFiles.filter((skip) => skip.failure === 'part-missing').length;
  if (missing === 0) return null;
  const asked = [report.importSettings.track !== undefined ? `--track ${report.importSettings.track}` : '', report.importSettings.channel !== undefined ? `--channel ${report.importSettings.channel}` : '']
    .filter(Boolean).join(' ');
  return `${missing} files lack the requested part${asked ? ` (${asked})` : ''} and were skipped; leave the option out to take each file's most melodic part`;
}

/**
 * The full report as Markdown: counts, skipped files with reasons, keys (from signatures or estimated),
 * meters, notes changed, then one row per kept file (part and why, key, transposition, meter, tempo).
 */
export function formatCorpusMarkdown(report: CorpusReport): string {
  const cell = (text: string) => printableText(text).replace(/\|/g, '\\|');
  const lines = [
    '# Corpus report',
    '',
    `| files read | melodies kept | files skipped | steps | notes in chosen parts |`,
    `|---:|---:|---:|---:|---:|`,
    `| ${report.filesRead} | ${report.melodiesKept} | ${report.skippedFiles.length}${formatSkipCounts(report)} | ${report.totalSteps} | ${report.totalNotes} |`,
    '',
    `Import: transposed by ${report.importSettings.transposedBy}, timing ${report.importSettings.timing}` +
      (report.importSettings.track !== undefined ? `, track ${report.importSettings.track}` : '') +
      (report.importSettings.channel !== undefined ? `, channel ${report.importSettings.channel}` : '') + '.',
  ];
  if (report.importSettings.transposedBy === 'key') lines.push('', TRANSPOSITION_BY_KEY);
  const hint = partMissingHint(report);
  if (hint) lines.push('', `**${hint}.**`);
  lines.push('', '## Skipped files', '');
  if (report.skippedFiles.length === 0) lines.push('None.');
  else lines.push('| file | reason | kind |', '|---|---|---|', ...report.skippedFiles.map((skip) => `| ${cell(skip.name)} | ${cell(skip.reason)} | ${skip.failure ?? 'unexpected error'} |`));
  lines.push(
    '', '## Keys', '',
    `From key signatures: ${report.keysFromSignatures}; named by a text event: ${report.keysFromText}; estimated: ${report.keysEstimated} ` +
      `(no signature: ${report.keysEstimated - report.keySignaturesContradicted}, signature contradicted by the notes: ${report.keySignaturesContradicted}, ` +
      `of them C major placeholders: ${report.keyPlaceholders}). Several signatures at one tick, chosen by the notes: ${report.severalKeySignatures}. ` +
      `Tonic another degree of the signature's scale (the melody's last note and profile): ${report.tonicsFromNotes}; mode from the notes: ${report.modesFromNotes}.`,
    '', '| mode | melodies |', '|---|---:|',
    ...Object.entries(report.modes).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([mode, count]) => `| ${mode} | ${count} |`),
    '', '| key in the files | melodies |', '|---|---:|',
    ...Object.entries(report.keys).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([key, count]) => `| ${key} | ${count} |`),
    '', '## Meters', '',
    `Placeholder time signatures (one beat a bar) replaced by estimates: ${report.meterPlaceholders}. Melodies starting with a pickup: ${report.pickups}.`,
    '', '| meter | melodies |', '|---|---:|',
    ...Object.entries(report.meters).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([meter, count]) => `| ${meter} | ${count} |`),
    '', '## Notes changed', '',
    `- dropped (a higher note starts on the same step): ${report.chordNotesDropped}`,
    `- dropped (a note nearer the step rounds onto the same 16th): ${report.notesMergedOnStep}`,
    `- grace notes dropped (a 32nd or shorter, leading into the next note): ${report.graceNotesDropped}`,
    `- shortened at the next onset: ${report.notesCut}`,
    `- files whose notes all lay off the grid by one offset, removed before rounding: ${report.filesWithGridOffset}`,
    `- rounded from more than a quarter step off the 16th grid after that (triplets, swing): ${report.offGridNotes}, in ${report.tripletGroups} triplet groups and otherwise`,
    `- folded by octaves into MIDI 48..83: ${report.notesFolded}`,
    '', '## Files', '',
    '| file | part (track/channel) | why this part | key | key from | transposed | meter | steps/bar | pickup | qpm | steps | off grid | triplets | graces | dropped | folded |',
    '|---|---|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...report.files.map((f) => `| ${cell(f.name)} | ${f.track}/${f.channel} | ${cell(f.partChoice)} | ${f.key} | ${cell(keyFrom(f))} | ` +
      `${f.transposition > 0 ? '+' : ''}${f.transposition} → ${f.tokensKey} | ${f.meter} | ${f.stepsPerBar} | ${f.pickupSteps} | ${f.qpm} | ${f.steps} | ${f.offGridNotes} | ` +
      `${f.tripletGroups} | ${f.graceNotesDropped} | ${f.chordNotesDropped + f.notesMergedOnStep} | ${f.notesFolded} |`),
  );
  if (report.skippedParts.length > 0 && report.skippedParts.length <= 2000) {
    lines.push('', '## Parts not used', '', '| file | track/channel | notes | why not |', '|---|---|---:|---|',
      ...report.skippedParts.map((part) => `| ${cell(part.name)} | ${part.track}/${part.channel} | ${part.noteCount} | ${cell(part.reason)} |`));
  } else if (report.skippedParts.length > 2000) {
    lines.push('', `## Parts not used`, '', `${report.skippedParts.length} parts (listed in the JSON report).`);
  }
  return `${lines.join('\n')}\n`;
}

/** Where a file's key came from, in a few words. */
function keyFrom(f: MelodyInfo): string {
  const base = f.keySource === 'signature' ? 'signature' : f.keySource === 'text' ? 'named by a text event' : `estimated: ${f.keyReason ?? ''}`;
  return f.keyNotes.length === 0 ? base : `${base}; ${f.keyNotes.join('; ')}`;
}

/** Where transposition by key puts each mode's tonic, and why (the corpus report says it above its keys). */
export const TRANSPOSITION_BY_KEY =
  'Transposition by key moves each tune\'s tonic to C when its mode has a major third (major, mixolydian, lydian) and to A when ' +
  'it has a minor third (minor, dorian, phrygian): a D dorian tune becomes A dorian (its F# stays), a D mixolydian tune C mixolydian ' +
  '(its Bb stays). The rules of `tune --key <tonic> --mode <mode>` read every key from the same two places (C4 for major-third modes, ' +
  'A3 for minor-third ones), so a model trained on these melodies and the rules agree on where the tonic is.';

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

/** FNV-1a (32-bit) of a string's UTF-16 code units: a stable hash for splitting files by name. */
export function nameHash(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * A deterministic held-out split by file name: a file is held out when nameHash(name) % 1000 falls below
 * `share` × 1000, so a file's side never depends on which other files are present or on their order.
 * With two or more files, at least one lands on each side (the lowest hash is held out, or the highest
 * kept, when the rule would leave a side empty).
 */
export function splitByNameHash<T extends { name: string }>(items: readonly T[], share = 0.1): { kept: T[]; heldOut: T[] } {
  const isHeldOut = items.map((item) => nameHash(item.name) % 1000 < share * 1000);
  if (items.length >= 2) {
    const order = items.map((item, i) => ({ hash: nameHash(item.name), i })).sort((a, b) => a.hash - b.hash || a.i - b.i);
    if (!isHeldOut.includes(true)) isHeldOut[order[0].i] = true;
    if (!isHeldOut.includes(false)) isHeldOut[order[order.length - 1].i] = false;
  }
  return { kept: items.filter((_, i) => !isHeldOut[i]), heldOut: items.filter((_, i) => isHeldOut[i]) };
}
