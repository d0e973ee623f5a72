/**
 * The answers family: answers files as `rltuner prefs train` reads them (readAnswers, src/prefs/answers.ts),
 * the listening page's CSV and JSON lines, and listening sessions (readSession, src/prefs/session.ts) as the
 * page loads them.
 *
 * Seeds are files written by the project's own writers: a page CSV with tokens, one from before the page kept
 * tokens (empty token fields), JSON lines of scripted answers, and a session of pairs. Each input changes a
 * field to a value a reader could be misled by (a token of 38, −1, 1e308, a string, a list nested deep, a
 * composition of 2,000 tokens), drops or duplicates columns, rows or keys, opens a quote it never closes,
 * copies the rows many times over, or splices bytes into the text.
 *
 * The check: the readers return pairs of compositions of 1..MAX_COMPOSITION_STEPS tokens, each a class
 * 0..37, with an answer A, B or none (a session: its pairs likewise, its models among two names), or throw
 * their named error (AnswersFileError, SessionFileError) starting with the file's name.
 */
import { NUM_CLASSES } from '../../../src/music/encoding.js';
import { AnswersFileError, readAnswers, tokensToField } from '../../../src/prefs/answers.js';
import { MAX_COMPOSITION_STEPS } from '../../../src/prefs/reward_model.js';
import { readSession, SessionFileError, sessionToJson } from '../../../src/prefs/session.js';
import { Random } from '../../../src/random.js';
import { checkNamedError, errorKind, FuzzFailure, INTERESTING_NUMBERS, interestingJsonValue, isRecord, MAX_INPUT_BYTES, pick, type FuzzFamily, type FuzzInput } from '../runner.js';

interface AnswersInput {
  /** The file's name (its ending says CSV, JSON lines or session). */
  file: string;
  text: string;
}

const HEADER = 'session_seed,trial,model_1,model_2,model_a,model_b,composition_seed,answer,preferred,answered_at,tokens_a,tokens_b';

function loadSeeds(): { name: string; input: AnswersInput }[] {
  const random = new Random(20_261_207);
  const melody = (n: number) => Array.from({ length: n }, () => (random.int(3) === 0 ? 2 + random.int(36) : 1));
  const answer = () => pick(random, ['A', 'B', 'none']);
  const csvRows = Array.from({ length: 12 }, (_, i) => `7,${i + 1},Note RNN,"tuned, ""q""",Note RNN,"tuned, ""q""",${100 + i},${answer()},,2026-12-07T00:00:00Z,${tokensToField(melody(32))},${tokensToField(melody(32))}`);
  const jsonLines = Array.from({ length: 12 }, (_, i) => JSON.stringify({ trial: i + 1, a: melody(16), b: melody(24), answer: answer() }));
  const session = sessionToJson({
    format: 'rltuner-listening-session', version: 1, seed: 3, models: ['note-rnn', 'pg_tuned.safetensors'], numNotes: 32,
    pairs: Array.from({ length: 8 }, (_, i) => ({ trial: i + 1, seed: 1000 + i, modelA: i % 2 ? 'note-rnn' : 'pg_tuned.safetensors', modelB: i % 2 ? 'pg_tuned.safetensors' : 'note-rnn', a: Uint8Array.from(melody(32)), b: Uint8Array.from(melody(32)), midiA: `pairs/00${i}-a.mid` })),
  });
  return [
    { name: 'page CSV', input: { file: 'answers.csv', text: `${[HEADER, ...csvRows].join('\r\n')}\r\n` } },
    { name: 'page CSV without tokens', input: { file: 'old.csv', text: `${HEADER}\n${csvRows.map((r) => r.replace(/,[\d ]+,[\d ]+$/, ',,')).join('\n')}\n` } },
    { name: 'JSON lines', input: { file: 'answers.jsonl', text: `${jsonLines.join('\n')}\n` } },
    { name: 'session', input: { file: 'session.json', text: session } },
  ];
}

class AnswersMutator {
  private index = 0;
  constructor(private readonly seeds: readonly { name: string; input: AnswersInput }[], private readonly random: Random) {}

  next(): FuzzInput<AnswersInput> {
    const r = this.random;
    const seed = pick(r, this.seeds);
    let text = seed.input.text;
    const mutations: string[] = [];
    for (let m = 1 + (r.float() < 0.4 ? r.int(3) : 0); m > 0; m--) text = this.mutate(text, seed.input.file, mutations);
    if (text.length > MAX_INPUT_BYTES) {
      text = seed.input.text;
      mutations.push(`over ${MAX_INPUT_BYTES} bytes: the seed unchanged`);
    }
    const index = this.index++;
    const file = `fuzz ${index} ${seed.input.file}`;
    return { index, name: file, seedName: seed.name, mutations, value: { file, text }, size: text.length };
  }

  private mutate(text: string, file: string, log: string[]): string {
    const r = this.random;
    const value = (): unknown => (r.int(2) === 0 ? interestingJsonValue(r) : pick(r, INTERESTING_NUMBERS));
    if (file.endsWith('.json') || file.endsWith('.jsonl')) {
      const lines = file.endsWith('.jsonl') ? text.split('\n').filter((l) => l !== '') : [text];
      if (lines.length === 0) return this.splice(text, log);
      const i = r.int(lines.length);
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(lines[i]) as Record<string, unknown>;
      } catch {
        return this.splice(text, log);
      }
      if (!isRecord(record)) return this.splice(text, log);
      const pairs = Array.isArray(record.pairs) ? (record.pairs as unknown[]).filter(isRecord) : [];
      const target = pairs.length && r.int(2) === 0 ? pick(r, pairs) : record;
      if (Object.keys(target).length === 0) return this.splice(text, log);
      switch (r.int(6)) {
        case 0: {
          const key = pick(r, Object.keys(target));
          const list = target[key];
          if (Array.isArray(list) && list.length) {
            list[r.int(list.length)] = value();
            log.push(`${key}[..] = something else`);
          } else {
            target[key] = value();
            log.push(`${key} = ${JSON.stringify(target[key])?.slice(0, 40)}`);
          }
          break;
        }
        case 1: {
          const key = pick(r, Object.keys(target));
          delete target[key];
          log.push(`${key} dropped`);
          break;
        }
        case 2: {
          const key = pick(r, ['a', 'b', 'pairs']);
          target[key] = Array.from({ length: pick(r, [0, 1025, 2000]) }, () => 1);
          log.push(`${key} of many items`);
          break;
        }
        case 3:
          lines.push(...Array.from({ length: pick(r, [10, 100, 1000]) }, () => lines[i]));
          log.push('lines copied');
          return lines.join('\n');
        case 4:
          target[pick(r, ['answer', 'format', 'version', 'seed', 'numNotes'])] = pick(r, ['a', 'C', 'none', 'A', '', 2, -1, 1e308]);
          log.push('a field set to a near value');
          break;
        default:
          return this.splice(text, log);
      }
      lines[i] = JSON.stringify(record);
      return lines.join('\n');
    }
    // CSV
    const rows = text.split(/\r?\n/);
    switch (r.int(6)) {
      case 0: {
        const i = 1 + r.int(Math.max(1, rows.length - 1));
        const fields = (rows[i] ?? '').split(',');
        fields[r.int(Math.max(1, fields.length))] = String(value()).slice(0, 200);
        rows[i] = fields.join(',');
        log.push(`row ${i}: a field set`);
        break;
      }
      case 1:
        rows[0] = rows[0].split(',').filter(() => r.int(5) !== 0).join(',');
        log.push('header columns dropped');
        break;
      case 2: {
        const i = 1 + r.int(Math.max(1, rows.length - 1));
        rows[i] = (rows[i] ?? '').replace(/(tokens_\w|,)([\d ]+)$/, (_, p, tokens) => `${p}${tokens} ${Array.from({ length: pick(r, [1000, 2000]) }, () => pick(r, [1, 37, 38, 255])).join(' ')}`);
        log.push(`row ${i}: a long composition`);
        break;
      }
      case 3:
        rows.splice(1, 0, ...Array.from({ length: pick(r, [10, 100, 1000]) }, () => rows[1 + r.int(Math.max(1, rows.length - 1))] ?? ''));
        log.push('rows copied');
        break;
      case 4:
        rows[1 + r.int(Math.max(1, rows.length - 1))] += pick(r, [',"open', ',x"y', ',,,,', '"', ',"a\nb"']);
        log.push('a quote or field added');
        break;
      default:
        return this.splice(text, log);
    }
    return rows.join('\n');
  }

  private splice(text: string, log: string[]): string {
    const r = this.random;
    const at = r.int(text.length + 1);
    const insert = pick(r, ['"', ',', '\n', '\r', '{', '[', '\u0000', '\u001b[2J', ' 38', '-1', 'é', '\ufeff']);
    log.push(`spliced ${JSON.stringify(insert)} at ${at}`);
    return text.slice(0, at) + insert + text.slice(at + r.int(3));
  }
}

const ERROR_KINDS: readonly (readonly [string, RegExp])[] = [
  ['token', /token \d+ is|a class index/],
  ['length', /tokens; allowed|MAX_COMPOSITION_STEPS|is empty/],
  ['answer', /the answer is/],
  ['columns', /no column|fields, but the header|MAX_CSV_FIELDS/],
  ['quote', /quote/],
  ['json', /not valid JSON|expected an object|nests/],
  ['session', /format is|version is|models is|pairs|seed is|numNotes is/],
  ['limits', /MAX_/],
];

function checkPairs(input: FuzzInput<AnswersInput>, pairs: readonly { a: Uint8Array; b: Uint8Array; answer?: string }[]): void {
  for (const [i, p] of pairs.entries()) {
    for (const c of [p.a, p.b]) {
      if (!(c instanceof Uint8Array) || c.length < 1 || c.length > MAX_COMPOSITION_STEPS) throw new FuzzFailure(input, `pair ${i}: a composition of ${c?.length} tokens`);
      for (const t of c) if (t >= NUM_CLASSES) throw new FuzzFailure(input, `pair ${i}: token ${t}`);
    }
    if (p.answer !== undefined && !['A', 'B', 'none'].includes(p.answer)) throw new FuzzFailure(input, `pair ${i}: answer ${p.answer}`);
  }
}

export const answersFamily: FuzzFamily<AnswersInput> = {
  name: 'answers',
  description: 'answers files (the page\'s CSV, JSON lines) through readAnswers, and sessions through readSession',
  accepted: 'pairs',
  inputs(random) {
    const mutator = new AnswersMutator(loadSeeds(), random);
    return () => mutator.next();
  },
  check(input) {
    const { file, text } = input.value;
    if (file.endsWith('session.json')) {
      try {
        const s = readSession(text, file);
        checkPairs(input, s.pairs);
        if (s.pairs.some((p) => !s.models.includes(p.modelA) || !s.models.includes(p.modelB))) throw new FuzzFailure(input, 'a pair of a model not in the session');
        return 'pairs';
      } catch (error) {
        return errorKind(checkNamedError(input, error, SessionFileError, `${file}`), ERROR_KINDS);
      }
    }
    try {
      checkPairs(input, readAnswers(text, file).pairs);
      return 'pairs';
    } catch (error) {
      return errorKind(checkNamedError(input, error, AnswersFileError, `${file}: `), ERROR_KINDS);
    }
  },
  files: (input) => ({ [input.value.file.replace(/^fuzz \d+ /, '')]: new TextEncoder().encode(input.value.text) }),
};
