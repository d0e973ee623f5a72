/**
 * Every input family the fuzzer knows, in the order `npm run fuzz` runs them. A new kind of input is one
 * more entry here: a FuzzFamily (test/fuzz/runner.ts) saying how to make inputs and how to check one.
 */
import type { FuzzFamily } from '../runner.js';
import { answersFamily } from './answers.js';
import { configFamily } from './config.js';
import { magentaFamily } from './magenta.js';
import { midiFamily } from './midi.js';
import { modelFileFamily } from './model_file.js';
import { noteSequenceFamily } from './note_sequence.js';
import { sweepPlanFuzzFamily } from './sweep_plan.js';

/** A family of any input type (each family's own type stays inside it: the runner only passes its inputs back to it). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFuzzFamily = FuzzFamily<any>;

export const FUZZ_FAMILIES: readonly AnyFuzzFamily[] = [
  midiFamily,
  modelFileFamily,
  magentaFamily,
  noteSequenceFamily,
  configFamily,
  sweepPlanFuzzFamily,
  answersFamily,
];
