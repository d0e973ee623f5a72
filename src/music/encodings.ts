/**
 * The encodings a Note RNN may use: how a melody's events (SPEC §1 tokens) become the network's inputs and
 * labels, and how an output class becomes the next event. Every user goes through an encoding object from
 * here: training (inputs and labels), scoring (the log-probability of each event), sampling and tuning (the
 * class chosen, decoded to the event played and read back), model files and Magenta checkpoints.
 *
 * basic     the event itself: a one-hot input of the 38 classes and 38 output classes (SPEC §1). The
 *           input id of a step is its token; a class decodes to itself.
 * lookback  Magenta's Lookback RNN (lookback_rnn, LookbackEventSequenceEncoderDecoder over the 38-class
 *           melody one-hot), with the bar taken from the melody's meter. The input of the step that reads
 *           event e_p is 121 values:
 *             [0, 38)    e_p, one-hot
 *             [38, 76)   e_{p+1−bar}: the next event if the melody repeats the bar before (NO_EVENT before
 *                        the melody's start), one-hot
 *             [76, 114)  e_{p+1−2·bar}, the same two bars back
 *             [114, 119) a binary counter of where the next event falls (±1 per bit, bit 0 first)
 *             119, 120   1 when e_p repeats e_{p−bar} (e_{p−2·bar}), else 0
 *           and the output has 40 classes: the 38 events, 38 = "the event one bar ago", 39 = "two bars
 *           ago". A label prefers the repeat classes (two bars first), as Magenta's: an event that equals
 *           the one two bars back is class 39, else one bar back 38, else itself; and NO_EVENT within the
 *           first two bars is class 39 (which plays NO_EVENT there). Class 38 (39) played before a whole
 *           bar (two bars) of events plays NO_EVENT.
 *
 * Bars: a lookback melody knows its bar length (steps per bar from its meter: 16 in 4/4, 12 in 3/4 and
 * 6/8, 8 in 2/4, 18 in 9/8) and the bar position of its first step (after a pickup, not 0); bars not a
 * whole number of steps between MIN_LOOKBACK_BAR and MAX_LOOKBACK_BAR steps fall back to 16 steps from
 * step 0, which is all Magenta knows (it always looks back 16 and 32 steps and counts from the first
 * step). The counter's value for the next event, n steps after the first bar line (n = barPosition + p + 1):
 * bars of at most 16 steps: (n mod bar) + 16 · (the bar's parity), so in 4/4 from a bar line it is
 * Magenta's n mod 32 exactly; longer bars: (n mod bar) mod 32. So a 4/4 melody starting on a downbeat is
 * encoded exactly as Magenta encodes it, and its checkpoints convert both ways (src/io/magenta_checkpoint.ts).
 *
 * Classes inside each one-hot block are rltuner's (0 = NOTE_OFF, 1 = NO_EVENT); Magenta's swap those two,
 * which the checkpoint converter takes care of.
 */
import { NO_EVENT, NUM_CLASSES, STEPS_PER_BAR } from './encoding.js';

/**
 * A sparse input as the engine takes it (src/engine/layout.ts's InputFeatures, declared here by shape so
 * the music code imports no engine code): each input id expands into `entries` (row, value) pairs.
 */
export interface InputFeatures {
  readonly name: string;
  readonly entries: number;
  readonly ids: number;
  expand(id: number, indices: Int32Array, values: Float32Array, at: number): void;
}

/** A network's shape as the engine's LstmStackConfig gives it (declared by shape, as InputFeatures). */
export interface NetworkShape {
  inputSize: number;
  hiddenSizes: number[];
  outputSize: number;
  input?: InputFeatures;
}

/** The encodings a model may use ('basic' is every model's before this option existed). */
export const ENCODING_NAMES = ['basic', 'lookback'] as const;
export type EncodingName = (typeof ENCODING_NAMES)[number];

/** Where a melody's steps fall in its bars: steps per bar, and the bar position of step 0 (0: a downbeat). */
export interface BarGrid {
  stepsPerBar: number;
  barPosition: number;
}

/** Shortest and longest bar (in steps) a lookback encoding looks back by; others fall back to DEFAULT_BAR_GRID. */
export const MIN_LOOKBACK_BAR = 4;
export const MAX_LOOKBACK_BAR = 64;
/** 4/4 from a downbeat: Magenta's lookback distances (16 and 32 steps) and counter. */
export const DEFAULT_BAR_GRID: Readonly<BarGrid> = Object.freeze({ stepsPerBar: STEPS_PER_BAR, barPosition: 0 });

/**
 * The bar grid a lookback encoding uses for a melody of `stepsPerBar` (from its meter; may be fractional)
 * whose first step lies `barPosition` steps into its bar (null: unknown): a whole bar of
 * MIN_LOOKBACK_BAR..MAX_LOOKBACK_BAR steps, else DEFAULT_BAR_GRID.
 */
export function barGrid(stepsPerBar: number, barPosition: number | null = 0): BarGrid {
  if (!Number.isInteger(stepsPerBar) || stepsPerBar < MIN_LOOKBACK_BAR || stepsPerBar > MAX_LOOKBACK_BAR) return DEFAULT_BAR_GRID;
  const position = barPosition !== null && Number.isInteger(barPosition) ? ((barPosition % stepsPerBar) + stepsPerBar) % stepsPerBar : 0;
  return { stepsPerBar, barPosition: position };
}

/** The grid of a melody that starts `before` steps ahead of a step on `grid` (a primer of that length before a composition). */
export function gridBefore(grid: BarGrid, before: number): BarGrid {
  return barGrid(grid.stepsPerBar, grid.barPosition - before);
}

export interface MelodyEncoding {
  readonly name: EncodingName;
  /** Width of the input vector: rows of layer 0's W_x. */
  readonly inputSize: number;
  /** Output classes (the actions a tuned network chooses among). */
  readonly outputSize: number;
  /** The engine's view of a sparse input (absent: a one-hot input whose id is the token). */
  readonly features?: InputFeatures;
  /** The input id of the step that reads event `position` of `events` (and predicts the next). */
  inputAt(events: ArrayLike<number>, position: number, grid: BarGrid): number;
  /** The class that says event `position` of `events`, given the events before it (position ≥ 1 in training). */
  labelAt(events: ArrayLike<number>, position: number, grid: BarGrid): number;
  /** The event class `action` plays after the first `length` events of `events`. */
  decode(action: number, events: ArrayLike<number>, length: number, grid: BarGrid): number;
}

/** The basic encoding: the token is the input and the class (SPEC §1). */
export const BASIC_ENCODING: MelodyEncoding = Object.freeze({
  name: 'basic',
  inputSize: NUM_CLASSES,
  outputSize: NUM_CLASSES,
  inputAt: (events: ArrayLike<number>, position: number) => events[position],
  labelAt: (events: ArrayLike<number>, position: number) => events[position],
  decode: (action: number) => action,
} as const);

// ---------------------------------------------------------------- lookback

/** Lookback distances in bars, as Magenta's DEFAULT_LOOKBACK_DISTANCES (one and two 16-step bars). */
export const LOOKBACK_BARS = [1, 2] as const;
/** Bits of the binary counter (Magenta's binary_counter_bits default). */
export const COUNTER_BITS = 5;
/** Input layout offsets (see the file comment). */
export const LOOKBACK_INPUT = Object.freeze({
  event: 0,
  lookbacks: [NUM_CLASSES, 2 * NUM_CLASSES] as const,
  counter: 3 * NUM_CLASSES,
  repeats: 3 * NUM_CLASSES + COUNTER_BITS,
  size: 3 * NUM_CLASSES + COUNTER_BITS + LOOKBACK_BARS.length,
});
/** The repeat classes: "the event one bar ago" and "two bars ago". */
export const REPEAT_ONE_BAR = NUM_CLASSES;
export const REPEAT_TWO_BARS = NUM_CLASSES + 1;
/** (row, value) entries per lookback input: three one-hot blocks, the counter bits, the two repeat flags. */
const LOOKBACK_ENTRIES = 3 + COUNTER_BITS + LOOKBACK_BARS.length;
const COUNTER_VALUES = 1 << COUNTER_BITS;

/**
 * A lookback input id packs (e_p, e_{p+1−bar}, e_{p+1−2·bar}, counter, repeat flags) as mixed-radix digits
 * 38, 38, 38, 32, 2, 2 (7,023,616 ids), so every model call still takes one integer per step.
 */
const LOOKBACK_IDS = NUM_CLASSES ** 3 * COUNTER_VALUES * 4;

/** The counter value of the event `n` steps after the first bar line (see the file comment). */
export function counterValue(n: number, stepsPerBar: number): number {
  const inBar = n % stepsPerBar;
  if (stepsPerBar <= 16) return inBar + 16 * (Math.floor(n / stepsPerBar) % 2);
  return inBar % COUNTER_VALUES;
}

function packLookback(event: number, nextOneBar: number, nextTwoBars: number, counter: number, repeatsOne: boolean, repeatsTwo: boolean): number {
  return event + NUM_CLASSES * (nextOneBar + NUM_CLASSES * (nextTwoBars + NUM_CLASSES * (counter + COUNTER_VALUES * ((repeatsOne ? 1 : 0) + (repeatsTwo ? 2 : 0)))));
}

/** The lookback input as the engine sees it: 10 (row, value) entries per step. */
export const LOOKBACK_FEATURES: InputFeatures = Object.freeze({
  name: 'lookback',
  entries: LOOKBACK_ENTRIES,
  ids: LOOKBACK_IDS,
  expand(id: number, indices: Int32Array, values: Float32Array, at: number): void {
    let rest = id;
    const event = rest % NUM_CLASSES; rest = (rest - event) / NUM_CLASSES;
    const one = rest % NUM_CLASSES; rest = (rest - one) / NUM_CLASSES;
    const two = rest % NUM_CLASSES; rest = (rest - two) / NUM_CLASSES;
    const counter = rest % COUNTER_VALUES; rest = (rest - counter) / COUNTER_VALUES;
    indices[at] = LOOKBACK_INPUT.event + event; values[at] = 1;
    indices[at + 1] = LOOKBACK_INPUT.lookbacks[0] + one; values[at + 1] = 1;
    indices[at + 2] = LOOKBACK_INPUT.lookbacks[1] + two; values[at + 2] = 1;
    for (let bit = 0; bit < COUNTER_BITS; bit++) {
      indices[at + 3 + bit] = LOOKBACK_INPUT.counter + bit;
      values[at + 3 + bit] = (counter >> bit) & 1 ? 1 : -1;
    }
    for (let i = 0; i < LOOKBACK_BARS.length; i++) {
      indices[at + 3 + COUNTER_BITS + i] = LOOKBACK_INPUT.repeats + i;
      values[at + 3 + COUNTER_BITS + i] = (rest >> i) & 1;
    }
  },
});

/** The lookback encoding (see the file comment). */
export const LOOKBACK_ENCODING: MelodyEncoding = Object.freeze({
  name: 'lookback',
  inputSize: LOOKBACK_INPUT.size,
  outputSize: NUM_CLASSES + LOOKBACK_BARS.length,
  features: LOOKBACK_FEATURES,
  inputAt(events: ArrayLike<number>, position: number, grid: BarGrid): number {
    const bar = grid.stepsPerBar;
    const event = events[position];
    const at = (i: number) => (i >= 0 ? events[i] : NO_EVENT);
    return packLookback(
      event, at(position + 1 - bar), at(position + 1 - 2 * bar),
      counterValue(grid.barPosition + position + 1, bar),
      position >= bar && events[position - bar] === event, position >= 2 * bar && events[position - 2 * bar] === event,
    );
  },
  labelAt(events: ArrayLike<number>, position: number, grid: BarGrid): number {
    const bar = grid.stepsPerBar;
    const event = events[position];
    if (position < 2 * bar && event === NO_EVENT) return REPEAT_TWO_BARS;
    if (position >= 2 * bar && events[position - 2 * bar] === event) return REPEAT_TWO_BARS;
    if (position >= bar && events[position - bar] === event) return REPEAT_ONE_BAR;
    return event;
  },
  decode(action: number, events: ArrayLike<number>, length: number, grid: BarGrid): number {
    const bar = grid.stepsPerBar;
    if (action === REPEAT_TWO_BARS) return length < 2 * bar ? NO_EVENT : events[length - 2 * bar];
    if (action === REPEAT_ONE_BAR) return length < bar ? NO_EVENT : events[length - bar];
    return action;
  },
} as const);

/** The encoding of a name (model files, flags); throws a RangeError naming the allowed names. */
export function encodingNamed(name: string): MelodyEncoding {
  if (name === 'basic') return BASIC_ENCODING;
  if (name === 'lookback') return LOOKBACK_ENCODING;
  throw new RangeError(`unknown encoding ${JSON.stringify(name)}; the encodings are ${ENCODING_NAMES.join(' and ')}`);
}

/** The network shape of an encoding: its input and output widths and, when sparse, its input features. */
export function encodingConfig(encoding: MelodyEncoding, hiddenSizes: number[]): NetworkShape {
  return {
    inputSize: encoding.inputSize, hiddenSizes: [...hiddenSizes], outputSize: encoding.outputSize,
    ...(encoding.features ? { input: encoding.features } : {}),
  };
}

/** The encoding a network was built for (its config's input features and widths); throws for a shape no encoding has. */
export function encodingOf(config: NetworkShape): MelodyEncoding {
  const encoding = config.input ? encodingNamed(config.input.name) : BASIC_ENCODING;
  if (config.inputSize !== encoding.inputSize || config.outputSize !== encoding.outputSize || config.input !== encoding.features) {
    throw new RangeError(`a network of ${config.inputSize} inputs${config.input ? ` (${config.input.name})` : ''} and ${config.outputSize} outputs matches no melody encoding (basic: ${NUM_CLASSES} and ${NUM_CLASSES}; lookback: ${LOOKBACK_INPUT.size} and ${NUM_CLASSES + 2})`);
  }
  return encoding;
}

/**
 * The actions of `encoding` that play `event` after the first `length` events, into out[0 ..]; returns how
 * many (1 to 3: the event's own class, and a repeat class when it would play the same).
 */
export function actionsPlaying(encoding: MelodyEncoding, event: number, events: ArrayLike<number>, length: number, grid: BarGrid, out: Int32Array): number {
  let n = 0;
  out[n++] = event;
  for (let a = NUM_CLASSES; a < encoding.outputSize; a++) if (encoding.decode(a, events, length, grid) === event) out[n++] = a;
  return n;
}

/**
 * The events of `rows` melodies being written, each with its bar grid, for an encoding's inputs and
 * decoding (sampling, the tuning environment): `start` a row with its primer, `push` each event played,
 * `inputId` the input of reading the last event, `decode` an output class into the event it plays. Rows
 * grow as events are pushed.
 */
export class MelodyHistories {
  private readonly events: Uint8Array[];
  private readonly lengths: Int32Array;
  private readonly grids: BarGrid[];

  constructor(readonly encoding: MelodyEncoding, readonly rows: number) {
    this.events = Array.from({ length: rows }, () => new Uint8Array(64));
    this.lengths = new Int32Array(rows);
    this.grids = Array.from({ length: rows }, () => DEFAULT_BAR_GRID);
  }

  /** Row `row` starts over with `primer` (at least one event), step 0 of which lies on `grid`. */
  start(row: number, primer: ArrayLike<number>, grid: BarGrid = DEFAULT_BAR_GRID): void {
    if (primer.length === 0) throw new RangeError('MelodyHistories.start: the primer is empty (the network needs an event to read)');
    this.lengths[row] = 0;
    this.grids[row] = grid;
    for (let i = 0; i < primer.length; i++) this.push(row, primer[i]);
  }

  /** Appends the event played by row `row` (a class 0..37). */
  push(row: number, event: number): void {
    if (!(Number.isInteger(event) && event >= 0 && event < NUM_CLASSES)) throw new RangeError(`MelodyHistories.push: event ${event} is not a class in 0..${NUM_CLASSES - 1}`);
    let buffer = this.events[row];
    const n = this.lengths[row];
    if (n === buffer.length) {
      const grown = new Uint8Array(2 * n);
      grown.set(buffer);
      this.events[row] = buffer = grown;
    }
    buffer[n] = event;
    this.lengths[row] = n + 1;
  }

  /** The input id of reading row `row`'s last event. */
  inputId(row: number): number {
    return this.encoding.inputAt(this.events[row], this.lengths[row] - 1, this.grids[row]);
  }

  /** The input id of reading event `position` of row `row` (priming a network with the row's events). */
  inputIdAt(row: number, position: number): number {
    if (!(position >= 0 && position < this.lengths[row])) throw new RangeError(`MelodyHistories.inputIdAt: row ${row} holds ${this.lengths[row]} events, not ${position + 1}`);
    return this.encoding.inputAt(this.events[row], position, this.grids[row]);
  }

  /** The event output class `action` plays next in row `row`. */
  decode(row: number, action: number): number {
    return this.encoding.decode(action, this.events[row], this.lengths[row], this.grids[row]);
  }

  /** The actions that would play `event` next in row `row` (see actionsPlaying). */
  actionsPlaying(row: number, event: number, out: Int32Array): number {
    return actionsPlaying(this.encoding, event, this.events[row], this.lengths[row], this.grids[row], out);
  }

  /** Events in row `row` so far. */
  length(row: number): number {
    return this.lengths[row];
  }
}
