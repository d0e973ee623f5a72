/**
 * The commands of `rltuner`: name, one line on what it does, and how to load it (each lives in
 * src/cli/<name>.ts with its settings table; loaded on use, so `rltuner --help` loads none).
 */
import type { Command } from './common.js';
import { flagsMarkdown, type CommandSpec } from './flags.js';

export interface CommandEntry {
  name: string;
  /** One line, for `rltuner --help`. */
  summary: string;
  /** The command and its settings table. */
  load: () => Promise<{ run: Command; spec: CommandSpec }>;
}

/** In the order `rltuner --help` lists them: the way in first. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'tune',
    summary: 'refine the Note RNN under music-theory rewards (policy gradient pg by default; Q, Psi or G learning)',
    load: async () => { const m = await import('./tune.js'); return { run: m.tuneCommand, spec: m.TUNE }; },
  },
  {
    name: 'evaluate',
    summary: "the paper's statistics and listener metrics for the Note RNN and tuned models, side by side",
    load: async () => { const m = await import('./evaluate.js'); return { run: m.evaluateCommand, spec: m.EVALUATE }; },
  },
  {
    name: 'sweep',
    summary: 'run configs × seeds of tune in parallel (or across machines) and collect the results',
    load: async () => { const m = await import('./sweep.js'); return { run: m.sweepCommand, spec: m.SWEEP }; },
  },
  {
    name: 'generate',
    summary: 'sample melodies from a model to MIDI files',
    load: async () => { const m = await import('./generate.js'); return { run: m.generateCommand, spec: m.GENERATE }; },
  },
  {
    name: 'train',
    summary: 'train a Note RNN on MIDI melodies',
    load: async () => { const m = await import('./train.js'); return { run: m.trainCommand, spec: m.TRAIN }; },
  },
  {
    name: 'distill',
    summary: "train a basic Note RNN on a tuned model's compositions, for Magenta.js (convert exports it)",
    load: async () => { const m = await import('./distill.js'); return { run: m.distillCommand, spec: m.DISTILL }; },
  },
  {
    name: 'corpus',
    summary: 'report what importing MIDI files gives: part chosen, key, meter, notes changed, skipped files',
    load: async () => { const m = await import('./corpus.js'); return { run: m.corpusCommand, spec: m.CORPUS }; },
  },
  {
    name: 'score',
    summary: 'how well a Note RNN predicts melodies it has not seen, beside n-gram baselines',
    load: async () => { const m = await import('./score.js'); return { run: m.scoreCommand, spec: m.SCORE }; },
  },
  {
    name: 'convert',
    summary: 'between rltuner models and Magenta.js MusicRNN checkpoints (both directions)',
    load: async () => { const m = await import('./convert.js'); return { run: m.convertCommand, spec: m.CONVERT }; },
  },
  {
    name: 'prefs',
    summary: 'learn a reward from A/B answers: listening sessions (prefs pairs) and a reward model (prefs train)',
    load: async () => { const m = await import('./prefs.js'); return { run: m.prefsCommand, spec: m.PREFS }; },
  },
];

/** `rltuner --help`. */
export function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 3;
  return `rltuner: tune a Note RNN melody model with reinforcement learning (RL Tuner, Jaques et al. 2016)

Usage: rltuner <command> [options]     (rltuner <command> --help for its options)

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n')}

Without --model, tune, evaluate and generate use the shipped default Note RNN (trained on the
Nottingham folk tunes; see models/README.md). Every command's flags on one page: docs/flags.md in the
source repository.
`;
}

/** docs/flags.md: every command's flags from its settings table (`npm run docs:flags` writes it). */
export async function flagsDocument(): Promise<string> {
  const specs = await Promise.all(COMMANDS.map(async (c) => (await c.load()).spec));
  return flagsMarkdown(specs);
}
