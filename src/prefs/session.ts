/**
 * A listening session: pairs of compositions to be heard as A and B, written by `rltuner prefs pairs` (with a
 * MIDI file of each melody beside it) and loaded by the listening page (web/listen.html), which plays the
 * pairs, records the answers with the tokens and exports them as the CSV `rltuner prefs train` reads.
 *
 *   {"format": "rltuner-listening-session", "version": 1, "seed": 7, "models": ["note_rnn", "tuned.safetensors"],
 *    "numNotes": 32, "pairs": [{"trial": 1, "seed": 123, "modelA": "...", "modelB": "...",
 *    "a": [tokens], "b": [tokens], "midiA": "pairs/001-a.mid", "midiB": "pairs/001-b.mid"}, ...]}
 *
 * The reader is bounded (size, pairs, tokens) and checks every field; a problem is a SessionFileError naming
 * the file, the field, the value and what is allowed. Pure: no Node module.
 */
import { NUM_CLASSES } from '../music/encoding.js';
import { excessiveNestingAt, MAX_JSON_NESTING } from '../io/json_text.js';
import { preview, previewName } from '../io/preview.js';
import { MAX_COMPOSITION_STEPS } from './reward_model.js';

export const SESSION_FORMAT = 'rltuner-listening-session';
export const SESSION_VERSION = 1;
/** The largest session file read: 16 MiB (1,000 pairs of 32 steps take about 200 KB). */
export const MAX_SESSION_FILE_BYTES = 16 * 1024 * 1024;
/** The most pairs a session may hold. */
export const MAX_SESSION_PAIRS = 5000;
/** The longest model name kept. */
const MAX_NAME_CHARS = 256;

export interface SessionPair {
  trial: number;
  /** The seed the pair's compositions were sampled from. */
  seed: number;
  /** Which model played as A and which as B. */
  modelA: string;
  modelB: string;
  a: Uint8Array;
  b: Uint8Array;
  /** The MIDI files written beside the session (relative paths), when written by `prefs pairs`. */
  midiA?: string;
  midiB?: string;
}

export interface ListeningSession {
  format: typeof SESSION_FORMAT;
  version: typeof SESSION_VERSION;
  /** The seed the pairs and their order were drawn from. */
  seed: number;
  /** The two models, in the order given. */
  models: [string, string];
  numNotes: number;
  pairs: SessionPair[];
}

/** A session file that cannot be used as given: the message starts with the file's name. */
export class SessionFileError extends Error {
  override readonly name = 'SessionFileError';
}

/** The session as JSON text (token arrays as plain lists). */
export function sessionToJson(session: ListeningSession): string {
  return `${JSON.stringify({ ...session, pairs: session.pairs.map((p) => ({ ...p, a: Array.from(p.a), b: Array.from(p.b) })) })}\n`;
}

/** Reads and checks a session file's text; `name` is shown in every error. */
export function readSession(text: string, name: string): ListeningSession {
  if (text.length > MAX_SESSION_FILE_BYTES) {
    throw new SessionFileError(`${name}: ${text.length} characters, above the ${MAX_SESSION_FILE_BYTES} a session file may have (MAX_SESSION_FILE_BYTES)`);
  }
  if (excessiveNestingAt(text) >= 0) throw new SessionFileError(`${name}: nests arrays and objects more than ${MAX_JSON_NESTING} deep (MAX_JSON_NESTING); a session nests 3 deep`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SessionFileError(`${name} is not valid JSON (${previewName((e as Error).message, 120)}); choose the session.json written by \`rltuner prefs pairs\``);
  }
  const bad = (field: string, v: unknown, allowed: string): never => {
    throw new SessionFileError(`${name}: ${field} is ${preview(v)}; allowed: ${allowed}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('the file', value, `a JSON object written by \`rltuner prefs pairs\``);
  const s = value as Record<string, unknown>;
  if (s.format !== SESSION_FORMAT) bad('format', s.format, `"${SESSION_FORMAT}" (the session.json written by \`rltuner prefs pairs\`)`);
  if (s.version !== SESSION_VERSION) bad('version', s.version, `${SESSION_VERSION} (this page reads version ${SESSION_VERSION}; write the session again with this rltuner)`);
  const isSeed = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 4294967295;
  const isName = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME_CHARS;
  if (!isSeed(s.seed)) bad('seed', s.seed, 'an integer 0..4294967295');
  if (!Array.isArray(s.models) || s.models.length !== 2 || !s.models.every(isName)) bad('models', s.models, `two model names of 1 to ${MAX_NAME_CHARS} characters`);
  if (!(typeof s.numNotes === 'number' && Number.isInteger(s.numNotes) && s.numNotes >= 1 && s.numNotes <= MAX_COMPOSITION_STEPS)) bad('numNotes', s.numNotes, `an integer 1..${MAX_COMPOSITION_STEPS}`);
  if (!Array.isArray(s.pairs) || s.pairs.length === 0 || s.pairs.length > MAX_SESSION_PAIRS) bad('pairs', Array.isArray(s.pairs) ? `${s.pairs.length} pairs` : s.pairs, `a list of 1 to ${MAX_SESSION_PAIRS} pairs (MAX_SESSION_PAIRS)`);
  const models = s.models as [string, string];
  const tokensOf = (v: unknown, field: string): Uint8Array => {
    if (!Array.isArray(v) || v.length === 0 || v.length > MAX_COMPOSITION_STEPS) bad(field, Array.isArray(v) ? `${v.length} tokens` : v, `a list of 1 to ${MAX_COMPOSITION_STEPS} tokens`);
    const list = v as unknown[];
    const out = new Uint8Array(list.length);
    list.forEach((t, i) => {
      if (!(typeof t === 'number' && Number.isInteger(t) && t >= 0 && t < NUM_CLASSES)) bad(`${field}[${i}]`, t, `a class index 0..${NUM_CLASSES - 1} (SPEC §1)`);
      out[i] = t as number;
    });
    return out;
  };
  const pairs = (s.pairs as unknown[]).map((raw, i): SessionPair => {
    const field = `pairs[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad(field, raw, 'an object with trial, seed, modelA, modelB, a, b');
    const p = raw as Record<string, unknown>;
    if (!(typeof p.trial === 'number' && p.trial === i + 1)) bad(`${field}.trial`, p.trial, `${i + 1} (pairs are numbered from 1 in order)`);
    if (!isSeed(p.seed)) bad(`${field}.seed`, p.seed, 'an integer 0..4294967295');
    for (const key of ['modelA', 'modelB'] as const) if (!models.includes(p[key] as string)) bad(`${field}.${key}`, p[key], `one of the session's models ${JSON.stringify(models)}`);
    for (const key of ['midiA', 'midiB'] as const) if (p[key] !== undefined && !isName(p[key])) bad(`${field}.${key}`, p[key], `a relative path of 1 to ${MAX_NAME_CHARS} characters`);
    return {
      trial: p.trial as number, seed: p.seed as number, modelA: p.modelA as string, modelB: p.modelB as string,
      a: tokensOf(p.a, `${field}.a`), b: tokensOf(p.b, `${field}.b`),
      ...(p.midiA !== undefined ? { midiA: p.midiA as string } : {}), ...(p.midiB !== undefined ? { midiB: p.midiB as string } : {}),
    };
  });
  return { format: SESSION_FORMAT, version: SESSION_VERSION, seed: s.seed as number, models, numNotes: s.numNotes as number, pairs };
}
