/**
 * Sums a V8 CPU profile (`node --cpu-prof --cpu-prof-dir=<dir> dist/cli.js tune ...`): the functions with
 * the most time of their own, the time spent idle (the event loop waiting, e.g. for a file write), and the
 * time under each function named on the command line (its calls and theirs).
 *
 *   node dist-bench/bench/cpu_profile_summary.js <file.cpuprofile> [function name ...]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, ...named] = process.argv.slice(2);
if (!file) {
  console.error('usage: node dist-bench/bench/cpu_profile_summary.js <file.cpuprofile> [function name ...]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
const label = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;

const own = new Map<string, number>();
const under = new Map<string, number>(named.map((name) => [name, 0]));
let totalUs = 0;
profile.samples.forEach((id, i) => {
  // A sample's delta is the time until the next sample: that time is the sampled node's.
  const us = profile.timeDeltas[i + 1] ?? 0;
  totalUs += us;
  const node = nodes.get(id)!;
  own.set(label(node), (own.get(label(node)) ?? 0) + us);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const name = nodes.get(at)!.callFrame.functionName;
    if (under.has(name) && !seen.has(name)) {
      seen.add(name);
      under.set(name, under.get(name)! + us);
    }
  }
});

const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
console.log(`${file}: ${(totalUs / 1e6).toFixed(2)} s sampled`);
console.log('\nown time, top 25:');
for (const [name, us] of [...own].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${ms(us)} ${((100 * us) / totalUs).toFixed(1).padStart(5)} %  ${name}`);
for (const [name, us] of own) if (name.startsWith('(idle)')) console.log(`\nidle: ${ms(us).trim()}`);
if (named.length) {
  console.log('\ntime under each named function:');
  for (const [name, us] of under) console.log(`${ms(us)}  ${name}`);
}
