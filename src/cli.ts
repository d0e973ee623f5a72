#!/usr/bin/env node
/**
 * The rltuner command line: train, generate, tune, evaluate, sweep, corpus, score, convert, prefs. Each command lives in
 * src/cli/<name>.ts.
 */
import { UsageError, type Command } from './cli/common.js';
import { RunFolderRefusal } from './node/run_folder.js';

const HELP = `rltuner: tune a Note RNN melody model with reinforcement learning (RL Tuner, Jaques et al. 2016)

Usage: rltuner <command> [options]     (rltuner <command> --help for its options)

Commands:
  tune       refine the Note RNN with Q, Psi or G learning under music-theory rewards
  evaluate   the paper's statistics and listener metrics for the Note RNN and tuned models, side by side
  sweep      run configs × seeds of tune in parallel (or across machines) and collect the results
  generate   sample melodies from a model to MIDI files
  train      train a Note RNN on MIDI melodies
  corpus     report what importing MIDI files gives: part chosen, key, meter, notes changed, skipped files
  score      how well a Note RNN predicts melodies it has not seen, beside n-gram baselines
  convert    between rltuner models and Magenta.js MusicRNN checkpoints (both directions)
  prefs      learn a reward from A/B answers: listening sessions (prefs pairs) and a reward model
             (prefs train) that tune --reward-model tunes on

Without --model, tune, evaluate and generate use the shipped default Note RNN (trained on the
Nottingham folk tunes; see models/README.md).`;

/** Each command resolves to its exit code (nothing: 0); a stopped run returns 130 (SIGINT) or 143 (SIGTERM). */
const COMMANDS: Record<string, () => Promise<Command>> = {
  train: async () => (await import('./cli/train.js')).trainCommand,
  generate: async () => (await import('./cli/generate.js')).generateCommand,
  tune: async () => (await import('./cli/tune.js')).tuneCommand,
  evaluate: async () => (await import('./cli/evaluate.js')).evaluateCommand,
  sweep: async () => (await import('./cli/sweep.js')).sweepCommand,
  corpus: async () => (await import('./cli/corpus.js')).corpusCommand,
  score: async () => (await import('./cli/score.js')).scoreCommand,
  convert: async () => (await import('./cli/convert.js')).convertCommand,
  prefs: async () => (await import('./cli/prefs.js')).prefsCommand,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return command ? 0 : 2;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write('rltuner 0.1.0\n');
    return 0;
  }
  const load = COMMANDS[command];
  if (!load) {
    process.stderr.write(`rltuner: unknown command "${command}"; expected one of ${Object.keys(COMMANDS).join(', ')}\n`);
    return 2;
  }
  try {
    const code = await (await load())(rest);
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof RunFolderRefusal) {
      process.stderr.write(`rltuner ${command}: ${e.message}\n  (rltuner ${command} --help lists the options)\n`);
      return 2;
    }
    const err = e as Error;
    process.stderr.write(`rltuner ${command}: ${err.message}\n`);
    if (process.env.RLTUNER_DEBUG) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
