/**
 * `rltuner evaluate`: the paper's statistics (SPEC §6) for the Note RNN and any tuned models side by side,
 * over N compositions each, with the mean log p under the Note RNN, a KL estimate from the prior, the
 * number of distinct compositions, the listener metrics and the data-likeness rows beside a reference
 * corpus (the shipped Nottingham test split, or --reference); then the goals that apply at this length;
 * as a Markdown table and JSON.
 */
import { resolve } from 'node:path';
import { createArena } from '../engine/arena.js';
import type { LstmModel } from '../engine/lstm_model.js';
import { decodeModel, loadModelInto } from '../io/model_file.js';
import { Random } from '../random.js';
import { evaluatePolicy, type PolicyEvaluation } from '../eval/evaluation.js';
import { evaluationTable, summarizeEvaluations } from '../eval/report.js';
import { shippedReference, SHIPPED_REFERENCE_LENGTHS, type DataReference } from '../eval/data_reference.js';
import { goalMet, goalOutcomes, goalsForLength, goalTable, LONG_PIECE_EVALUATION } from '../eval/goals.js';
import { loadDataReference } from '../node/data_summaries.js';
import { CorpusFilesError } from '../node/corpus_files.js';
import { CorpusError } from '../music/corpus.js';
import { ALGORITHM_LABELS, PRESET_NAMES, resolveConfig } from '../rl/config.js';
import { distilledFrom } from '../train/distill.js';
import { loadKernelsOnThreads, Progress, QUIET, SEED_RANGE, readModelBytes, reportStream, threadsFlag, threadsRow, UsageError, writeOutput } from './common.js';
import { commandHelp, defineCommand, parseCommandLine } from './flags.js';
import { keyName, type Key } from '../music/keys.js';
import { keyRuleContext } from '../rules/key_context.js';
import { keyFlag, modelKeyOf, sameKey } from './key_flags.js';
import { checkPriorFingerprint, policyKind } from './policy.js';

export const EVALUATE = defineCommand({
  name: 'evaluate',
  title: "the RL Tuner paper's statistics, Note RNN beside tuned models",
  usage: ['evaluate [--model <note_rnn>] [--tuned <file> ...] [options]'],
  flags: [
    { name: 'model', kind: 'string', arg: '<file>', doc: 'the Note RNN (baseline column, log p and KL reference)', defaultText: 'the shipped default' },
    { name: 'tuned', kind: 'string', multiple: true, arg: '<file>', doc: 'a tuned model from `rltuner tune` (repeat for several); a G model acts with --model' },
    { name: 'count', kind: 'integer', min: 1, max: 10_000_000, default: 10000, doc: 'compositions per model' },
    {
      name: 'length', alias: 'num-notes', kind: 'integer', min: 8, max: 1024, default: 32, arg: '<steps>',
      doc: "steps per composition. The goals are stated for 10,000 pieces of 32 steps, and the 2-bar recurrence goal for 1,000 pieces of 128 steps (--length 128 --count 1000)",
    },
    {
      name: 'reference', kind: 'string', arg: '<path>',
      doc: 'the data the data-likeness rows compare with: a MIDI folder, a .mid file or a split list (imported as `rltuner train` imports it, cut into pieces of --length steps aligned to each tune\'s end)',
      defaultText: `the shipped Nottingham test split summary, at ${SHIPPED_REFERENCE_LENGTHS.join(', ')} steps`,
    },
    { name: 'temperature', kind: 'number', min: 0, max: 100, default: 1, doc: 'sampling temperature of the acting softmax; 0 takes the argmax' },
    { name: 'seed', kind: 'integer', ...SEED_RANGE, default: 1, doc: 'random seed (each model gets the same priming notes)' },
    {
      name: 'key', kind: 'string', arg: '<tonic>', doc: 'key the rules score in: C, C#, Db, D, ... B',
      defaultText: "the tuned models': the key they were tuned in (tune --key/--mode); C without tuned models",
    },
    { name: 'mode', kind: 'string', arg: '<name>', doc: 'its mode: major, minor, dorian, phrygian, lydian, mixolydian, locrian', defaultText: 'theirs; major' },
    { name: 'json', kind: 'output', doc: 'also write the full results as JSON (- for standard output, the table then going to standard error)' },
    { name: 'markdown', kind: 'output', doc: 'also write the table as Markdown (- for standard output, as for --json)' },
    QUIET,
    threadsRow(1, false),
  ],
});

export async function evaluateCommand(args: string[]): Promise<void> {
  const { values: v, help } = parseCommandLine(EVALUATE, args);
  if (help) {
    process.stdout.write(commandHelp(EVALUATE));
    return;
  }
  const { count, length: numNotes, temperature, seed } = v;
  const report = reportStream('evaluate', { json: v.json, markdown: v.markdown });
  const askedKey = keyFlag('evaluate', v);
  const progress = new Progress(Boolean(v.quiet));
  const reference = await referenceFlag(v.reference, numNotes);
  if (!reference) process.stderr.write(`note: no data reference at ${numNotes} steps (the shipped one covers ${SHIPPED_REFERENCE_LENGTHS.join(', ')}); pass --reference data/nottingham/splits/test.txt for the data rows' reference values\n`);
  const { kernels, close } = await loadKernelsOnThreads(threadsFlag(v.threads, 'evaluate', false, 1));
  try {
    const batch = Math.min(count, 256);

    const base = readModelBytes(v.model);
    const baseDecoded = decodeModel(base.bytes, base.path);
    const tunedFiles = v.tuned ?? [];
    const tuned = tunedFiles.map((f) => {
      const r = readModelBytes(f);
      return { ...r, decoded: decodeModel(r.bytes, r.path) };
    });
    const { key: rulesKey, from: rulesFrom } = rulesKeyOf(askedKey, tuned);
    const rules = keyRuleContext({ key: TONIC_SPELLING[rulesKey.tonic], mode: rulesKey.mode, numNotes });
    const requests: Record<string, { config: typeof baseDecoded.config; maxBatch: number }> = { noteRnn: { config: baseDecoded.config, maxBatch: batch } };
    tuned.forEach((t, i) => (requests[`tuned${i}`] = { config: t.decoded.config, maxBatch: batch }));
    const arena = createArena(kernels, requests);
    const noteRnn = arena.models.noteRnn;
    loadModelInto(noteRnn, baseDecoded, base.path);

    const runs: { name: string; group: string; evaluation: PolicyEvaluation; file: string }[] = [];
    const models = 1 + tuned.length;
    const run = (name: string, group: string, file: string, policy: LstmModel[]) => {
      const started = performance.now();
      const before = runs.length * count;
      const evaluation = evaluatePolicy(policy, noteRnn, new Random(seed), {
        count, numNotes, temperature, priming: { kind: 'random_note' }, rules, reference,
        onProgress: (done) => progress.bar(before + done, models * count, `model ${runs.length + 1}/${models}, ${name}: ${done}/${count} compositions`),
      });
      progress.log(`${name}: ${count} compositions in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      runs.push({ name, group, evaluation, file });
    };
    run('Note RNN', 'Note RNN', base.path, [noteRnn]);
    tuned.forEach((t, i) => {
      const model = arena.models[`tuned${i}`];
      loadModelInto(model, t.decoded, t.path);
      const kind = policyKind(t.decoded, t.path);
      // A G model acts with its prior: it must be the Note RNN it was tuned from (--model).
      if (kind === 'g') checkPriorFingerprint(t.decoded, t.path, base.bytes, base.path, (line) => process.stderr.write(`warning: ${line}\n`), '--model');
      // A Note RNN distilled from a tuned model (rltuner distill) is named after its teacher.
      const teacher = kind === 'note_rnn' ? distilledFrom(t.decoded.info.data) : null;
      const label = kind !== 'note_rnn' ? ALGORITHM_LABELS[kind]
        : teacher ? `Student of ${teacher.algorithm === 'note_rnn' ? 'a Note RNN' : ALGORITHM_LABELS[teacher.algorithm as keyof typeof ALGORITHM_LABELS] ?? teacher.algorithm}` : 'Note RNN';
      run(`${label} (${t.path.split(/[\\/]/).pop()})`, groupName(label, t.decoded.info.notes, t.path), t.path, kind === 'g' ? [model, noteRnn] : [model]);
    });
    progress.done();

    // Models tuned with the same settings but different seeds form one column: mean [min–max].
    const groups = new Map<string, typeof runs>();
    for (const r of runs) groups.set(r.group, [...(groups.get(r.group) ?? []), r]);
    const columns = [...groups.entries()].map(([group, members]) => ({
      name: members.length === 1 ? members[0].name : group,
      evaluations: members.map((m) => m.evaluation),
      files: members.map((m) => m.file),
    }));
    const table = evaluationTable(columns);
    const keyShown = `${keyName(rulesKey)} (${rulesFrom})`;
    const goals = goalsForLength(numNotes);
    // A run here is this evaluation, which is also the long (128-step) one at 128 steps.
    const asRun = (e: PolicyEvaluation) => {
      const pair = { tuned: e, noteRnn: columns[0].evaluations[0] };
      return numNotes === LONG_PIECE_EVALUATION.numNotes ? { ...pair, long: pair } : pair;
    };
    const tunedColumns = columns.slice(1).map((c) => ({ name: c.name, runs: c.evaluations.map(asRun) }));
    const stated = numNotes === LONG_PIECE_EVALUATION.numNotes ? LONG_PIECE_EVALUATION.count : 10000;
    const goalsText = goals.length === 0 ? '' :
      `## Goals at ${numNotes} steps (stated for ${stated.toLocaleString('en')} compositions${count === stated ? '' : `; this evaluation has ${count.toLocaleString('en')}`})\n\n` +
      `${goalTable([{ name: 'Note RNN', runs: [asRun(columns[0].evaluations[0])] }, ...tunedColumns], goals)}\n`;
    report.write(`${count} compositions of ${numNotes} steps per model, temperature ${temperature}, seed ${seed}, rules in ${keyShown}\n\n${table}\n${goalsText}`);
    if (v.json !== undefined) {
      writeOutput(v.json, `${JSON.stringify({
        count, numNotes, temperature, seed, key: TONIC_SPELLING[rulesKey.tonic], mode: rulesKey.mode, keyFrom: rulesFrom,
        reference,
        columns: columns.map((c) => ({ name: c.name, files: c.files, summary: summarizeEvaluations(c.evaluations) })),
        goals: goals.length === 0 ? null : columns.map((c) => ({
          name: c.name,
          goals: goalOutcomes(c.evaluations.map(asRun), goals)
            .map((o) => ({ row: o.goal.row, goal: o.goal.text, value: o.summary?.mean ?? null, met: goalMet(o) })),
        })),
        models: runs.map((r) => ({ name: r.name, file: r.file, ...r.evaluation, compositions: undefined, primers: undefined, dataReference: undefined })),
      }, null, 2)}\n`);
    }
    if (v.markdown !== undefined) writeOutput(v.markdown, `${table}\n${goalsText}`);
  } finally {
    close();
  }
}

/** The data reference of --reference (imported and cut at `numNotes`), else the shipped one at that length, else null. */
async function referenceFlag(path: string | undefined, numNotes: number): Promise<DataReference | null> {
  if (path === undefined) return shippedReference(numNotes);
  try {
    return await loadDataReference(resolve(path), numNotes, path);
  } catch (e) {
    if (e instanceof CorpusFilesError || e instanceof CorpusError || e instanceof RangeError) throw new UsageError(`--reference ${path}: ${e.message}`, 'evaluate');
    throw e;
  }
}

/**
 * Runs of one algorithm whose recorded settings differ only in the seed share a group, named by the preset
 * nearest their settings (fewest fields apart; the default preset first, then in PRESET_NAMES order) and the
 * fields that differ from it: "G" for a bare `rltuner tune`, "Q (classic preset)", "G (gamma 0.5)".
 */
export function groupName(label: string, notes: unknown, file: string): string {
  const config = (notes as { config?: Record<string, unknown> } | undefined)?.config;
  if (!config) return `${label} ${file}`; // unknown settings: a column of its own
  const { seed: _seed, ...rest } = config;
  const nearest = PRESET_NAMES.map((preset) => {
    const settings = resolveConfig(preset) as unknown as Record<string, unknown>;
    // The algorithm is in the label already.
    return { preset, differs: Object.entries(rest).filter(([k, v]) => k !== 'algorithm' && settings[k] !== v).map(([k, v]) => `${k} ${v}`) };
  }).reduce((best, candidate) => (candidate.differs.length < best.differs.length ? candidate : best));
  const parts = [...(nearest.preset === 'default' ? [] : [`${nearest.preset} preset`]), ...nearest.differs];
  return `${label}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/** A tonic name keyRuleContext accepts for each pitch class. */
const TONIC_SPELLING = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'];

/**
 * The key the rules score in: --key/--mode when given; else the key the tuned models were tuned in (they
 * must agree); else C major.
 */
function rulesKeyOf(asked: Key | null, tuned: { path: string; decoded: Parameters<typeof modelKeyOf>[0] }[]): { key: Key; from: string } {
  if (asked) return { key: asked, from: '--key/--mode' };
  const keys = tuned.map((t) => ({ path: t.path, key: modelKeyOf(t.decoded) })).filter((t) => t.key.kind === 'tuned') as { path: string; key: { kind: 'tuned'; key: Key } }[];
  if (keys.length === 0) return { key: { tonic: 0, mode: 'major' }, from: 'the default' };
  const first = keys[0];
  const other = keys.find((k) => !sameKey(k.key.key, first.key.key));
  if (other) {
    throw new UsageError(`the tuned models were tuned in different keys (${first.path}: ${keyName(first.key.key)}; ${other.path}: ${keyName(other.key.key)}); pass --key/--mode to score them all in one key, or evaluate them separately`, 'evaluate');
  }
  return { key: first.key.key, from: 'the key the tuned models were tuned in' };
}
