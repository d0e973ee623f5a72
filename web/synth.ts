/**
 * Plays notes with Web Audio: one triangle oscillator per note through a short attack / release
 * envelope, scheduled ahead on the audio clock. One melody plays at a time.
 */
import type { RollNote } from './piano_roll.js';

export interface Playback {
  /** Seconds per step (a sixteenth note). */
  stepSeconds: number;
  /** Fractional step now, or null when finished. */
  position(): number | null;
  stop(): void;
}

let context: AudioContext | null = null;

export function playNotes(notes: RollNote[], steps: number, qpm = 120): Playback {
  context ??= new AudioContext();
  const ctx = context;
  void ctx.resume();
  const stepSeconds = 60 / qpm / 4;
  const start = ctx.currentTime + 0.05;
  const master = ctx.createGain();
  master.gain.value = 0.2;
  master.connect(ctx.destination);
  for (const n of notes) {
    const t0 = start + n.start * stepSeconds;
    const t1 = start + n.end * stepSeconds;
    const osc = ctx.createOscillator();
    osc.type = 'triangle';
    osc.frequency.value = 440 * 2 ** ((n.pitch - 69) / 12);
    const env = ctx.createGain();
    env.gain.setValueAtTime(0, t0);
    env.gain.linearRampToValueAtTime(1, t0 + 0.01);
    env.gain.setTargetAtTime(0.6, t0 + 0.01, 0.08);
    env.gain.setTargetAtTime(0, Math.max(t0 + 0.02, t1 - 0.03), 0.015);
    osc.connect(env).connect(master);
    osc.start(t0);
    osc.stop(t1 + 0.1);
  }
  let stopped = false;
  return {
    stepSeconds,
    position() {
      if (stopped) return null;
      const p = (ctx.currentTime - start) / stepSeconds;
      return p > steps ? null : Math.max(0, p);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      master.gain.cancelScheduledValues(ctx.currentTime);
      master.gain.setTargetAtTime(0, ctx.currentTime, 0.01);
      setTimeout(() => master.disconnect(), 100);
    },
  };
}
