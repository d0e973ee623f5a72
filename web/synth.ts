/**
 * Plays melodies with Web Audio, and optionally on a Web MIDI output: one oscillator per note through a
 * voice's envelope (and filter), scheduled a whole pass at a time on the audio clock. Several tracks can
 * play in lockstep (the A/B comparison): each has its own gain, and `setAudible` fades one in and the
 * others out without moving the playhead. With `loop`, the next pass is scheduled before the current
 * one ends, so the loop is seamless.
 *
 * Pitches arrive already mapped (key and mode are the page's business, see pitch_map.ts).
 */
import type { RollNote } from './piano_roll.js';

/** The synth's voices: what each sounds like is in VOICE_SETTINGS. */
export const VOICES = ['triangle', 'sine', 'square', 'pluck'] as const;
export type Voice = (typeof VOICES)[number];

export const VOICE_LABELS: Record<Voice, string> = {
  triangle: 'Soft lead (triangle)',
  sine: 'Flute-like (sine)',
  square: 'Chiptune (square, filtered)',
  pluck: 'Plucked string',
};

/** The General MIDI program a voice asks a MIDI output (and the MIDI download) for. */
export const VOICE_MIDI_PROGRAMS: Record<Voice, number> = { triangle: 80, sine: 73, square: 80, pluck: 24 };

interface VoiceSettings {
  wave: OscillatorType;
  /** Low-pass cutoff in Hz, or 0 for none. */
  cutoff: number;
  /** Level the note decays to while held (0 for a plucked note that dies away). */
  sustain: number;
  /** Time constant of the decay from the attack peak, seconds. */
  decay: number;
  level: number;
}

const VOICE_SETTINGS: Record<Voice, VoiceSettings> = {
  triangle: { wave: 'triangle', cutoff: 0, sustain: 0.6, decay: 0.08, level: 1 },
  sine: { wave: 'sine', cutoff: 0, sustain: 0.75, decay: 0.12, level: 1 },
  square: { wave: 'square', cutoff: 2400, sustain: 0.5, decay: 0.1, level: 0.45 },
  pluck: { wave: 'sawtooth', cutoff: 1800, sustain: 0, decay: 0.25, level: 0.6 },
};

/** A melody to play: its notes (MIDI pitches, in steps) and its length in steps. */
export interface Track {
  notes: RollNote[];
  steps: number;
}

export interface PlayOptions {
  /** Tempo in quarter notes per minute (a step is a sixteenth note). */
  bpm: number;
  voice: Voice;
  loop: boolean;
  /** Index of the track heard at the start; the others play silently in lockstep [0]. */
  audible?: number;
  /** A Web MIDI output that gets the audible track's notes (channel 1). */
  midiOutput?: MIDIOutput | null;
  /** Silence this synth (when a MIDI output plays instead); the schedule and the playhead run as usual. */
  muted?: boolean;
}

export interface Playback {
  /** Seconds per step (a sixteenth note). */
  readonly stepSeconds: number;
  /** Fractional step within the current pass, or null once finished (never, while looping). */
  position(): number | null;
  /** Which track is heard. */
  audible(): number;
  setAudible(track: number): void;
  /** The current gain of each track's output (1 heard, 0 silent, in between while fading). */
  gains(): number[];
  stop(): void;
}

let context: AudioContext | null = null;

/** The page's one AudioContext (made on first use, after a click, so browsers let it start). */
export function audioContext(): AudioContext {
  context ??= new AudioContext();
  return context;
}

const MASTER_LEVEL = 0.2;
const FADE_SECONDS = 0.015;
/** Schedule the next pass this long before the current one ends. */
const LOOKAHEAD_SECONDS = 1;
/** Web MIDI messages are sent this far ahead of the audio clock. */
const MIDI_LOOKAHEAD_SECONDS = 0.2;

/** Plays `tracks` in lockstep (see the file comment). */
export function playTracks(tracks: readonly Track[], options: PlayOptions): Playback {
  if (tracks.length === 0) throw new Error('playTracks: no track to play');
  if (!(options.bpm > 0)) throw new RangeError(`playTracks: bpm must be positive, got ${options.bpm}`);
  const ctx = audioContext();
  void ctx.resume();
  const stepSeconds = 60 / options.bpm / 4;
  const steps = Math.max(...tracks.map((t) => t.steps));
  const passSeconds = steps * stepSeconds;
  const start = ctx.currentTime + 0.05;
  const settings = VOICE_SETTINGS[options.voice];
  let heard = Math.min(Math.max(0, options.audible ?? 0), tracks.length - 1);

  const master = ctx.createGain();
  master.gain.value = options.muted ? 0 : MASTER_LEVEL;
  master.connect(ctx.destination);
  const trackGains = tracks.map((_, i) => {
    const g = ctx.createGain();
    g.gain.value = i === heard ? 1 : 0;
    g.connect(master);
    return g;
  });
  const oscillators: OscillatorNode[] = [];
  const midi = options.midiOutput ?? null;
  /** performance.now() milliseconds at audio time `t` (for Web MIDI timestamps). */
  const midiTime = (t: number): number => performance.now() + (t - ctx.currentTime) * 1000;

  const schedulePass = (pass: number): void => {
    const passStart = start + pass * passSeconds;
    tracks.forEach((track, i) => {
      for (const n of track.notes) {
        const t0 = passStart + n.start * stepSeconds;
        const t1 = passStart + n.end * stepSeconds;
        const osc = ctx.createOscillator();
        osc.type = settings.wave;
        osc.frequency.value = 440 * 2 ** ((n.pitch - 69) / 12);
        const env = ctx.createGain();
        env.gain.setValueAtTime(0, t0);
        env.gain.linearRampToValueAtTime(settings.level, t0 + 0.008);
        env.gain.setTargetAtTime(settings.level * settings.sustain, t0 + 0.008, settings.decay);
        env.gain.setTargetAtTime(0, Math.max(t0 + 0.02, t1 - 0.03), 0.015);
        let chain: AudioNode = osc;
        if (settings.cutoff > 0) {
          const filter = ctx.createBiquadFilter();
          filter.type = 'lowpass';
          filter.frequency.value = settings.cutoff;
          chain = chain.connect(filter);
        }
        chain.connect(env).connect(trackGains[i]);
        osc.start(t0);
        osc.stop(t1 + 0.1);
        oscillators.push(osc);
        osc.onended = () => {
          const k = oscillators.indexOf(osc);
          if (k >= 0) oscillators.splice(k, 1);
        };
      }
    });
  };

  // Web MIDI gets the heard track's notes a little ahead (MIDI_LOOKAHEAD_SECONDS), so an A/B switch or a
  // stop reaches the output quickly: at a switch, what sounds is silenced and the new track takes over.
  let midiSentUntil = 0; // absolute step (passes × steps + step) up to which note-ons were sent
  const sendMidi = (): void => {
    if (!midi || stopped) return;
    const until = (ctx.currentTime + MIDI_LOOKAHEAD_SECONDS - start) / stepSeconds;
    const lastPass = options.loop ? Math.floor(until / steps) : 0;
    for (let pass = Math.floor(midiSentUntil / steps); pass <= lastPass; pass++) {
      for (const n of tracks[heard].notes) {
        const at = pass * steps + n.start;
        if (at < midiSentUntil || at >= until) continue;
        midi.send([0x90, n.pitch, 100], midiTime(start + at * stepSeconds));
        midi.send([0x80, n.pitch, 0], midiTime(start + (pass * steps + n.end) * stepSeconds) - 1);
      }
    }
    midiSentUntil = Math.max(midiSentUntil, until);
  };
  const allMidiNotesOff = (): void => {
    if (!midi) return;
    // clear() drops messages not yet sent (in the Web MIDI spec, not in every browser yet).
    (midi as MIDIOutput & { clear?: () => void }).clear?.();
    midi.send([0xb0, 123, 0]); // all notes off
  };

  let stopped = false;
  let scheduledPasses = 1;
  schedulePass(0);
  sendMidi();
  const timer = setInterval(() => {
    if (stopped) return;
    if (options.loop) {
      while (ctx.currentTime > start + scheduledPasses * passSeconds - LOOKAHEAD_SECONDS) schedulePass(scheduledPasses++);
    } else if (ctx.currentTime > start + passSeconds + 0.2) {
      clearInterval(timer);
    }
    sendMidi();
  }, 50);

  const playback: Playback = {
    stepSeconds,
    position() {
      if (stopped) return null;
      const p = (ctx.currentTime - start) / stepSeconds;
      if (p < 0) return 0;
      if (options.loop) return p % steps;
      return p > steps ? null : p;
    },
    audible: () => heard,
    setAudible(track) {
      if (track < 0 || track >= tracks.length) throw new RangeError(`setAudible: no track ${track} (there are ${tracks.length})`);
      if (track === heard || stopped) return;
      heard = track;
      const now = ctx.currentTime;
      trackGains.forEach((g, i) => {
        g.gain.cancelScheduledValues(now);
        g.gain.setValueAtTime(g.gain.value, now);
        g.gain.linearRampToValueAtTime(i === heard ? 1 : 0, now + FADE_SECONDS);
      });
      if (midi) {
        allMidiNotesOff();
        midiSentUntil = Math.max(0, (ctx.currentTime - start) / stepSeconds);
        sendMidi();
      }
    },
    gains: () => trackGains.map((g) => g.gain.value),
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      master.gain.cancelScheduledValues(ctx.currentTime);
      master.gain.setTargetAtTime(0, ctx.currentTime, 0.01);
      allMidiNotesOff();
      setTimeout(() => {
        for (const osc of oscillators.splice(0)) osc.stop();
        master.disconnect();
      }, 100);
    },
  };
  return playback;
}

/** Sends a program change for `voice` to a MIDI output (channel 1). */
export function selectMidiProgram(output: MIDIOutput, voice: Voice): void {
  output.send([0xc0, VOICE_MIDI_PROGRAMS[voice]]);
}
