/**
 * How a model file says it plays: the tuning algorithm, the steps it was tuned for, and the composition
 * length and temperature of its tuning config, from its metadata `notes` (written by `rltuner tune` and
 * the library's tune). The file is untrusted, so each number is held to the range the tuning config
 * allows for it (CONFIG_FIELDS): a file cannot ask the page or the CLI for 2e9-step compositions. A file
 * without `notes` (a Note RNN, a converted checkpoint) plays with the defaults.
 */
import { ModelFileError, type DecodedModel } from '../io/model_file.js';
import { preview } from '../io/preview.js';
import { ALGORITHMS, allowedValues, CONFIG_FIELDS, configFieldProblem, type Algorithm } from './config.js';

export interface TunedModelSettings {
  /** 'note_rnn' for a model the file does not say was tuned; else the tuning algorithm. */
  algorithm: 'note_rnn' | Algorithm;
  /** Training steps it was tuned for (0 when the file does not say). */
  steps: number;
  /** Steps (16th notes) per composition it was tuned for: CONFIG_FIELDS.numNotes's range, 32 when not recorded. */
  numNotes: number;
  /** Its sampling temperature: CONFIG_FIELDS.temperature's range, 1 when not recorded. */
  temperature: number;
}

/** What a model that records nothing plays with: 32-step compositions (the config's default) at temperature 1. */
export const UNRECORDED_SETTINGS: Readonly<TunedModelSettings> = Object.freeze({ algorithm: 'note_rnn', steps: 0, numNotes: 32, temperature: 1 });

/**
 * The settings a model file records, each checked; a recorded value of the wrong type or out of range is
 * a ModelFileError naming `source`, the field, the value and the allowed range.
 */
export function tunedModelSettings(decoded: DecodedModel, source: string): TunedModelSettings {
  const notes = decoded.info.notes;
  if (typeof notes !== 'object' || notes === null || Array.isArray(notes)) return { ...UNRECORDED_SETTINGS };
  const { algorithm, steps, config } = notes as { algorithm?: unknown; steps?: unknown; config?: unknown };
  const refuse = (field: string, value: unknown, allowed: string): never => {
    throw new ModelFileError(`${source}: its metadata records ${field} = ${typeof value === 'number' ? String(value) : preview(value)}, outside what rltuner allows (${allowed}, as for a tuning config); the file is damaged or was edited`);
  };
  const settings: TunedModelSettings = { ...UNRECORDED_SETTINGS };
  if (algorithm !== undefined) {
    if (typeof algorithm !== 'string' || !(ALGORITHMS as readonly string[]).includes(algorithm)) refuse('notes.algorithm', algorithm, ALGORITHMS.join(' | '));
    settings.algorithm = algorithm as Algorithm;
  }
  if (steps !== undefined) {
    const stepSpec = CONFIG_FIELDS.trainingSteps;
    if (!(Number.isSafeInteger(steps) && (steps as number) >= 0 && (steps as number) <= stepSpec.max)) refuse('notes.steps', steps, `integer in [0, ${stepSpec.max}]`);
    settings.steps = steps as number;
  }
  if (config !== undefined && (typeof config !== 'object' || config === null || Array.isArray(config))) refuse('notes.config', config, 'an object of tuning fields');
  const recorded = (config ?? {}) as { numNotes?: unknown; temperature?: unknown };
  for (const field of ['numNotes', 'temperature'] as const) {
    const value = recorded[field];
    if (value === undefined) continue;
    if (configFieldProblem(field, value) !== null) refuse(`notes.config.${field}`, value, allowedValues(CONFIG_FIELDS[field]));
    settings[field] = value as number;
  }
  return settings;
}
