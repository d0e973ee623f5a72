/**
 * `rltuner corpus <paths…>`: what an import of MIDI files makes of them, before any training: files read,
 * used and skipped (with reasons), the part taken as the melody in each and why, keys from signatures and
 * estimated, transpositions, meters, tempi, notes dropped, rounded off the grid or folded, and steps.
 * Markdown on stdout, or JSON with --json.
 */
import { resolve } from 'node:path';
import { buildCorpus, CorpusError, formatCorpusMarkdown, type MidiSource } from '../music/corpus.js';
import { readMidiSources } from '../node/corpus_files.js';
import { PART_FLAGS, partFlags, UsageError } from './common.js';
import { defineCommand, parseCommandLine, commandHelp } from './flags.js';
import { importFlagRows, importFlags } from './key_flags.js';

export const CORPUS = defineCommand({
  name: 'corpus',
  title: 'report what importing MIDI files gives (before training on them)',
  usage: ['corpus <path> [<path> ...] [options]'],
  intro: 'A path is a folder of .mid files (read recursively), one .mid file, or a text file listing .mid paths.',
  positionals: 'the MIDI folders, files or lists to import',
  flags: [
    ...PART_FLAGS,
    ...importFlagRows(false),
    { name: 'json', kind: 'boolean', doc: 'print the report as JSON instead of Markdown' },
  ],
  notes: `Every file is accounted for: used (with the part chosen and why, its key and mode and where they came
from, the transposition, meter, pickup, tempo, the grid offset removed, grace notes dropped, triplets
and other notes rounded off the 16th grid, notes folded) or skipped with the reason.

Keys: a text event naming the key ("D dorian") wins; else the key signature (of several at one tick,
the one the notes fit), its tonic kept unless the tune ends on another degree of its scale whose
profile fits better, its mode dorian or mixolydian when the notes say so; a signature the notes
contradict is replaced by an estimate (a C major one is named a placeholder). With --transpose-by key
(the default) tonics go to C for modes with a major third and to A for modes with a minor third, where
\`tune --key/--mode\` puts its tonic: a D dorian tune becomes A dorian, a D mixolydian one C mixolydian.`,
});

/** The sources of several paths; names are prefixed with their path when more than one path is given. */
export async function readSourcesOf(paths: string[], command: string): Promise<MidiSource[]> {
  if (paths.length === 0) throw new UsageError('no MIDI files named: pass one or more folders, .mid files or lists', command);
  const all: MidiSource[] = [];
  for (const path of paths) {
    const sources = await readMidiSources(resolve(path));
    for (const source of sources) all.push(paths.length === 1 ? source : { ...source, name: `${path.replace(/\/+$/, '')}/${source.name}` });
  }
  return all;
}

export async function corpusCommand(args: string[]): Promise<number | void> {
  const { values: v, positionals, help } = parseCommandLine(CORPUS, args);
  if (help) {
    process.stdout.write(commandHelp(CORPUS));
    return;
  }
  const sources = await readSourcesOf(positionals, 'corpus');
  const options = { ...partFlags(v), ...importFlags('corpus', v) };
  let report;
  try {
    report = buildCorpus(sources, options).report;
  } catch (e) {
    if (!(e instanceof CorpusError)) throw e;
    process.stderr.write(`rltuner corpus: ${e.message}\n`);
    return 1;
  }
  process.stdout.write(v.json ? `${JSON.stringify(report, null, 1)}\n` : formatCorpusMarkdown(report));
}
