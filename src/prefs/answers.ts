/**
 * Answers to A/B pairs, as files: the listening page's CSV export (web/listen.html; one row per answer,
 * the two compositions' tokens in columns tokens_a and tokens_b) and a JSON-lines form for scripts (one
 * object per line: {"a": [tokens], "b": [tokens], "answer": "A" | "B" | "none"}). Both readers are bounded
 * (the file's size, the rows, the fields, the tokens of a composition) and check every value; a problem is
 * an AnswersFileError naming the file, the line, the value and what is allowed. Pure: no Node module.
 *
 * Tokens are the class indices of SPEC §1 (0 NOTE_OFF, 1 NO_EVENT, 2..37 note-ons), written in a CSV field
 * as decimal integers separated by spaces. "A" is the composition played first in the pair.
 */
import { NUM_CLASSES } from '../music/encoding.js';
import { excessiveNestingAt, MAX_JSON_NESTING } from '../io/json_text.js';
import { preview, previewName } from '../io/preview.js';
import type { PairAnswer } from './bradley_terry.js';
import { MAX_COMPOSITION_STEPS, type PreferencePair } from './reward_model.js';

/** The columns of the listening page's CSV export, in order (web/listening_stats.ts writes them). */
export const ANSWER_CSV_COLUMNS = [
  'session_seed', 'trial', 'model_1', 'model_2', 'model_a', 'model_b', 'composition_seed', 'answer', 'preferred', 'answered_at',
  'tokens_a', 'tokens_b',
] as const;

/** The columns a CSV must have for training: the answer and both compositions. */
const REQUIRED_CSV_COLUMNS = ['answer', 'tokens_a', 'tokens_b'] as const;

/** The largest answers file read: 64 MiB (10,000 answers of 32-step pairs take about 2 MB). */
export const MAX_ANSWERS_FILE_BYTES = 64 * 1024 * 1024;
/** The most answers one file may hold. */
export const MAX_ANSWERS_PER_FILE = 100_000;
/** The longest CSV field or JSON line, in characters (a 1,024-step composition's tokens take under 3,100). */
export const MAX_ANSWER_LINE_CHARS = 64 * 1024;
/** The most fields a CSV row may have. */
export const MAX_CSV_FIELDS = 64;

export const ANSWERS = ['A', 'B', 'none'] as const;

/** An answers file that cannot be read as given: the message starts with the file's name. */
export class AnswersFileError extends Error {
  override readonly name = 'AnswersFileError';
}

/** What a file gave: its pairs, and the rows it skipped with why (answers recorded without tokens). */
export interface AnswersRead {
  pairs: PreferencePair[];
  skipped: { line: number; reason: string }[];
}

/** Tokens written as a CSV field: decimal class indices separated by single spaces. */
export function tokensToField(tokens: ArrayLike<number>): string {
  return Array.from(tokens).join(' ');
}

/** A composition's tokens from a CSV field or JSON array, each checked; `where` names the file, line and column. */
function compositionOf(value: unknown, where: string): Uint8Array {
  let items: unknown[];
  if (typeof value === 'string') {
    const text = value.trim();
    if (text === '') throw new AnswersFileError(`${where}: the composition is empty; it needs 1 to ${MAX_COMPOSITION_STEPS} tokens`);
    items = text.split(/\s+/);
  } else if (Array.isArray(value)) {
    items = value;
  } else {
    throw new AnswersFileError(`${where}: expected the composition's tokens (a list of class indices 0..${NUM_CLASSES - 1}), got ${preview(value)}`);
  }
  if (items.length === 0 || items.length > MAX_COMPOSITION_STEPS) {
    throw new AnswersFileError(`${where}: a composition of ${items.length} tokens; allowed 1 to ${MAX_COMPOSITION_STEPS} (MAX_COMPOSITION_STEPS)`);
  }
  const out = new Uint8Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const v = typeof item === 'string' && /^\d{1,3}$/.test(item) ? Number(item) : item;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= NUM_CLASSES) {
      throw new AnswersFileError(`${where}: token ${i + 1} is ${preview(item)}; a token is a class index 0..${NUM_CLASSES - 1} (SPEC §1)`);
    }
    out[i] = v;
  }
  return out;
}

function answerOf(value: unknown, where: string): PairAnswer {
  if (typeof value === 'string' && (ANSWERS as readonly string[]).includes(value)) return value as PairAnswer;
  throw new AnswersFileError(`${where}: the answer is ${preview(value)}; allowed ${ANSWERS.map((a) => JSON.stringify(a)).join(', ')} (A: the first composition preferred)`);
}

/** Which form a file is in: by its name's ending (.csv, .jsonl), else by its first character ('{': JSON lines). */
export function answersFormat(name: string, text: string): 'csv' | 'jsonl' {
  if (/\.csv$/i.test(name)) return 'csv';
  if (/\.(jsonl|ndjson)$/i.test(name)) return 'jsonl';
  return text.trimStart().startsWith('{') ? 'jsonl' : 'csv';
}

/** Reads an answers file of either form (answersFormat); `name` is shown in every error. */
export function readAnswers(text: string, name: string): AnswersRead {
  if (text.length > MAX_ANSWERS_FILE_BYTES) {
    throw new AnswersFileError(`${name}: ${text.length} characters, above the ${MAX_ANSWERS_FILE_BYTES} an answers file may have (MAX_ANSWERS_FILE_BYTES); split it into several files`);
  }
  return answersFormat(name, text) === 'csv' ? readAnswersCsv(text, name) : readAnswersJsonLines(text, name);
}

/**
 * The rows of a CSV text (RFC 4180: comma-separated, fields in double quotes may hold commas, quotes as "",
 * and line breaks; lines end in CRLF or LF), each with the line it starts on. Bounded by MAX_CSV_FIELDS and
 * MAX_ANSWER_LINE_CHARS.
 */
export function parseCsv(text: string, name: string): { line: number; fields: string[] }[] {
  const rows: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let line = 1, rowLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a byte-order mark
  const tooLong = () => new AnswersFileError(`${name}: line ${rowLine}: a field longer than ${MAX_ANSWER_LINE_CHARS} characters (MAX_ANSWER_LINE_CHARS)`);
  const push = (field: string) => {
    if (fields.length >= MAX_CSV_FIELDS) throw new AnswersFileError(`${name}: line ${rowLine}: more than ${MAX_CSV_FIELDS} fields (MAX_CSV_FIELDS); is this the listening page's CSV?`);
    if (field.length > MAX_ANSWER_LINE_CHARS) throw tooLong();
    fields.push(field);
  };
  const endRow = () => {
    if (!(fields.length === 1 && fields[0] === '')) rows.push({ line: rowLine, fields });
    fields = [];
  };
  // Each turn reads one field (slices of the text, never a character at a time) and what ends it.
  while (i <= text.length) {
    let field: string;
    if (text[i] === '"') {
      const parts: string[] = [];
      let from = i + 1;
      for (;;) {
        const quote = text.indexOf('"', from);
        if (quote < 0) throw new AnswersFileError(`${name}: line ${rowLine}: a quoted field is not closed before the end of the file`);
        parts.push(text.slice(from, quote));
        if (quote - i > MAX_ANSWER_LINE_CHARS) throw tooLong();
        if (text[quote + 1] === '"') {
          parts.push('"');
          from = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
      field = parts.join('');
      for (let k = 0; k < field.length; k++) if (field.charCodeAt(k) === 10) line++;
      const next = text[i];
      if (i < text.length && next !== ',' && next !== '\n' && next !== '\r') {
        throw new AnswersFileError(`${name}: line ${line}: a quote inside a field (${preview(text.slice(i - 1, i + 20))}); quote the whole field and write quotes in it as ""`);
      }
    } else {
      let end = i;
      while (end < text.length) {
        const c = text.charCodeAt(end);
        if (c === 44 || c === 10 || c === 13) break; // , \n \r
        if (c === 34) throw new AnswersFileError(`${name}: line ${line}: a quote inside an unquoted field (${preview(text.slice(i, end + 1))}); quote the whole field and write quotes in it as ""`);
        end++;
      }
      if (end - i > MAX_ANSWER_LINE_CHARS) throw tooLong();
      field = text.slice(i, end);
      i = end;
    }
    push(field);
    if (i >= text.length) {
      endRow();
      break;
    }
    if (text[i] === ',') {
      i++;
      continue;
    }
    // A line break ends the row (CRLF, LF or CR).
    i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1;
    endRow();
    line++;
    rowLine = line;
    if (i === text.length) break;
  }
  return rows;
}

/** The listening page's CSV: a header row naming the columns (at least answer, tokens_a, tokens_b), then one answer per row. */
export function readAnswersCsv(text: string, name: string): AnswersRead {
  const rows = parseCsv(text, name);
  if (rows.length === 0) throw new AnswersFileError(`${name}: the file is empty; expected the listening page's CSV (a header row, then one answer per row)`);
  const header = rows[0].fields.map((f) => f.trim());
  const missing = REQUIRED_CSV_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length) {
    const old = header.includes('answer') && header.includes('model_a');
    throw new AnswersFileError(
      `${name}: no column ${missing.join(', ')} in the header (${previewName(header.join(','), 120)}); ` +
      (old ? 'this CSV was exported before the page recorded the compositions\' tokens, so the melodies answered are not in it: answer new pairs and export again'
        : `expected the listening page's CSV, with columns ${ANSWER_CSV_COLUMNS.join(',')}`));
  }
  const at = (column: string) => header.indexOf(column);
  if (rows.length - 1 > MAX_ANSWERS_PER_FILE) throw new AnswersFileError(`${name}: ${rows.length - 1} answers, above the ${MAX_ANSWERS_PER_FILE} one file may hold (MAX_ANSWERS_PER_FILE); split it`);
  const out: AnswersRead = { pairs: [], skipped: [] };
  for (const { line, fields } of rows.slice(1)) {
    if (fields.length !== header.length) {
      throw new AnswersFileError(`${name}: line ${line}: ${fields.length} fields, but the header names ${header.length} columns`);
    }
    const where = (column: string) => `${name}: line ${line}, column ${column}`;
    const answer = answerOf(fields[at('answer')].trim(), where('answer'));
    const a = fields[at('tokens_a')], b = fields[at('tokens_b')];
    if (a.trim() === '' && b.trim() === '') {
      out.skipped.push({ line, reason: 'no tokens (answered before the page recorded them)' });
      continue;
    }
    out.pairs.push({ a: compositionOf(a, where('tokens_a')), b: compositionOf(b, where('tokens_b')), answer });
  }
  return out;
}

/** JSON lines: one object {"a": [...], "b": [...], "answer": "A" | "B" | "none"} per line (blank lines ignored; other keys are kept by nobody). */
export function readAnswersJsonLines(text: string, name: string): AnswersRead {
  const out: AnswersRead = { pairs: [], skipped: [] };
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = index + 1;
    const body = raw.trim();
    if (body === '') return;
    if (body.length > MAX_ANSWER_LINE_CHARS) throw new AnswersFileError(`${name}: line ${line}: ${body.length} characters, above the ${MAX_ANSWER_LINE_CHARS} a line may have (MAX_ANSWER_LINE_CHARS)`);
    if (excessiveNestingAt(body) >= 0) throw new AnswersFileError(`${name}: line ${line}: nests arrays and objects more than ${MAX_JSON_NESTING} deep; an answer is a flat object`);
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (e) {
      throw new AnswersFileError(`${name}: line ${line} is not valid JSON (${previewName((e as Error).message, 120)}); each line holds one answer object`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new AnswersFileError(`${name}: line ${line}: expected an object {"a": [tokens], "b": [tokens], "answer": "A" | "B" | "none"}, got ${preview(value)}`);
    }
    if (out.pairs.length >= MAX_ANSWERS_PER_FILE) throw new AnswersFileError(`${name}: more than ${MAX_ANSWERS_PER_FILE} answers (MAX_ANSWERS_PER_FILE); split the file`);
    const record = value as Record<string, unknown>;
    const where = (key: string) => `${name}: line ${line}, "${key}"`;
    out.pairs.push({ a: compositionOf(record.a, where('a')), b: compositionOf(record.b, where('b')), answer: answerOf(record.answer, where('answer')) });
  });
  return out;
}

/** Answers as JSON lines (what readAnswersJsonLines reads), with any extra fields of each record first. */
export function answersToJsonLines<P extends PreferencePair>(pairs: readonly P[]): string {
  return pairs.map(({ a, b, answer, ...extra }) => JSON.stringify({ ...extra, a: Array.from(a), b: Array.from(b), answer })).join('\n') + (pairs.length ? '\n' : '');
}
