/**
 * A melody (rltuner tokens, one per sixteenth note) as notes, and the notes drawn on a canvas as a piano
 * roll in its key: time left to right, pitch bottom to top over the model's range (MIDI 48..83, widened
 * when a key change moves notes outside it), the rows of notes outside the key's scale shaded, each
 * tonic row labelled ("D4") and the key named in the corner, bar lines every 16 steps, an optional
 * playhead. A melody playing silently beside another (the A/B comparison) is drawn hollow: outlined in
 * its full colour, so it keeps its contrast. The canvas gets data-note-count / data-steps / data-key for
 * tests and an aria-label that says what it shows.
 */
import { keyName, MAX_PITCH, MIN_PITCH, STEPS_PER_BAR, type Key, type StepNote } from '../src/index.js';
import { scalePitchClasses } from './pitch_map.js';

/** A note in steps (the library's StepNote). */
export type RollNote = StepNote;

export interface RollStyle {
  noteColor: string;
  /** What the roll shows, for its aria-label ("Note RNN melody"). */
  name: string;
}

const NOTE_NAMES = ['C', 'C♯', 'D', 'E♭', 'E', 'F', 'F♯', 'G', 'A♭', 'A', 'B♭', 'B'];
/** "C4" for MIDI 60. */
export function pitchName(pitch: number): string {
  return `${NOTE_NAMES[pitch % 12]}${Math.floor(pitch / 12) - 1}`;
}
/** The playhead's colour (the Stop button's red). */
const PLAYHEAD = '#c62828';

export interface RollDrawing {
  /** Fractional step where playback is: a line is drawn there. */
  playheadStep?: number;
  /** Draw the notes outlined instead of filled (a track playing silently). */
  hollow?: boolean;
}

/** Draws the notes of a melody heard in `key`. */
export function drawPianoRoll(canvas: HTMLCanvasElement, notes: RollNote[], steps: number, style: RollStyle, key: Key, drawing: RollDrawing = {}): void {
  const { playheadStep, hollow = false } = drawing;
  const ratio = window.devicePixelRatio || 1;
  const cssWidth = canvas.clientWidth || 600;
  const cssHeight = canvas.clientHeight || 180;
  if (canvas.width !== Math.round(cssWidth * ratio) || canvas.height !== Math.round(cssHeight * ratio)) {
    canvas.width = Math.round(cssWidth * ratio);
    canvas.height = Math.round(cssHeight * ratio);
  }
  const g = canvas.getContext('2d');
  if (!g) return;
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  const labelWidth = 28;
  const w = cssWidth - labelWidth;
  const lowest = Math.min(MIN_PITCH, ...notes.map((n) => n.pitch));
  const highest = Math.max(MAX_PITCH, ...notes.map((n) => n.pitch));
  const rowH = cssHeight / (highest - lowest + 1);
  const stepW = w / Math.max(1, steps);
  const y = (pitch: number): number => (highest - pitch) * rowH;

  const inScale = scalePitchClasses(key);
  g.fillStyle = '#fbfbfd';
  g.fillRect(0, 0, cssWidth, cssHeight);
  for (let p = lowest; p <= highest; p++) {
    if (!inScale.has(p % 12)) {
      g.fillStyle = '#eef0f5';
      g.fillRect(labelWidth, y(p), w, rowH);
    }
    if (p % 12 === key.tonic) {
      g.fillStyle = '#d5d9e2';
      g.fillRect(labelWidth, y(p) + rowH - 1, w, 1);
      g.fillStyle = '#5a6072';
      g.font = '10px system-ui, sans-serif';
      g.textBaseline = 'bottom';
      g.textAlign = 'left';
      g.fillText(pitchName(p), 2, y(p) + rowH);
    }
  }
  for (let s = 0; s <= steps; s += 4) {
    g.fillStyle = s % STEPS_PER_BAR === 0 ? '#b9bfcc' : '#e3e6ee';
    g.fillRect(labelWidth + s * stepW, 0, 1, cssHeight);
  }
  g.fillStyle = style.noteColor;
  g.strokeStyle = style.noteColor;
  g.lineWidth = 1.5;
  for (const n of notes) {
    const x = labelWidth + n.start * stepW + 1;
    const width = Math.max(2, (n.end - n.start) * stepW - 2);
    g.beginPath();
    if (hollow) {
      g.roundRect(x + 0.75, y(n.pitch) + 1.25, Math.max(1, width - 1.5), Math.max(1, rowH - 2.5), 2);
      g.stroke();
    } else {
      g.roundRect(x, y(n.pitch) + 0.5, width, Math.max(2, rowH - 1), 2);
      g.fill();
    }
  }
  const name = keyName(key);
  g.font = '11px system-ui, sans-serif';
  g.textAlign = 'right';
  g.textBaseline = 'top';
  g.fillStyle = 'rgba(251, 251, 253, 0.85)';
  g.fillRect(cssWidth - g.measureText(name).width - 10, 0, g.measureText(name).width + 10, 16);
  g.fillStyle = '#5a6072';
  g.fillText(name, cssWidth - 5, 3);
  g.textAlign = 'left';
  if (playheadStep !== undefined) {
    g.fillStyle = PLAYHEAD;
    g.fillRect(labelWidth + playheadStep * stepW, 0, 2, cssHeight);
  }
  canvas.dataset.noteCount = String(notes.length);
  canvas.dataset.steps = String(steps);
  canvas.dataset.key = name;
  canvas.setAttribute('aria-label', describeRoll(style.name, notes, steps, key));
}

/** The roll in words: "Note RNN melody in C major: 14 notes over 64 steps (4 bars), from C4 to G5". */
export function describeRoll(name: string, notes: readonly RollNote[], steps: number, key: Key): string {
  const bars = steps / STEPS_PER_BAR;
  const length = `${steps} steps (${Number.isInteger(bars) ? bars : bars.toFixed(1)} bars)`;
  const what = `${name} in ${keyName(key)}`;
  if (notes.length === 0) return `${what}: no notes over ${length}, silence`;
  const pitches = notes.map((n) => n.pitch);
  return `${what}: ${notes.length} note${notes.length === 1 ? '' : 's'} over ${length}, from ${pitchName(Math.min(...pitches))} to ${pitchName(Math.max(...pitches))}`;
}
