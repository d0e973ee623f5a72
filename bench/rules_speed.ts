/**
 * The music-theory reward of one step (all nine rules, as the environment and the evaluation call it) and
 * rule 4 alone, per call on random compositions, beside rule 4 computed lag by lag with `autocorrelation`
 * (which centres the composition anew each time, as rule 4 did before it centred once per step).
 *
 *   npm run build && npx tsc -p bench/tsconfig.json && node --expose-gc dist-bench/bench/rules_speed.js [--quick]
 */
import { Random } from '../src/random.js';
import {
  AUTOCORRELATION_LAGS, AUTOCORRELATION_THRESHOLD, AUTOCORRELATION_WEIGHT, autocorrelation, autocorrelationReward, C_MAJOR_RULES,
  musicTheoryRewardInto, NUM_RULES, newLeapState,
} from '../src/rules/rules.js';
import { measure, type Mode } from './measure.js';

const mode: Mode = process.argv.includes('--quick') ? 'quick' : 'full';
const STEPS = 32;
const rng = new Random(3);
const compositions = Array.from({ length: 200 }, () => Array.from({ length: STEPS }, () => rng.int(38)));
const calls = compositions.length * STEPS;

/** Rule 4 lag by lag (the peer). */
function autocorrelationRewardByLag(composition: number[], beat: number, action: number): number {
  let reward = 0;
  for (const lag of AUTOCORRELATION_LAGS) {
    const rho = Math.abs(autocorrelation(composition, beat, action, lag));
    if (rho > AUTOCORRELATION_THRESHOLD) reward -= AUTOCORRELATION_WEIGHT * rho;
  }
  return reward;
}

for (const c of compositions) {
  for (let beat = 0; beat < STEPS; beat++) {
    if (!Object.is(autocorrelationReward(c, beat, c[beat]), autocorrelationRewardByLag(c, beat, c[beat]))) throw new Error('rule 4 and its lag-by-lag peer disagree');
  }
}
const perRule = new Float64Array(NUM_RULES);
const cases: [string, () => void][] = [
  ['rule 4, lag by lag (peer)', () => { for (const c of compositions) for (let b = 0; b < STEPS; b++) autocorrelationRewardByLag(c, b, c[b]); }],
  ['rule 4 (autocorrelationReward)', () => { for (const c of compositions) for (let b = 0; b < STEPS; b++) autocorrelationReward(c, b, c[b]); }],
  ['all nine rules (musicTheoryRewardInto)', () => {
    for (const c of compositions) {
      const leap = newLeapState();
      for (let b = 0; b < STEPS; b++) musicTheoryRewardInto(perRule, c, b, c[b], leap, C_MAJOR_RULES);
    }
  }],
];
console.log(`| ${calls.toLocaleString('en')} steps of random 32-step compositions | per step |`);
console.log('|---|---:|');
for (const [name, run] of cases) {
  const t = measure(name, run, mode);
  console.log(`| ${name} | ${((t.medianMs * 1000) / calls).toFixed(3)} µs ±${t.rme.toFixed(1)}% |`);
}
