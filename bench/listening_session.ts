/**
 * A listening session on the page, clicked through in headless Chromium by a scripted chooser standing in for
 * a person (no person was recruited): the whole loop of issue 26 in one tab, timed. On web/listen.html:
 *
 *   1. `--pairs` pairs (30) of the shipped Note RNN's 32-step melodies, each melody played to the end (4 s at
 *      120 BPM; the page unlocks the answers only then), answered by the tonic-ending listener with 20 % lapses
 *      reading the melodies from the page's hooks, with `--think` seconds (1) between hearing and answering;
 *   2. a reward model trained in the page's worker on those answers (what it says of its held-out few);
 *   3. the Note RNN tuned on it in the worker (the page's default steps);
 *   4. `--check` pairs (10) of the tuned model against the Note RNN, blind, answered by the same chooser.
 *
 * Prints the wall time of each step, the answers, what the page reported, and the check's tally.
 *
 *   npm run web:build && npx tsc -p bench/tsconfig.json && node dist-bench/bench/listening_session.js [--pairs 30] [--check 10] [--think 1]
 */
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const PAIRS = arg('pairs', 30);
const CHECK = arg('check', 10);
const THINK_MS = 1000 * arg('think', 1);
const LAPSES = 0.2;
const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = join(root, 'dist-web');
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };

const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
  const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
  if (!file.startsWith(dir)) return void res.writeHead(403).end();
  try {
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(await readFile(file));
  } catch {
    res.writeHead(404).end('not found');
  }
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/listen.html`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required'],
});

/** A deterministic uniform source for the chooser's lapses (xorshift32). */
let state = 2026;
const uniform = (): number => {
  state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0;
  return state / 4294967296;
};
/** The tonic-ending listener: the last note in the tonic class (C), more so on a strong beat; equal: no preference. */
const utility = (tokens: string): number => {
  const t = tokens.split(' ').map(Number);
  for (let i = t.length - 1; i >= 0; i--) if (t[i] >= 2) return [2, 14, 26].includes(t[i]) ? (i % 8 === 0 ? 3 : 1) : 0;
  return 0;
};

/** Plays both melodies of each pair to the end, thinks, answers; returns the answers and the seconds taken. */
async function answerPairs(page: Page, pairs: number): Promise<{ answers: string[]; seconds: number }> {
  const started = performance.now();
  const answers: string[] = [];
  for (let trial = 1; trial <= pairs; trial++) {
    await page.waitForSelector(`#trial-label[data-trial="${trial}"]`);
    const a = (await page.getAttribute('#trial-section', 'data-tokens-a'))!, b = (await page.getAttribute('#trial-section', 'data-tokens-b'))!;
    for (const side of ['a', 'b']) {
      await page.click(`#play-${side}`);
      await page.waitForSelector(`#play-${side}[data-playing="false"]`, { timeout: 30_000 });
    }
    await page.waitForTimeout(THINK_MS);
    const ua = utility(a), ub = utility(b);
    const choice = ua === ub ? 'none' : (ua > ub) !== (uniform() < LAPSES) ? 'a' : 'b';
    answers.push(choice === 'none' ? 'none' : choice.toUpperCase());
    await page.click(`#answer-${choice}`);
  }
  return { answers, seconds: (performance.now() - started) / 1000 };
}

const page = await browser.newPage();
page.on('pageerror', (e) => process.stderr.write(`pageerror: ${e.message}\n`));
await page.goto(url);
await page.waitForSelector('#status[data-state="ready"]', { timeout: 30_000 });
await page.evaluate(() => localStorage.clear());
await page.reload();
await page.waitForSelector('#status[data-state="ready"]', { timeout: 30_000 });
await page.selectOption('#model-2-kind', 'note-rnn');
await page.fill('#pair-length', '32');
await page.fill('#pair-count', String(PAIRS));
await page.click('#start');
const listened = await answerPairs(page, PAIRS);
const tally = (xs: string[]) => `A ${xs.filter((x) => x === 'A').length}, B ${xs.filter((x) => x === 'B').length}, no preference ${xs.filter((x) => x === 'none').length}`;
process.stdout.write(`1. ${PAIRS} pairs of 32-step melodies (4 s each) answered in ${listened.seconds.toFixed(0)} s ` +
  `(${(listened.seconds / PAIRS).toFixed(1)} s a pair, ${THINK_MS / 1000} s of thought each): ${tally(listened.answers)}; the page: ${await page.textContent('#loop-answers')}\n`);

let t0 = performance.now();
await page.click('#train-reward');
await page.waitForSelector('#train-status[data-state="done"]', { timeout: 300_000 });
process.stdout.write(`2. reward model in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${await page.textContent('#train-status')}\n`);

t0 = performance.now();
await page.click('#loop-tune');
await page.waitForSelector('#loop-tune-status[data-state="done"]', { timeout: 900_000 });
process.stdout.write(`3. tuning in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${await page.textContent('#loop-tune-status')}\n`);

await page.fill('#pair-count', String(CHECK));
await page.click('#loop-listen');
const check = await answerPairs(page, CHECK);
const verdict = await page.locator('#results p.result').first().textContent();
process.stdout.write(`4. ${CHECK} pairs of the tuned model against the Note RNN in ${check.seconds.toFixed(0)} s: ${tally(check.answers)}; the page: ${verdict}\n`);
await browser.close();
server.close();
