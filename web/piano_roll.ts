/**
 * A melody (rltuner tokens, one per sixteenth note) as notes, and the notes drawn on a canvas as a piano
 * roll: time left to right, pitch bottom to top over the model's range (MIDI 48..83), bar lines every
 * 16 steps, an optional playhead. The canvas gets data-note-count / data-steps for tests.
 */
import { MAX_PITCH, MIN_PITCH, STEPS_PER_BAR, type StepNote } from '../src/index.js';

/** A note in steps (the library's StepNote). */
export type RollNote = StepNote;

export interface RollStyle {
  noteColor: string;
}

const PITCHES = MAX_PITCH - MIN_PITCH + 1;
const BLACK_KEYS = new Set([1, 3, 6, 8, 10]);

/** Draws the notes; `playheadStep` (fractional) draws a line where playback is. */
export function drawPianoRoll(canvas: HTMLCanvasElement, notes: RollNote[], steps: number, style: RollStyle, playheadStep?: number): void {
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
  const rowH = cssHeight / PITCHES;
  const stepW = w / Math.max(1, steps);
  const y = (pitch: number): number => (MAX_PITCH - pitch) * rowH;

  g.fillStyle = '#fbfbfd';
  g.fillRect(0, 0, cssWidth, cssHeight);
  for (let p = MIN_PITCH; p <= MAX_PITCH; p++) {
    if (BLACK_KEYS.has(p % 12)) {
      g.fillStyle = '#eef0f5';
      g.fillRect(labelWidth, y(p), w, rowH);
    }
    if (p % 12 === 0) {
      g.fillStyle = '#d5d9e2';
      g.fillRect(labelWidth, y(p) + rowH - 1, w, 1);
      g.fillStyle = '#667';
      g.font = '10px system-ui, sans-serif';
      g.textBaseline = 'bottom';
      g.fillText(`C${p / 12 - 1}`, 2, y(p) + rowH);
    }
  }
  for (let s = 0; s <= steps; s += 4) {
    g.fillStyle = s % STEPS_PER_BAR === 0 ? '#b9bfcc' : '#e3e6ee';
    g.fillRect(labelWidth + s * stepW, 0, 1, cssHeight);
  }
  g.fillStyle = style.noteColor;
  for (const n of notes) {
    const x = labelWidth + n.start * stepW + 1;
    const width = Math.max(2, (n.end - n.start) * stepW - 2);
    g.beginPath();
    g.roundRect(x, y(n.pitch) + 0.5, width, Math.max(2, rowH - 1), 2);
    g.fill();
  }
  if (playheadStep !== undefined) {
    g.fillStyle = '#e0433b';
    g.fillRect(labelWidth + playheadStep * stepW, 0, 2, cssHeight);
  }
  canvas.dataset.noteCount = String(notes.length);
  canvas.dataset.steps = String(steps);
}
