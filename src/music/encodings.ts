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
 * phrase    rltuner's own: lookback with a third distance, four bars, and a 6-bit counter (where the next
 *           event falls within four 4/4 bars). A tune's phrases come back four and six bars on far more
 *           often than two (in the Nottingham test split's 128-step pieces, 164 of the 306 in which a
 *           2-bar window recurs have it 64 steps later, 103 at 96 steps and 5 at 32), which one- and
 *           two-bar lookbacks cannot copy. The input is 161 values: e_p, then e_{p+1−d·bar} for d = 1, 2,
 *           4 (one-hot each), the counter (6), and the three repeat flags; the output has 41 classes, 40 =
 *           "the event four bars ago", preferred by a label over 39 and 38. No Magenta model has it, so it
 *           does not convert to or from Magenta checkpoints.
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
export const ENCODING_NAMES = ['basic', 'lookback', 'phrase'] as const;
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

/** The input layout of a lookback-style encoding (see the file comment): offsets and width. */
export interface LookbackLayout {
  /** Lookback distances in bars, shortest first. */
  readonly bars: readonly number[];
  readonly counterBits: number;
  readonly event: number;
  /** Offset of the one-hot block of the event each distance back. */
  readonly lookbacks: readonly number[];
  readonly counter: number;
  readonly repeats: number;
  readonly size: number;
}

function lookbackLayout(bars: readonly number[], counterBits: number): LookbackLayout {
  const k = bars.length;
  return Object.freeze({
    bars, counterBits, event: 0, lookbacks: Object.freeze(bars.map((_, i) => (i + 1) * NUM_CLASSES)),
    counter: (k + 1) * NUM_CLASSES, repeats: (k + 1) * NUM_CLASSES + counterBits, size: (k + 1) * NUM_CLASSES + counterBits + k,
  });
}

/** Magenta's lookback_rnn layout (see the file comment). */
export const LOOKBACK_INPUT = lookbackLayout(LOOKBACK_BARS, COUNTER_BITS);
/** The repeat classes: "the event one bar ago" and "two bars ago" (the phrase encoding adds "four bars ago"). */
export const REPEAT_ONE_BAR = NUM_CLASSES;
export const REPEAT_TWO_BARS = NUM_CLASSES + 1;
export const REPEAT_FOUR_BARS = NUM_CLASSES + 2;

/**
 * The counter value of the event `n` steps after the first bar line (see the file comment), on `bits` bits:
 * bars of at most 16 steps count (n mod bar) + 16 · (the bar's index mod 2^(bits − 4)) — with 5 bits
 * Magenta's n mod 32 in 4/4; longer bars (n mod bar) mod 2^bits.
 */
export function counterValue(n: number, stepsPerBar: number, bits = COUNTER_BITS): number {
  const inBar = n % stepsPerBar;
  if (stepsPerBar <= 16) return inBar + 16 * (Math.floor(n / stepsPerBar) % (1 << (bits - 4)));
  return inBar % (1 << bits);
}

/**
 * A lookback-style encoding over `layout`: the input id packs (e_p, e_{p+1−d·bar} for each distance d,
 * counter, repeat flags) as mixed-radix digits 38, 38 per distance, 2^counterBits, 2 per distance, so every
 * model call still takes one integer per step; the input expands into 1 + k + counterBits + k (row, value)
 * entries. The output has 38 + k classes, class 38 + i = "the event bars[i] bars ago"; a label prefers the
 * longest distance that repeats (as Magenta's), and NO_EVENT before the longest distance is its class.
 */
function lookbackEncoding(name: EncodingName, layout: LookbackLayout): { encoding: MelodyEncoding; features: InputFeatures } {
  const { bars, counterBits } = layout;
  const k = bars.length;
  const counterValues = 1 << counterBits;
  const longest = NUM_CLASSES + k - 1;
  const features: InputFeatures = Object.freeze({
    name,
    entries: 1 + k + counterBits + k,
    ids: NUM_CLASSES ** (k + 1) * counterValues * 2 ** k,
    expand(id: number, indices: Int32Array, values: Float32Array, at: number): void {
      let rest = id;
      const event = rest % NUM_CLASSES; rest = (rest - event) / NUM_CLASSES;
      indices[at] = layout.event + event; values[at] = 1;
      for (let i = 0; i < k; i++) {
        const back = rest % NUM_CLASSES; rest = (rest - back) / NUM_CLASSES;
        indices[at + 1 + i] = layout.lookbacks[i] + back; values[at + 1 + i] = 1;
      }
      const counter = rest % counterValues; rest = (rest - counter) / counterValues;
      for (let bit = 0; bit < counterBits; bit++) {
        indices[at + 1 + k + bit] = layout.counter + bit;
        values[at + 1 + k + bit] = (counter >> bit) & 1 ? 1 : -1;
      }
      for (let i = 0; i < k; i++) {
        indices[at + 1 + k + counterBits + i] = layout.repeats + i;
        values[at + 1 + k + counterBits + i] = (rest >> i) & 1;
      }
    },
  });
  const encoding: MelodyEncoding = Object.freeze({
    name,
    inputSize: layout.size,
    outputSize: NUM_CLASSES + k,
    features,
    inputAt(events: ArrayLike<number>, position: number, grid: BarGrid): number {
      const bar = grid.stepsPerBar;
      const event = events[position];
      let id = 0, radix = 1;
      const digit = (value: number, base: number) => {
        id += value * radix;
        radix *= base;
      };
      digit(event, NUM_CLASSES);
      for (let i = 0; i < k; i++) {
        const from = position + 1 - bars[i] * bar;
        digit(from >= 0 ? events[from] : NO_EVENT, NUM_CLASSES);
      }
      digit(counterValue(grid.barPosition + position + 1, bar, counterBits), counterValues);
      let flags = 0;
      for (let i = 0; i < k; i++) if (position >= bars[i] * bar && events[position - bars[i] * bar] === event) flags |= 1 << i;
      digit(flags, 2 ** k);
      return id;
    },
    labelAt(events: ArrayLike<number>, position: number, grid: BarGrid): number {
      const bar = grid.stepsPerBar;
      const event = events[position];
      if (position < bars[k - 1] * bar && event === NO_EVENT) return longest;
      for (let i = k - 1; i >= 0; i--) if (position >= bars[i] * bar && events[position - bars[i] * bar] === event) return NUM_CLASSES + i;
      return event;
    },
    decode(action: number, events: ArrayLike<number>, length: number, grid: BarGrid): number {
      if (action < NUM_CLASSES) return action;
      const back = bars[action - NUM_CLASSES] * grid.stepsPerBar;
      return length < back ? NO_EVENT : events[length - back];
    },
  });
  return { encoding, features };
}

const LOOKBACK = lookbackEncoding('lookback', LOOKBACK_INPUT);
/** The lookback input as the engine sees it: 10 (row, value) entries per step. */
export const LOOKBACK_FEATURES: InputFeatures = LOOKBACK.features;
/** The lookback encoding (see the file comment). */
export const LOOKBACK_ENCODING: MelodyEncoding = LOOKBACK.encoding;

/** The phrase encoding's distances: one, two and four bars (a tune's phrases come back four bars on). */
export const PHRASE_BARS = [1, 2, 4] as const;
/** Its counter: 6 bits, where the next step falls within four 4/4 bars. */
export const PHRASE_COUNTER_BITS = 6;
export const PHRASE_INPUT = lookbackLayout(PHRASE_BARS, PHRASE_COUNTER_BITS);
const PHRASE = lookbackEncoding('phrase', PHRASE_INPUT);
/** The phrase input as the engine sees it: 13 (row, value) entries per step. */
export const PHRASE_FEATURES: InputFeatures = PHRASE.features;
/** The phrase encoding (see the file comment): lookback with a third distance of four bars. */
export const PHRASE_ENCODING: MelodyEncoding = PHRASE.encoding;

/** The encoding of a name (model files, flags); throws a RangeError naming the allowed names. */
export function encodingNamed(name: string): MelodyEncoding {
  if (name === 'basic') return BASIC_ENCODING;
  if (name === 'lookback') return LOOKBACK_ENCODING;
  if (name === 'phrase') return PHRASE_ENCODING;
  throw new RangeError(`unknown encoding ${JSON.stringify(name)}; the encodings are ${ENCODING_NAMES.join(', ')}`);
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
    throw new RangeError(`a network of ${config.inputSize} inputs${config.input ? ` (${config.input.name})` : ''} and ${config.outputSize} outputs matches no melody encoding (basic: ${NUM_CLASSES} and ${NUM_CLASSES}; lookback: ${LOOKBACK_INPUT.size} and ${NUM_CLASSES + 2}; phrase: ${PHRASE_INPUT.size} and ${NUM_CLASSES + 3})`);
  }
  return encoding;
}

/**
 * The actions of `encoding` that play `event` after the first `length` events, into out[0 ..]; returns how
 * many (1 to 1 + the repeat classes: the event's own class, and each repeat class that would play the same).
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
