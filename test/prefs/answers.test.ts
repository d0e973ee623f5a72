// Answers files (the listening page's CSV, JSON lines) and listening sessions: what they read, and every
// problem named with the file, the line, the value and what is allowed.
import { describe, expect, it } from 'vitest';
import {
  AnswersFileError, answersFormat, answersToJsonLines, MAX_CSV_FIELDS, parseCsv, readAnswers, readAnswersCsv, readAnswersJsonLines,
} from '../../src/prefs/answers.js';
import { MAX_SESSION_PAIRS, readSession, SessionFileError, sessionToJson, type ListeningSession } from '../../src/prefs/session.js';
import { MAX_COMPOSITION_STEPS, pairName, splitPairs, type PreferencePair } from '../../src/prefs/reward_model.js';

const HEADER = 'session_seed,trial,model_1,model_2,model_a,model_b,composition_seed,answer,preferred,answered_at,tokens_a,tokens_b';
const row = (answer: string, a: string, b: string) => `7,1,x,y,x,y,9,${answer},x,2025-01-01T00:00:00Z,${a},${b}`;

describe('the listening page\'s CSV', () => {
  it('reads the answer and both compositions of each row, in any column order, with quoting and CRLF or LF', () => {
    const text = `${HEADER}\r\n${row('A', '14 1 1 16', '2 3')}\r\n${row('none', '0 1', '37')}\n`;
    const read = readAnswersCsv(text, 'a.csv');
    expect(read.pairs.map((p) => [Array.from(p.a), Array.from(p.b), p.answer])).toEqual([[[14, 1, 1, 16], [2, 3], 'A'], [[0, 1], [37], 'none']]);
    const shuffled = 'tokens_b,answer,"tokens_a"\n"5 6",B,"7, 8"'.replace('"7, 8"', '"7 8"');
    expect(readAnswersCsv(shuffled, 'b.csv').pairs.map((p) => [Array.from(p.a), Array.from(p.b), p.answer])).toEqual([[[7, 8], [5, 6], 'B']]);
    expect(parseCsv('a,"b ""c""\nd",e\r\n\r\nf', 'q.csv')).toEqual([{ line: 1, fields: ['a', 'b "c"\nd', 'e'] }, { line: 4, fields: ['f'] }]);
  });

  it('names the file, the line, the column, the value and what is allowed', () => {
    const one = (r: string) => () => readAnswersCsv(`${HEADER}\n${r}\n`, 'answers.csv');
    expect(one(row('C', '14', '14'))).toThrow(/^answers\.csv: line 2, column answer: the answer is "C"; allowed "A", "B", "none"/);
    expect(one(row('A', '14 38', '14'))).toThrow(/^answers\.csv: line 2, column tokens_a: token 2 is "38"; a token is a class index 0\.\.37/);
    expect(one(row('A', '14', '1.5'))).toThrow(/line 2, column tokens_b: token 1 is "1\.5"/);
    expect(one(row('A', '14', Array(MAX_COMPOSITION_STEPS + 1).fill('1').join(' ')))).toThrow(/line 2, column tokens_b: a composition of 1025 tokens; allowed 1 to 1024 \(MAX_COMPOSITION_STEPS\)/);
    expect(one(row('A', '14', ''))).toThrow(/line 2, column tokens_b: the composition is empty/);
    expect(one('7,1,x')).toThrow(/^answers\.csv: line 2: 3 fields, but the header names 12 columns/);
    expect(() => readAnswersCsv('', 'e.csv')).toThrow(/^e\.csv: the file is empty/);
    expect(() => readAnswersCsv(`${HEADER}\n"open`, 'q.csv')).toThrow(/^q\.csv: line 2: a quoted field is not closed/);
    expect(() => readAnswersCsv(`${Array(MAX_CSV_FIELDS + 1).fill('c').join(',')}\n`, 'w.csv')).toThrow(/^w\.csv: line 1: more than 64 fields \(MAX_CSV_FIELDS\)/);
    // An export from before the page kept the tokens says so.
    expect(() => readAnswersCsv('session_seed,trial,model_1,model_2,model_a,model_b,composition_seed,answer,preferred,answered_at\n', 'old.csv'))
      .toThrow(/^old\.csv: no column tokens_a, tokens_b in the header .*exported before the page recorded the compositions' tokens/);
    expect(() => readAnswersCsv('a,b\n1,2\n', 'x.csv')).toThrow(AnswersFileError);
  });
});

describe('JSON lines', () => {
  const pairs: (PreferencePair & { trial: number })[] = [
    { trial: 1, a: Uint8Array.from([14, 1]), b: Uint8Array.from([2]), answer: 'B' },
    { trial: 2, a: Uint8Array.from([0]), b: Uint8Array.from([1, 37]), answer: 'none' },
  ];

  it('round-trip what answersToJsonLines writes (extra fields kept first), and the form is told by name or content', () => {
    const text = answersToJsonLines(pairs);
    expect(text.split('\n')[0]).toBe('{"trial":1,"a":[14,1],"b":[2],"answer":"B"}');
    const read = readAnswers(`\n${text}\n`, 'answers.jsonl');
    expect(read.pairs.map((p) => [Array.from(p.a), Array.from(p.b), p.answer])).toEqual([[[14, 1], [2], 'B'], [[0], [1, 37], 'none']]);
    expect([answersFormat('x.CSV', '{'), answersFormat('x.ndjson', 'a'), answersFormat('x', ' {"a":1}'), answersFormat('x', 'answer,')]).toEqual(['csv', 'jsonl', 'jsonl', 'csv']);
  });

  it('names the file, the line, the key and the value', () => {
    expect(() => readAnswersJsonLines('{"a":[1],"b":[2],"answer":"A"}\n{"a":[1],"b":[2]', 'x.jsonl')).toThrow(/^x\.jsonl: line 2 is not valid JSON/);
    expect(() => readAnswersJsonLines('[1]', 'x.jsonl')).toThrow(/^x\.jsonl: line 1: expected an object/);
    expect(() => readAnswersJsonLines('{"a":[1,-1],"b":[2],"answer":"A"}', 'x.jsonl')).toThrow(/^x\.jsonl: line 1, "a": token 2 is -1; a token is a class index 0\.\.37/);
    expect(() => readAnswersJsonLines('{"a":"14","b":[2],"answer":"A"}', 'x.jsonl')).not.toThrow(); // a field string of tokens is allowed too
    expect(() => readAnswersJsonLines('{"a":{},"b":[2],"answer":"A"}', 'x.jsonl')).toThrow(/^x\.jsonl: line 1, "a": expected the composition's tokens/);
    expect(() => readAnswersJsonLines('{"a":[1],"b":[2],"answer":"a"}', 'x.jsonl')).toThrow(/^x\.jsonl: line 1, "answer": the answer is "a"/);
    expect(() => readAnswersJsonLines(`{"a":${'['.repeat(70)}`, 'x.jsonl')).toThrow(/^x\.jsonl: line 1: nests arrays and objects more than 64 deep/);
  });
});

describe('the held-out tenth by hash', () => {
  it('keeps a pair on one side whatever the order of the answers and of its two compositions', () => {
    const pairs: PreferencePair[] = Array.from({ length: 200 }, (_, i) => ({ a: Uint8Array.from([2 + (i % 30), 1, i % 7]), b: Uint8Array.from([14, i % 11, 1]), answer: 'A' }));
    const { train, heldOut } = splitPairs(pairs);
    expect(train.length + heldOut.length).toBe(200);
    expect(heldOut.length).toBeGreaterThan(5);
    expect(heldOut.length).toBeLessThan(40);
    const swapped = pairs.map((p) => ({ a: p.b, b: p.a, answer: 'B' as const })).reverse();
    expect(new Set(splitPairs(swapped).heldOut.map(pairName))).toEqual(new Set(heldOut.map(pairName)));
    // Two pairs: one on each side.
    expect(splitPairs(pairs.slice(0, 2)).heldOut).toHaveLength(1);
  });
});

describe('listening sessions', () => {
  const session: ListeningSession = {
    format: 'rltuner-listening-session', version: 1, seed: 3, models: ['note-rnn', 'pg_tuned.safetensors'], numNotes: 4,
    pairs: [{ trial: 1, seed: 9, modelA: 'pg_tuned.safetensors', modelB: 'note-rnn', a: Uint8Array.from([14, 1, 1, 1]), b: Uint8Array.from([2, 1, 0, 1]), midiA: 'pairs/001-a.mid', midiB: 'pairs/001-b.mid' }],
  };

  it('round-trip', () => {
    const back = readSession(sessionToJson(session), 'session.json');
    expect({ ...back, pairs: back.pairs.map((p) => ({ ...p, a: Array.from(p.a), b: Array.from(p.b) })) })
      .toEqual({ ...session, pairs: session.pairs.map((p) => ({ ...p, a: Array.from(p.a), b: Array.from(p.b) })) });
  });

  it('names the file, the field, the value and what is allowed', () => {
    const edited = (f: (s: Record<string, any>) => void) => {
      const s = JSON.parse(sessionToJson(session));
      f(s);
      return () => readSession(JSON.stringify(s), 's.json');
    };
    expect(edited((s) => (s.format = 'x'))).toThrow(/^s\.json: format is "x"; allowed: "rltuner-listening-session"/);
    expect(edited((s) => (s.pairs[0].a[2] = 40))).toThrow(/^s\.json: pairs\[0\]\.a\[2\] is 40; allowed: a class index 0\.\.37/);
    expect(edited((s) => (s.pairs[0].modelA = 'other'))).toThrow(/^s\.json: pairs\[0\]\.modelA is "other"; allowed: one of the session's models/);
    expect(edited((s) => (s.pairs[0].trial = 2))).toThrow(/pairs\[0\]\.trial is 2; allowed: 1/);
    expect(edited((s) => (s.pairs = Array(MAX_SESSION_PAIRS + 1).fill(s.pairs[0])))).toThrow(/pairs is "5001 pairs"; allowed: a list of 1 to 5000 pairs \(MAX_SESSION_PAIRS\)/);
    expect(() => readSession('{', 's.json')).toThrow(SessionFileError);
    expect(() => readSession('{', 's.json')).toThrow(/^s\.json is not valid JSON/);
  });
});
