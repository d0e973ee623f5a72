/**
 * `rltuner evaluate`: the paper's statistics (SPEC §6) for the Note RNN and any tuned models side by side,
 * over N compositions each, with the mean log p under the Note RNN, a KL estimate from the prior and the
 * number of distinct compositions; as a Markdown table and JSON.
 */
import { resolve } from 'node:path';
import { createArena } from '../engine/arena.js';
import type { LstmModel } from '../engine/lstm_model.js';
import { decodeModel, loadModelInto } from '../io/model_file.js';
import { Random } from '../random.js';
import { evaluatePolicy, type PolicyEvaluation } from '../eval/evaluation.js';
import { evaluationTable, summarizeEvaluations } from '../eval/report.js';
import { DEFAULT_CONFIG } from '../rl/config.js';
import { loadKernelsOnThreads, numberFlag, parseFlags, Progress, readModelBytes, threadsFlag, threadsHelp, writeFileAtomic } from './common.js';
import { keyRulesFlag } from './key_flags.js';
import { checkPriorFingerprint, policyKind } from './policy.js';

export const EVALUATE_HELP = `rltuner evaluate: the RL Tuner paper's statistics, Note RNN beside tuned models

Usage: rltuner evaluate [--model <note_rnn>] [--tuned <file> ...] [options]

  --model <file>        the Note RNN (baseline column, log p and KL reference) [the shipped default]
  --tuned <file>        a tuned model from \`rltuner tune\` (repeat for several); a G model acts with --model
  --count <n>           compositions per model [10000]
  --length <steps>      steps per composition [32]
  --temperature <x>     sampling temperature of the acting softmax; 0 takes the argmax [1]
  --seed <n>            random seed (each model gets the same priming notes) [1]
  --key <tonic>         key the rules score in: C, C#, Db, D, ... B [C]
  --mode <name>         its mode: major, minor, dorian, phrygian, lydian, mixolydian, locrian [major]
  --json <file>         also write the full results as JSON
  --markdown <file>     also write the table as Markdown
  --quiet               no progress output
${threadsHelp(2, 24, false)}
  -h, --help            this text`;

export async function evaluateCommand(args: string[]): Promise<void> {
  const v = parseFlags('evaluate', args, {
    model: { type: 'string' }, tuned: { type: 'string', multiple: true }, count: { type: 'string' }, length: { type: 'string' },
    temperature: { type: 'string' }, seed: { type: 'string' }, json: { type: 'string' }, markdown: { type: 'string' },
    key: { type: 'string' }, mode: { type: 'string' }, quiet: { type: 'boolean' }, threads: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (v.help) {
    process.stdout.write(`${EVALUATE_HELP}\n`);
    return;
  }
  const s = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const count = numberFlag('evaluate', 'count', s('count'), 10000, 1, 10_000_000, true);
  const numNotes = numberFlag('evaluate', 'length', s('length'), 32, 8, 1024, true);
  const temperature = numberFlag('evaluate', 'temperature', s('temperature'), 1, 0, 100);
  const seed = numberFlag('evaluate', 'seed', s('seed'), 1, 0, 2 ** 32 - 1, true);
  const rules = keyRulesFlag('evaluate', v, numNotes);
  const progress = new Progress(Boolean(v.quiet));
  const { kernels, close } = await loadKernelsOnThreads(threadsFlag(s('threads'), 'evaluate', false, 2));
  try {
    const batch = Math.min(count, 256);

    const base = readModelBytes(s('model'));
    const baseDecoded = decodeModel(base.bytes, base.path);
    const tunedFiles = (v.tuned as string[] | undefined) ?? [];
    const tuned = tunedFiles.map((f) => {
      const r = readModelBytes(f);
      return { ...r, decoded: decodeModel(r.bytes, r.path) };
    });
    const requests: Record<string, { config: typeof baseDecoded.config; maxBatch: number }> = { noteRnn: { config: baseDecoded.config, maxBatch: batch } };
    tuned.forEach((t, i) => (requests[`tuned${i}`] = { config: t.decoded.config, maxBatch: batch }));
    const arena = createArena(kernels, requests);
    const noteRnn = arena.models.noteRnn;
    loadModelInto(noteRnn, baseDecoded, base.path);

    const runs: { name: string; group: string; evaluation: PolicyEvaluation; file: string }[] = [];
    const run = (name: string, group: string, file: string, policy: LstmModel[]) => {
      const started = performance.now();
      const evaluation = evaluatePolicy(policy, noteRnn, new Random(seed), {
        count, numNotes, temperature, priming: { kind: 'random_note' }, rules,
        onProgress: (done, total) => progress.update(`${name}: ${done}/${total} compositions`),
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
      const label = kind === 'q' ? 'Q' : kind === 'psi' ? 'Ψ' : kind === 'g' ? 'G' : kind;
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
    const keyShown = `${s('key') ?? 'C'} ${s('mode') ?? 'major'}`;
    process.stdout.write(`${count} compositions of ${numNotes} steps per model, temperature ${temperature}, seed ${seed}, rules in ${keyShown}\n\n${table}\n`);
    const jsonPath = s('json');
    if (jsonPath) {
      writeFileAtomic(resolve(jsonPath), `${JSON.stringify({
        count, numNotes, temperature, seed, key: s('key') ?? 'C', mode: s('mode') ?? 'major',
        columns: columns.map((c) => ({ name: c.name, files: c.files, summary: summarizeEvaluations(c.evaluations) })),
        models: runs.map((r) => ({ name: r.name, file: r.file, ...r.evaluation, compositions: undefined, primers: undefined })),
      }, null, 2)}\n`);
    }
    const mdPath = s('markdown');
    if (mdPath) writeFileAtomic(resolve(mdPath), `${table}\n`);
  } finally {
    close();
  }
}

/** Runs of one algorithm whose recorded settings differ only in the seed share a group. */
function groupName(label: string, notes: unknown, file: string): string {
  const config = (notes as { config?: Record<string, unknown> } | undefined)?.config;
  if (!config) return `${label} ${file}`; // unknown settings: a column of its own
  const { seed: _seed, ...rest } = config;
  const differsFromDefault = Object.entries(rest).filter(([k, v]) => (DEFAULT_CONFIG as unknown as Record<string, unknown>)[k] !== v).map(([k, v]) => `${k} ${v}`);
  return `${label}${differsFromDefault.length ? ` (${differsFromDefault.join(', ')})` : ''}`;
}
