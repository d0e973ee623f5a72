/**
 * The sweep-plan family for the runner: the plan generator and contract of test/fuzz/sweep_plan_family.ts
 * (sweep plans through parseSweepPlan, src/cli/sweep_plan.ts), as a FuzzFamily. A broken contract becomes
 * a FuzzFailure naming the input.
 */
import { Random } from '../../../src/random.js';
import type { FuzzFamily, FuzzInput } from '../runner.js';
import { FuzzFailure } from '../runner.js';
import { loadSweepPlanSeeds, sweepPlanFamily, type SweepPlanFuzzInput } from '../sweep_plan_family.js';

export const sweepPlanFuzzFamily: FuzzFamily<SweepPlanFuzzInput> = {
  name: 'sweep-plan',
  description: 'sweep plan files (rltuner sweep <plan.json>) through parseSweepPlan',
  accepted: 'plan',
  inputs(random: Random, repositoryRoot: string) {
    const family = sweepPlanFamily(random, loadSweepPlanSeeds(repositoryRoot));
    return (): FuzzInput<SweepPlanFuzzInput> => {
      const input = family.next();
      return { index: input.index, name: input.name, seedName: input.mutations[0] ?? 'seed', mutations: input.mutations, value: input, size: input.bytes.length };
    };
  },
  check(input) {
    const family = sweepPlanFamily(new Random(0), [{ name: 'checker', text: '{}' }]); // check reads only its input
    try {
      return family.check(input.value);
    } catch (e) {
      throw new FuzzFailure(input, (e as Error).message);
    }
  },
  files: (input) => ({ [input.value.name]: input.value.bytes }),
  // A plan's work grows with its configs (each resolved as tune would), not its bytes: the bound holds.
  timeBoundMs: () => 1000,
};
