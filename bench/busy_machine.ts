/**
 * Whether a second thread pays when the machine is busy: whole commands (a tune, a train, an evaluate) on
 * `--threads 1` and `--threads 2`, alternating, first on an otherwise idle machine, then with one competing
 * process (a second `tune` of the default preset, restarted whenever it ends) running beside them. Wall and
 * CPU time per run (from /usr/bin/time when present), medians per case. The thread count a command uses by
 * default should be the one that is no slower in the busy rows.
 *
 *   npm run build && npx tsc -p bench/tsconfig.json && node dist-bench/bench/busy_machine.js [--pairs 3] [--only tune,train,evaluate]
 *
 * Writes dist-bench/busy-machine.json and prints a Markdown table. Nothing else may run on the machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist', 'cli.js');
const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const pairs = Number(flag('pairs') ?? 3);
const only = (flag('only') ?? 'tune,train,evaluate').split(',');
const work = mkdtempSync(join(tmpdir(), 'rltuner-busy-'));
const nottingham = join(root, 'data', 'nottingham');

/** The commands timed (each writes into a fresh folder under `work`). */
const COMMANDS: Record<string, (out: string) => string[]> = {
  tune: (out) => ['tune', '--training-steps', '100000', '--eval-every', '0', '--eval-compositions', '1000', '--quiet', '--out', out],
  train: (out) => ['train', '--nottingham', nottingham, '--epochs', '2', '--no-baselines', '--quiet', '--out', out],
  evaluate: () => ['evaluate', '--count', '10000', '--quiet'],
};

interface Run {
  command: string;
  threads: number;
  busy: boolean;
  wall: number;
  user: number;
  sys: number;
}

const hasTime = existsSync('/usr/bin/time');
let runCount = 0;

/** Runs one command to its end: wall, user and system seconds. */
function timed(commandArgs: string[]): Promise<{ wall: number; user: number; sys: number }> {
  const report = join(work, `time-${++runCount}.txt`);
  const argv = hasTime ? ['/usr/bin/time', '-f', '%e %U %S', '-o', report, process.execPath, cli, ...commandArgs] : [process.execPath, cli, ...commandArgs];
  const started = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('exit', async (code) => {
      if (code !== 0) return fail(new Error(`${commandArgs.join(' ')} exited ${code}: ${stderr}`));
      const wall = (performance.now() - started) / 1000;
      if (!hasTime) return done({ wall, user: NaN, sys: NaN });
      const { readFileSync } = await import('node:fs');
      const [, user, sys] = readFileSync(report, 'utf8').trim().split(/\s+/).slice(-3).map(Number);
      done({ wall, user, sys });
    });
  });
}

/** A second tune running beside the timed runs, restarted whenever it ends; stop() ends it. */
function competitor(): { stop(): Promise<void> } {
  let child: ChildProcess | null = null;
  let stopped = false;
  let n = 0;
  const start = () => {
    if (stopped) return;
    const out = join(work, `competitor-${++n}`);
    child = spawn(process.execPath, [cli, 'tune', '--quiet', '--eval-compositions', '0', '--out', out], { cwd: work, stdio: 'ignore' });
    child.on('exit', () => {
      rmSync(out, { recursive: true, force: true });
      start();
    });
  };
  start();
  return {
    stop: () => new Promise((done) => {
      stopped = true;
      if (!child || child.exitCode !== null) return done();
      child.on('exit', () => done());
      child.kill('SIGKILL');
    }),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const runs: Run[] = [];
  for (const busy of [false, true]) {
    const other = busy ? competitor() : null;
    if (busy) await new Promise((r) => setTimeout(r, 3000)); // let the competitor get going
    for (const command of only) {
      for (let p = 0; p < pairs; p++) {
        // Alternate the sides: 1 then 2, then 2 then 1.
        for (const threads of p % 2 === 0 ? [1, 2] : [2, 1]) {
          const out = join(work, `${command}-${busy ? 'busy' : 'idle'}-${threads}-${p}`);
          const t = await timed([...COMMANDS[command](out), '--threads', String(threads)]);
          runs.push({ command, threads, busy, ...t });
          rmSync(out, { recursive: true, force: true });
          process.stderr.write(`${command} ${busy ? 'busy' : 'idle'} threads ${threads}: ${t.wall.toFixed(2)} s wall, ${t.user.toFixed(2)} s user\n`);
        }
      }
    }
    await other?.stop();
  }
  const lines = ['| command | machine | threads | wall (median [min–max]) | user CPU (median) | runs |', '|---|---|---:|---|---:|---:|'];
  for (const command of only) {
    for (const busy of [false, true]) {
      for (const threads of [1, 2]) {
        const rs = runs.filter((r) => r.command === command && r.busy === busy && r.threads === threads);
        const walls = rs.map((r) => r.wall);
        lines.push(`| ${command} | ${busy ? 'busy (a second tune beside it)' : 'idle'} | ${threads} | ${median(walls).toFixed(2)} s [${Math.min(...walls).toFixed(2)}–${Math.max(...walls).toFixed(2)}] | ${median(rs.map((r) => r.user)).toFixed(2)} s | ${rs.length} |`);
      }
    }
  }
  const table = lines.join('\n');
  process.stdout.write(`${table}\n`);
  mkdirSync(join(root, 'dist-bench'), { recursive: true });
  writeFileSync(join(root, 'dist-bench', 'busy-machine.json'), `${JSON.stringify({ pairs, commands: only, runs }, null, 1)}\n`);
  rmSync(work, { recursive: true, force: true });
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exitCode = 1;
});
