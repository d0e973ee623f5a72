/**
 * The one typed configuration of a tuning run (SPEC §4): every field with its default, a one-line doc
 * and its allowed values in one table, named presets laid over the defaults, and `resolveConfig`, which
 * applies a preset, JSON overrides and command-line flags in that order and validates every field.
 * The resolved config is a plain object, meant to be recorded with every run.
 */
/**
 * The tuning algorithms: Q-learning, Ψ-learning and G-learning (one-step TD from a replay, src/rl/tuner.ts),
 * and a KL-regularized policy gradient over whole compositions (src/rl/pg.ts).
 */
export const ALGORITHMS = ['q', 'psi', 'g', 'pg'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];
/** How tables and charts name each algorithm's tuned model. */
export const ALGORITHM_LABELS: Readonly<Record<Algorithm, string>> = { q: 'Q', psi: 'Ψ', g: 'G', pg: 'PG' };
import { parseDecimal } from '../io/decimal.js';
import { excessiveNestingAt, MAX_JSON_NESTING } from '../io/json_text.js';
import { preview, previewName } from '../io/preview.js';
import { MODE_NAMES, TONIC_NAMES } from '../music/keys.js';

export type ExplorationMode = 'egreedy' | 'boltzmann';
export type PrimingMode = 'random_note' | 'primer' | 'corpus';

export interface TunerConfig {
  algorithm: Algorithm;
  rewardScaler: number;
  gamma: number;
  numNotes: number;
  trainingSteps: number;
  explorationSteps: number;
  explorationMode: ExplorationMode;
  initialEpsilon: number;
  finalEpsilon: number;
  temperature: number;
  batchSize: number;
  replayCapacity: number;
  trainEvery: number;
  learningRate: number;
  adamBeta1: number;
  adamBeta2: number;
  adamEpsilon: number;
  clipNorm: number;
  targetUpdateRate: number;
  priming: PrimingMode;
  musicTheoryOnly: boolean;
  weightKey: number;
  weightTonic: number;
  weightRepeating: number;
  weightAutocorrelation: number;
  weightMotif: number;
  weightRepeatedMotif: number;
  weightIntervals: number;
  weightLeap: number;
  weightUniqueExtremes: number;
  tonicDominantBonus: number;
  weightTonicEnding: number;
  weightRhythm: number;
  weightPitchRange: number;
  weightPhraseRecurrence: number;
  weightPreference: number;
  key: string;
  mode: string;
  klTarget: number;
  klHorizon: number;
  klEvery: number;
  pgGroups: number;
  pgGroupSize: number;
  pgAdvantage: 'rloo' | 'grpo';
  pgReturn: 'composition' | 'to-go';
  pgKl: 'loss' | 'reward';
  klCoefficient: number;
  rewardStatePrecision: 'f32' | 'f16';
  seed: number;
  evalEvery: number;
  evalCompositions: number;
  evalNumNotes: number;
  checkpointEvery: number;
  logEvery: number;
  sampleCount: number;
}

/** A numeric field: range [min, max], either end optionally open; `integer` for counts. */
interface NumberField {
  kind: 'number';
  min: number;
  max: number;
  minOpen?: boolean;
  maxOpen?: boolean;
  integer?: boolean;
}
interface ChoiceField {
  kind: 'choice';
  values: readonly string[];
}
interface BooleanField {
  kind: 'boolean';
}
type FieldSpec = (NumberField | ChoiceField | BooleanField) & { default: number | string | boolean; doc: string };

const MAX_STEPS = 1e12;

/**
 * Every field of TunerConfig: its field default (the `classic` preset; the `default` preset, what a bare
 * `rltuner tune` runs, lays PRESETS.default.overrides over these), doc and allowed values.
 */
export const CONFIG_FIELDS = {
  algorithm: { kind: 'choice', values: ALGORITHMS, default: 'q', doc: 'q (Q-learning), psi (Ψ-learning), g (G-learning): one-step TD from a replay; pg: KL-regularized policy gradient over whole compositions' },
  rewardScaler: { kind: 'number', min: 0, max: 1000, default: 2, doc: 's = 1/c: weight of the music-theory reward against log p' },
  gamma: { kind: 'number', min: 0, max: 1, default: 0.7, doc: "discount factor γ of the TD target (pg: of the rules' rewards to go)" },
  numNotes: { kind: 'number', min: 8, max: 1024, integer: true, default: 32, doc: 'steps (16th notes) per composition' },
  trainingSteps: { kind: 'number', min: 1, max: MAX_STEPS, integer: true, default: 200_000, doc: 'environment steps of training (rounded up to whole compositions)' },
  explorationSteps: { kind: 'number', min: 0, max: MAX_STEPS, integer: true, default: 100_000, doc: 'steps over which ε anneals from initialEpsilon to finalEpsilon' },
  explorationMode: { kind: 'choice', values: ['egreedy', 'boltzmann'], default: 'egreedy', doc: 'egreedy (annealed ε, uniform random actions) or boltzmann (sample softmax(scores / temperature))' },
  initialEpsilon: { kind: 'number', min: 0, max: 1, default: 1.0, doc: 'ε at the first training step (egreedy)' },
  finalEpsilon: { kind: 'number', min: 0, max: 1, default: 0.1, doc: 'ε after explorationSteps (egreedy)' },
  temperature: { kind: 'number', min: 0, max: 100, minOpen: true, default: 1, doc: 'softmax temperature for boltzmann exploration, generation and evaluation' },
  batchSize: { kind: 'number', min: 1, max: 100_000, integer: true, default: 32, doc: 'transitions per update (distinct, uniform from the replay)' },
  replayCapacity: { kind: 'number', min: 1, max: 10_000_000, integer: true, default: 100_000, doc: 'transitions the replay ring holds' },
  trainEvery: { kind: 'number', min: 1, max: 1_000_000, integer: true, default: 5, doc: 'environment steps per update, once batchSize transitions are stored' },
  learningRate: { kind: 'number', min: 0, max: 1, minOpen: true, default: 0.001, doc: 'Adam learning rate' },
  adamBeta1: { kind: 'number', min: 0, max: 1, maxOpen: true, default: 0.9, doc: 'Adam β1' },
  adamBeta2: { kind: 'number', min: 0, max: 1, maxOpen: true, default: 0.999, doc: 'Adam β2' },
  adamEpsilon: { kind: 'number', min: 0, max: 1, minOpen: true, default: 1e-8, doc: 'Adam ε' },
  clipNorm: { kind: 'number', min: 0, max: 1e6, minOpen: true, default: 5, doc: 'L2 norm each parameter tensor\'s gradient is clipped to, separately' },
  targetUpdateRate: { kind: 'number', min: 0, max: 1, minOpen: true, default: 0.01, doc: 'η of the soft target update θ_T ← (1 − η)·θ_T + η·θ after every update' },
  priming: { kind: 'choice', values: ['random_note', 'primer', 'corpus'], default: 'random_note', doc: 'episode start: one random token, a user primer melody, or a corpus window' },
  musicTheoryOnly: { kind: 'boolean', default: false, doc: 'reward music theory only, without log p (the "pure RL" baseline)' },
  weightKey: { kind: 'number', min: 0, max: 100, default: 1, doc: 'weight of rule 1 (notes in key) in r_MT' },
  weightTonic: { kind: 'number', min: 0, max: 100, default: 1, doc: 'weight of rule 2 (tonic at the start and end) in r_MT' },
  weightRepeating: { kind: 'number', min: 0, max: 100, default: 1, doc: 'weight of rule 3 (excessive repeats) in r_MT' },
  weightAutocorrelation: { kind: 'number', min: 0, max: 100, default: 1, doc: 'weight of rule 4 (autocorrelation) in r_MT' },
  weightMotif: { kind: 'number', min: 0, max: 100, default: 1, doc: 'weight of rule 5 (motif) in r_MT' },
  weightRepeatedMotif: { kind: 'number', min: 0, max: 100, default: 1, doc: 'weight of rule 6 (repeated motif) in r_MT' },
  weightIntervals: { kind: 'number', min: 0, max: 100, default: 1, doc: 'weight of rule 7 (preferred intervals) in r_MT' },
  weightLeap: { kind: 'number', min: 0, max: 100, default: 1, doc: 'weight of rule 8 (leap resolution) in r_MT' },
  weightUniqueExtremes: { kind: 'number', min: 0, max: 100, default: 1, doc: 'weight of rule 9 (unique highest and lowest note) in r_MT' },
  tonicDominantBonus: { kind: 'number', min: 0, max: 10, default: 1, doc: "rule 7's extra for holding or resting after a tonic or fifth (1: the paper's; 0: none)" },
  weightTonicEnding: { kind: 'number', min: 0, max: 100, default: 0, doc: 'weight of the composition term tonic_ending (last note in the tonic class, on a strong beat: 0..3) in the reward of a composition\'s last step' },
  weightRhythm: { kind: 'number', min: 0, max: 100, default: 0, doc: "weight of the composition term rhythm (−5 × the TV distance of the piece's note durations to the Nottingham train split's: −5..0)" },
  weightPitchRange: { kind: 'number', min: 0, max: 100, default: 0, doc: "weight of the composition term pitch_range (how unusual the piece's range is among the train split's pieces of its length: −5..0)" },
  weightPhraseRecurrence: { kind: 'number', min: 0, max: 100, default: 0, doc: 'weight of the composition term phrase_recurrence (a 2-bar window recurs: 3, a 1-bar one: 1; pieces of ≥ 64 steps)' },
  weightPreference: { kind: 'number', min: 0, max: 1000, default: 0, doc: "weight w of the learned preference reward R (a reward model from `rltuner prefs train`, given with --reward-model), scaled by s like the rules: pg adds w·R(composition) to each composition's return; q, psi and g add w·(R(s_{t+1}) − R(s_t)) to each step (potential-based shaping, R the model's running score)" },
  key: { kind: 'choice', values: TONIC_NAMES, default: 'C', doc: 'tonic of the key the rules reward and the samples are written in (the tonic note is C4 or A3, by the mode\'s third, moved to this tonic: −5..+6 semitones)' },
  mode: { kind: 'choice', values: MODE_NAMES, default: 'major', doc: 'mode of that key: its scale is the key set; its 1st, 5th and 3rd degrees are the tonic, fifth and third classes' },
  klTarget: { kind: 'number', min: 0, max: 100, default: 0, doc: 'adaptive KL: nats per note to keep the policy from the prior, adjusting rewardScaler after each logging interval (0: off)' },
  klHorizon: { kind: 'number', min: 1, max: MAX_STEPS, default: 10_000, doc: 'adaptive KL: steps over which the reward scaler adapts (Ziegler et al. 2019)' },
  klEvery: { kind: 'number', min: 1, max: MAX_STEPS, integer: true, default: 1000, doc: 'adaptive KL: training steps between adaptations of the reward scaler (pg: of klCoefficient), each at the end of a composition (pg: of an update)' },
  pgGroups: { kind: 'number', min: 1, max: 1024, integer: true, default: 4, doc: 'pg: groups of compositions per update, each group from one primer' },
  pgGroupSize: { kind: 'number', min: 2, max: 1024, integer: true, default: 8, doc: 'pg: compositions per group, the baseline of each being the others of its group' },
  pgAdvantage: { kind: 'choice', values: ['rloo', 'grpo'], default: 'rloo', doc: "pg: advantage against the group: rloo (return − the others' mean) or grpo ((return − mean) / std)" },
  pgReturn: { kind: 'choice', values: ['composition', 'to-go'], default: 'composition', doc: "pg: each token's return: the whole composition's, or the rules' rewards from its step on discounted by gamma, plus the composition terms (to-go)" },
  pgKl: { kind: 'choice', values: ['loss', 'reward'], default: 'loss', doc: "pg: where the KL to the Note RNN enters: the loss (β·k3 per token, each state pulled toward the prior's) or the reward (−β·(log π − log p) per step, in the returns: with gamma 1 the optimum is then the Note RNN reweighted by exp(return/β) over whole compositions)" },
  klCoefficient: { kind: 'number', min: 0, max: 1e6, default: 1, doc: 'pg: β, the weight of the KL to the Note RNN (pgKl: the per-token estimate k3 in the loss, or −β·(log π − log p) in each step\'s reward; adaptive KL control adapts it)' },
  rewardStatePrecision: { kind: 'choice', values: ['f32', 'f16'], default: 'f32', doc: "how the replay keeps the Reward RNN's log p(·|s') that G's target needs: f32, or f16 (half the memory; named for the Reward RNN states it once held, kept so saved configs and sweep plans still load)" },
  seed: { kind: 'number', min: 0, max: 4_294_967_295, integer: true, default: 1, doc: 'seed of the one random source; same seed and config give the same run' },
  evalEvery: { kind: 'number', min: 0, max: MAX_STEPS, integer: true, default: 50_000, doc: 'training steps between evaluations (0: only at the end)' },
  evalCompositions: { kind: 'number', min: 0, max: 10_000_000, integer: true, default: 1000, doc: 'compositions per evaluation, periodic and final (0: no evaluations, samples or heat map)' },
  evalNumNotes: { kind: 'number', min: 0, max: 1024, integer: true, default: 0, doc: "steps per composition in the evaluations (0: numNotes); the paper's statistics and their goals are defined at 32, so a model tuned on longer pieces can be judged at 32" },
  checkpointEvery: { kind: 'number', min: 0, max: MAX_STEPS, integer: true, default: 50_000, doc: 'training steps between checkpoints (0: only at the end)' },
  logEvery: { kind: 'number', min: 1, max: MAX_STEPS, integer: true, default: 1000, doc: 'training steps per logging interval of the reward curves' },
  sampleCount: { kind: 'number', min: 0, max: 10_000, integer: true, default: 8, doc: 'MIDI samples written per model at the end of a run' },
} as const satisfies Record<keyof TunerConfig, FieldSpec>;

type FieldName = keyof TunerConfig;
const FIELD_NAMES = Object.keys(CONFIG_FIELDS) as FieldName[];

/** The per-rule weight fields, in RULE_NAMES order. */
export const RULE_WEIGHT_FIELDS = [
  'weightKey', 'weightTonic', 'weightRepeating', 'weightAutocorrelation', 'weightMotif', 'weightRepeatedMotif',
  'weightIntervals', 'weightLeap', 'weightUniqueExtremes',
] as const satisfies readonly (keyof TunerConfig)[];

/** The rule weights of a config, in RULE_NAMES order. */
export function ruleWeights(config: TunerConfig): number[] {
  return RULE_WEIGHT_FIELDS.map((field) => config[field]);
}

/** The composition-term weight fields, in COMPOSITION_TERM_NAMES order (src/rules/composition.ts). */
export const COMPOSITION_WEIGHT_FIELDS = ['weightTonicEnding', 'weightRhythm', 'weightPitchRange', 'weightPhraseRecurrence'] as const satisfies readonly (keyof TunerConfig)[];

/** The composition-term weights of a config, in COMPOSITION_TERM_NAMES order. */
/** The steps per composition of a run's evaluations: evalNumNotes, or numNotes when it is 0. */
export function evaluationLength(config: Pick<TunerConfig, 'numNotes' | 'evalNumNotes'>): number {
  return config.evalNumNotes || config.numNotes;
}

export function compositionWeights(config: TunerConfig): number[] {
  return COMPOSITION_WEIGHT_FIELDS.map((field) => config[field]);
}

/**
 * The field defaults of CONFIG_FIELDS: the `classic` preset. Not what a bare `rltuner tune` or
 * resolveConfig() runs: that is the `default` preset, these with PRESETS.default.overrides laid over them.
 */
export const DEFAULT_CONFIG: Readonly<TunerConfig> = Object.freeze(
  Object.fromEntries(FIELD_NAMES.map((name) => [name, CONFIG_FIELDS[name].default])) as unknown as TunerConfig,
);

/** A named set of overrides of the defaults. */
export interface Preset {
  doc: string;
  overrides: Partial<TunerConfig>;
}

export const PRESETS = {
  default: {
    doc:
      "What rltuner ships: the KL-regularized policy gradient (pg, GRPO over groups of 8 compositions, the rules' " +
      'rewards to go with γ 0.9, KL β 1, learning rate 0.01, 256,000 steps) on the phrase Note RNN, tuned on pieces ' +
      'of 128 steps (eight bars) and evaluated at 32 (evalNumNotes), with the rules reweighted (key 24, tonic 6, ' +
      'repeats 0.3, motif 8, leap 32) and the composition terms tonic ending 48, rhythm 16, pitch range 16 and ' +
      'phrase recurrence 8. Chosen as config pg128-t48-l32-k24-256k of `rltuner sweep sweeps/default-pg-5seeds.json` ' +
      '(5 seeds × 10,000 compositions of 32 steps, and 1,000 of 128 steps per run; ' +
      'sweeps/default-pg-5seeds.results.md): it meets 9 of the 18 goals on the mean and on at least 4 of 5 seeds, ' +
      'as many as any tuned config (the same settings on 512,000 steps also meet 9, with mean log p −1.180 against ' +
      'its −1.215, in twice the time), and misses notes excessively repeated, ' +
      'notes not in key, leaps resolved, starting with tonic, notes in motif, pitch range tv, last note on tonic, ' +
      'interval tv, distinct windows 8 per block. The untuned Note RNN meets 10 of the 18 in the same sweep: ' +
      'tuning moves the paper\'s rows toward their goals (notes in motif 41 % → 56 %, excessive repeats 3.2 % → 0.48 %) ' +
      'without reaching them, and takes the distinct-window share just past its upper bound.',
    overrides: {
      algorithm: 'pg', pgAdvantage: 'grpo', pgReturn: 'to-go', learningRate: 0.01, gamma: 0.9, klCoefficient: 1,
      trainingSteps: 256_000, evalEvery: 64_000, numNotes: 128, evalNumNotes: 32, weightKey: 24, weightTonic: 6, weightRepeating: 0.3,
      weightMotif: 8, weightLeap: 32, weightTonicEnding: 48, weightRhythm: 16, weightPitchRange: 16, weightPhraseRecurrence: 8,
    },
  },
  g: {
    doc:
      'The default before the phrase Note RNN and pg: G-learning, s = 1, γ 0.7, ε-greedy, 200,000 steps with 100,000 exploring, with the ' +
      'rules reweighted (tonic 1.5, key 3, leap 4, motif 2.5, repeated motif 2, unique extremes 2.5) and no extra ' +
      "reward for holding the tonic or the fifth (rule 7's bonus 0). Chosen as config g-C of " +
      '`rltuner sweep sweeps/default-5seeds.json` (5 seeds × 10,000 compositions; sweeps/default-5seeds.results.md): ' +
      'it meets 9 of the 13 goals on the mean and on at least 4 of 5 seeds, and misses leaps resolved, unique min ' +
      'note, notes in repeated motif, top opening share. With the current build (G reads log p(·|s′) from the ' +
      'replay) over ten seeds (`rltuner sweep sweeps/default-10seeds.json`; sweeps/default-10seeds.results.md) it ' +
      'meets 7 of the 13 and misses notes excessively repeated, leaps resolved, unique min note, notes in motif, ' +
      'notes in repeated motif, top opening share. Those sweeps ran on the basic Note RNN the project shipped then (models/note_rnn_basic.safetensors; their plans name it).',
    overrides: {
      algorithm: 'g', rewardScaler: 1, weightTonic: 1.5, weightKey: 3, weightLeap: 4, weightMotif: 2.5,
      weightRepeatedMotif: 2, weightUniqueExtremes: 2.5, tonicDominantBonus: 0,
    },
  },
  classic: {
    doc:
      "The first release's default, kept for comparison and for the sweeps run against it: Q-learning, s = 2, " +
      "γ 0.7, the paper's reward (every rule weight 1, rule 7's bonus 1), 200,000 steps with 100,000 exploring " +
      '(the field defaults, no overrides). Its five-seed figures are in sweeps/explore.results.md (config default).',
    overrides: {},
  },
  paper: {
    doc:
      'The setting of SPEC §4 as the paper reports it: c = 0.5 (s = 2) on the reference training script\'s ' +
      'schedule: γ 0.5, ε-greedy, 1,000,000 steps with 500,000 exploring.',
    overrides: { gamma: 0.5, rewardScaler: 2, explorationMode: 'egreedy', trainingSteps: 1_000_000, explorationSteps: 500_000 },
  },
  library: {
    doc: 'The reference library defaults: γ 0.95, s 1.0, ε-greedy, 10,000 steps with 5,000 exploring.',
    overrides: { gamma: 0.95, rewardScaler: 1, explorationMode: 'egreedy', trainingSteps: 10_000, explorationSteps: 5_000 },
  },
  script: {
    doc: 'The reference training script and notebook: γ 0.5, s 0.1, Boltzmann exploration, 1,000,000 steps with 500,000 exploring.',
    overrides: {
      gamma: 0.5,
      rewardScaler: 0.1,
      explorationMode: 'boltzmann',
      trainingSteps: 1_000_000,
      explorationSteps: 500_000,
      evalEvery: 50_000,
      checkpointEvery: 50_000,
    },
  },
} as const satisfies Record<string, Preset>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/**
 * A configuration problem: names where it comes from (`source`: the JSON file, or "config"), the field,
 * the offending value (cut to a few dozen characters) and what is allowed.
 */
export class ConfigError extends Error {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly allowed: string,
    problem: string,
    readonly source = 'config',
  ) {
    super(`${source}: ${previewName(field)} = ${typeof value === 'number' ? String(value) : preview(value)} ${problem}; allowed: ${allowed}`);
    this.name = 'ConfigError';
  }
}

/** The allowed values of a field, as printed in errors and help. */
export function allowedValues(spec: FieldSpec): string {
  if (spec.kind === 'choice') return spec.values.join(' | ');
  if (spec.kind === 'boolean') return 'true | false';
  const open = spec.minOpen ? '(' : '[';
  const close = spec.maxOpen ? ')' : ']';
  return `${spec.integer ? 'integer' : 'number'} in ${open}${spec.min}, ${spec.max}${close}`;
}

/** Throws a ConfigError unless `value` is an allowed value of `field`. */
function checkField(field: FieldName, value: unknown, source?: string): void {
  const problem = configFieldProblem(field, value);
  if (problem !== null) throw new ConfigError(field, value, allowedValues(CONFIG_FIELDS[field]), problem, source);
}

/**
 * Why `value` is not an allowed value of `field` ("is out of range", "is not an integer", ...), or null
 * when it is. For readers of recorded settings (a tuned model's metadata) that name their own file.
 */
export function configFieldProblem(field: keyof TunerConfig, value: unknown): string | null {
  const spec: FieldSpec = CONFIG_FIELDS[field];
  if (spec.kind === 'choice') return typeof value === 'string' && spec.values.includes(value) ? null : 'is not one of the choices';
  if (spec.kind === 'boolean') return typeof value === 'boolean' ? null : 'is not a boolean';
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'is not a finite number';
  if (spec.integer && !Number.isInteger(value)) return 'is not an integer';
  const belowMin = spec.minOpen ? value <= spec.min : value < spec.min;
  const aboveMax = spec.maxOpen ? value >= spec.max : value > spec.max;
  return belowMin || aboveMax ? 'is out of range' : null;
}

/** `reward-scaler` → `rewardScaler`. */
function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** The field a name refers to, or a ConfigError listing the known fields. */
function fieldNamed(name: string, source: string, value: unknown, errorSource?: string): FieldName {
  const field = camelCase(name);
  if ((FIELD_NAMES as string[]).includes(field)) return field as FieldName;
  throw new ConfigError(name, value, `one of ${FIELD_NAMES.join(', ')}`, `is an unknown field (from ${source})`, errorSource);
}

/** A command-line value converted to the field's type (numbers and booleans arrive as strings). */
function parseFlag(field: FieldName, raw: string | number | boolean): unknown {
  if (typeof raw !== 'string') return raw;
  const spec: FieldSpec = CONFIG_FIELDS[field];
  if (spec.kind === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  if (spec.kind === 'number') {
    // Plain decimals only (no 0x10, Infinity, or 1e-400 silently taken as 0); anything else stays a string and fails checkField.
    return parseDecimal(raw) ?? raw;
  }
  return raw;
}

/**
 * The config of a run: the defaults, then the named preset, then `json` overrides (field names as in
 * TunerConfig, typed JSON values), then `flags` (names in camelCase or kebab-case, values as strings from
 * the command line). Every field is validated; an unknown preset or field, a wrong type or a value out
 * of range throws a ConfigError naming the field, the value and the allowed range.
 *
 * When trainingSteps is below explorationSteps and explorationSteps was not given (it came from the
 * preset), the exploration is scaled to the preset's share of the training steps (half, for every
 * preset), so ε still reaches finalEpsilon; resolveConfigWithNotes says so. An explorationSteps given
 * explicitly is kept, with a note saying where ε ends.
 */
export function resolveConfig(
  preset: string = 'default',
  json: Record<string, unknown> = {},
  flags: Record<string, string | number | boolean> = {},
): TunerConfig {
  return resolveConfigWithNotes(preset, json, flags).config;
}

/**
 * resolveConfig, plus one line for each adjustment it made or problem it saw (for the CLI to print).
 * `jsonFile` names the file `json` was read from: an error about a field it set starts with that name.
 */
export function resolveConfigWithNotes(
  preset: string = 'default',
  json: Record<string, unknown> = {},
  flags: Record<string, string | number | boolean> = {},
  jsonFile?: string,
): { config: TunerConfig; notes: string[] } {
  if (!(PRESET_NAMES as string[]).includes(preset)) {
    throw new ConfigError('preset', preset, PRESET_NAMES.join(' | '), 'is not a known preset');
  }
  const presetConfig: Record<string, unknown> = { ...DEFAULT_CONFIG, ...PRESETS[preset as PresetName].overrides };
  const config: Record<string, unknown> = { ...presetConfig };
  const given = new Set<FieldName>();
  const fromFile = new Set<FieldName>();
  for (const [name, value] of Object.entries(json)) {
    const field = fieldNamed(name, jsonFile === undefined ? 'the JSON config' : 'the config file', value, jsonFile);
    config[field] = value;
    given.add(field);
    fromFile.add(field);
  }
  for (const [name, raw] of Object.entries(flags)) {
    const field = fieldNamed(name, `flag --${name}`, raw);
    config[field] = parseFlag(field, raw);
    given.add(field);
    fromFile.delete(field);
  }
  for (const field of FIELD_NAMES) checkField(field, config[field], fromFile.has(field) ? jsonFile : undefined);
  const resolved = config as unknown as TunerConfig;
  if (resolved.klTarget > 0 && resolved.rewardScaler === 0) {
    throw new ConfigError('klTarget', resolved.klTarget, '0 when rewardScaler is 0', 'needs a positive rewardScaler to adapt (β = 1/s)', fromFile.has('klTarget') || fromFile.has('rewardScaler') ? jsonFile : undefined);
  }
  if (resolved.batchSize > resolved.replayCapacity) {
    throw new ConfigError('batchSize', resolved.batchSize, `integer <= replayCapacity (${resolved.replayCapacity})`, 'is larger than the replay can hold', fromFile.has('batchSize') || fromFile.has('replayCapacity') ? jsonFile : undefined);
  }
  const notes: string[] = [];
  // ε-greedy exploration is Q, Ψ and G's (pg explores by sampling its own policy).
  if (resolved.explorationSteps > resolved.trainingSteps && resolved.explorationMode === 'egreedy' && resolved.algorithm !== 'pg') {
    if (!given.has('explorationSteps')) {
      const share = (presetConfig.explorationSteps as number) / (presetConfig.trainingSteps as number);
      const scaled = Math.round(resolved.trainingSteps * share);
      notes.push(
        `explorationSteps scaled from ${resolved.explorationSteps} to ${scaled}: trainingSteps ${resolved.trainingSteps} is shorter, and the ` +
          `${preset} preset anneals ε over ${Math.round(100 * share)}% of training (give explorationSteps to choose another value)`,
      );
      resolved.explorationSteps = scaled;
    } else {
      const endEpsilon = resolved.initialEpsilon + (resolved.finalEpsilon - resolved.initialEpsilon) * (resolved.trainingSteps / resolved.explorationSteps);
      notes.push(
        `explorationSteps ${resolved.explorationSteps} is longer than trainingSteps ${resolved.trainingSteps}: ε ends at ${endEpsilon.toFixed(2)}, ` +
          `not finalEpsilon ${resolved.finalEpsilon}`,
      );
    }
  }
  return { config: resolved, notes };
}

/**
 * The largest config file read: 1 MiB. A config of every field is under 2 KB and a run folder's
 * config.json (which --config also takes) a few KB; the limit is checked before the text is parsed.
 */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/** A config file that is not a JSON object of fields; the message starts with the file's name. */
export class ConfigFileError extends Error {
  override readonly name = 'ConfigFileError';
}

/**
 * The field overrides a config file holds: a JSON object of fields, or a run folder's config.json (the
 * fields under "config"). `file` names it in every error. Check the fields with resolveConfigWithNotes
 * (passing `file` as its jsonFile).
 */
export function configOverridesFromText(text: string, file: string): Record<string, unknown> {
  if (text.length > MAX_CONFIG_FILE_BYTES) {
    throw new ConfigFileError(`${file}: ${text.length} characters, above the ${MAX_CONFIG_FILE_BYTES} a config file may have (MAX_CONFIG_FILE_BYTES); a config is a JSON object of a few dozen fields`);
  }
  const deep = excessiveNestingAt(text);
  if (deep >= 0) {
    throw new ConfigFileError(`${file}: nests arrays and objects more than ${MAX_JSON_NESTING} deep (at character ${deep}; MAX_JSON_NESTING); a config is a flat JSON object of fields`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigFileError(`${file} is not valid JSON: ${previewName((e as Error).message, 160)}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConfigFileError(`${file} must hold a JSON object of fields (camelCase names, see --help), not ${preview(json)}`);
  }
  const record = json as Record<string, unknown>;
  // A run folder's config.json holds the config under "config".
  const inner = record.config;
  return typeof inner === 'object' && inner !== null && !Array.isArray(inner) ? (inner as Record<string, unknown>) : record;
}

/**
 * Help text for the CLI's --help: one line per field (flag, allowed values, default, doc), then the presets.
 * Each default is the `default` preset's value: what resolveConfig() and a bare `rltuner tune` run.
 */
export function describeConfig(): string[] {
  const bare = resolveConfig();
  const lines = ['Tuning options (flags in kebab-case; a JSON config uses the camelCase names; each default is what a bare `rltuner tune` runs, the default preset):'];
  for (const field of FIELD_NAMES) {
    const spec: FieldSpec = CONFIG_FIELDS[field];
    const flag = field.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
    lines.push(`  --${flag} <${allowedValues(spec)}>  default ${String(bare[field])}  ${spec.doc}`);
  }
  lines.push('Presets (--preset NAME):');
  for (const name of PRESET_NAMES) lines.push(`  ${name}: ${PRESETS[name].doc}`);
  return lines;
}
