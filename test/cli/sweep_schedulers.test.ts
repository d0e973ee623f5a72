// The job files in sweeps/examples/ run as written, in a simulation of each scheduler: no Slurm, Kubernetes
// or GitHub runner is here, so each file is checked by an offline tool of its ecosystem (bash -n; a YAML
// parse against the fields of the Kubernetes and Actions schemas it uses), then its own commands are run
// with the variables the scheduler would set, for every index, on sweeps/examples/tiny-plan.json; the table
// collected from the shards must equal the one-machine sweep's byte for byte.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { parseSweepPlan, planJobs } from '../../src/cli/sweep_plan.js';
import { parseShardFlag } from '../../src/cli/sweep_shard.js';
import { checkSchema, KUBERNETES_SCHEMAS, WORKFLOW_SCHEMA } from './job_file_schema.js';
import { CLI, rltunerSync } from '../support/cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLES = join(ROOT, 'sweeps', 'examples');
const PLAN = join(EXAMPLES, 'tiny-plan.json');
const PLAN_JOBS = planJobs(parseSweepPlan(readFileSync(PLAN, 'utf8'), PLAN));

/** The environment of a process no scheduler started: none of the variables --shard auto reads. */
function cleanEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('SLURM_') || k === 'JOB_COMPLETION_INDEX' || k.startsWith('RLTUNER_SHARD_') || k.startsWith('GITHUB_')) continue;
    env[k] = v;
  }
  return env;
}

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end without blocking the others (shards run side by side, as on a cluster). */
function runAsync(command: string, args: string[], options: { cwd: string; env: Record<string, string> }): Promise<Finished> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** The jobs `--shard <i>/<n>` runs (1-based i), as ids. */
function jobsOfShard(i: number, n: number): string[] {
  const shard = parseShardFlag(`${i}/${n}`);
  if (shard === 'auto') throw new Error('unreachable');
  return PLAN_JOBS.filter((_, k) => k % shard.count === shard.index).map((j) => `${j.config} seed ${j.seed}`);
}

/** The jobs a sweep's log says it ran ("done 1/2: q-s1 seed 1 in 0.3 s"). */
function jobsRun(log: string): string[] {
  return [...log.matchAll(/^done \d+\/\d+: (\S+ seed \d+) in /gm)].map((m) => m[1]).sort();
}

let root: string;
let reference: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rltuner-schedulers-'));
  const whole = rltunerSync(['sweep', PLAN, '--out', join(root, 'one-machine'), '--jobs', '1'], { env: cleanEnvironment() });
  expect(whole.code, whole.stderr).toBe(0);
  reference = readFileSync(join(root, 'one-machine', 'results.md'), 'utf8');
  expect(whole.stdout).toBe(reference);
  expect(reference).toContain('| q-s1 (2 runs) | psi-s4 (2 runs) |');
}, 60_000);

describe('Slurm: sweeps/examples/slurm', () => {
  const dir = join(EXAMPLES, 'slurm');
  const scripts = ['sweep-array.sbatch', 'sweep-collect.sbatch', 'submit.sh'];

  it('passes bash -n, and every #SBATCH line is in the header, where sbatch reads it', () => {
    for (const script of scripts) {
      const r = spawnSync('bash', ['-n', join(dir, script)], { encoding: 'utf8' });
      expect(r.status, `${script}: ${r.stderr}`).toBe(0);
      const lines = readFileSync(join(dir, script), 'utf8').split('\n');
      expect(lines[0]).toBe('#!/bin/bash');
      const firstCommand = lines.findIndex((l) => l.trim() !== '' && !l.startsWith('#'));
      const directives = lines.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('#SBATCH'));
      for (const [line, i] of directives) {
        expect(i, `${script}: "${line}" comes after the first command, so sbatch ignores it`).toBeLessThan(firstCommand);
        expect(line).toMatch(/^#SBATCH --[a-z-]+(=\S+)?$/);
      }
    }
    const array = readFileSync(join(dir, 'sweep-array.sbatch'), 'utf8');
    expect(array).toMatch(/^#SBATCH --array=1-4$/m);
    expect(array).toMatch(/^#SBATCH --nodes=1$/m);
    expect(array).toMatch(/^#SBATCH --exclusive$/m);
    expect(array).toMatch(/--shard auto --jobs "\$cores"/);
    expect(readFileSync(join(dir, 'submit.sh'), 'utf8')).toMatch(/--dependency="afterok:\$array_job"/);
  }, 30_000);

  // A stand-in for sbatch: runs an array's tasks side by side with the variables Slurm sets, each writing
  // to the file its #SBATCH --output names; a job with --dependency=afterok:<id> runs only if <id>
  // succeeded. Only the options submit.sh uses are accepted.
  const fakeSbatch = `#!${process.execPath}
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const stateFile = process.env.FAKE_SLURM_STATE;
const state = fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, 'utf8')) : { next: 4000, jobs: {} };
const args = process.argv.slice(2);
let parsable = false, array, dependency, i = 0;
for (; i < args.length && args[i].startsWith('--'); i++) {
  const a = args[i];
  if (a === '--parsable') parsable = true;
  else if (a.startsWith('--array=')) array = a.slice(8);
  else if (a.startsWith('--dependency=')) dependency = a.slice(13);
  else { console.error('fake sbatch: option not simulated: ' + a); process.exit(1); }
}
const script = args[i], scriptArgs = args.slice(i + 1);
const text = fs.readFileSync(script, 'utf8');
const directive = (name) => { const m = new RegExp('^#SBATCH --' + name + '=(\\\\S+)$', 'm').exec(text); return m ? m[1] : undefined; };
array = array ?? directive('array');
const id = state.next++;
const save = () => fs.writeFileSync(stateFile, JSON.stringify(state));
state.jobs[id] = 'pending';
save();
if (parsable) console.log(id); else console.log('Submitted batch job ' + id);
let tasks = [null];
let range = null;
if (array) {
  const m = /^(\\d+)-(\\d+)(?::(\\d+))?(?:%\\d+)?$/.exec(array);
  if (!m) { console.error('fake sbatch: array not simulated: ' + array); process.exit(1); }
  const lo = +m[1], hi = +m[2], step = +(m[3] ?? 1);
  tasks = [];
  for (let t = lo; t <= hi; t += step) tasks.push(t);
  range = { min: lo, max: tasks[tasks.length - 1], step, count: tasks.length };
}
const go = dependency === undefined || (/^afterok:(\\d+)$/.test(dependency) && state.jobs[dependency.slice(8)] === 'ok');
if (!go) { state.jobs[id] = 'never run (dependency ' + dependency + ' not satisfied)'; save(); process.exit(0); }
const name = directive('job-name') ?? path.basename(script);
const runs = tasks.map((t) => new Promise((done) => {
  const env = { ...process.env, SLURM_JOB_ID: String(t === null ? id : id + 1 + tasks.indexOf(t)), SLURM_JOB_NAME: name, SLURM_CPUS_ON_NODE: '1', SLURM_SUBMIT_DIR: process.cwd() };
  if (t !== null) Object.assign(env, { SLURM_ARRAY_JOB_ID: String(id), SLURM_ARRAY_TASK_ID: String(t), SLURM_ARRAY_TASK_MIN: String(range.min), SLURM_ARRAY_TASK_MAX: String(range.max), SLURM_ARRAY_TASK_STEP: String(range.step), SLURM_ARRAY_TASK_COUNT: String(range.count) });
  const out = (directive('output') ?? 'slurm-%j.out').replace(/%A/g, id).replace(/%a/g, String(t)).replace(/%j/g, env.SLURM_JOB_ID).replace(/%x/g, name);
  const fd = fs.openSync(path.resolve(out), 'w');
  const child = spawn('bash', [script, ...scriptArgs], { env, stdio: ['ignore', fd, fd] });
  child.on('close', (code) => { fs.closeSync(fd); done(code); });
}));
Promise.all(runs).then((codes) => {
  const s = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  s.jobs[id] = codes.every((c) => c === 0) ? 'ok' : 'failed: exit codes ' + codes.join(',');
  fs.writeFileSync(stateFile, JSON.stringify(s));
});
`;

  for (const [label, spec] of [['ids 1..n', '1-3'], ['ids 0..n-1', '0-2'], ['ids with a step', '1-5:2']] as const) {
    it(`submit.sh with --array=${spec} (${label}): each task runs the slice --shard i/n gives, and the collect job's table is the one-machine sweep's`, async () => {
      const work = join(root, `slurm-${spec.replace(/[^0-9]/g, '_')}`);
      const bin = join(work, 'bin');
      mkdirSync(bin, { recursive: true });
      writeFileSync(join(bin, 'sbatch'), fakeSbatch);
      writeFileSync(join(bin, 'rltuner'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
      chmodSync(join(bin, 'sbatch'), 0o755);
      chmodSync(join(bin, 'rltuner'), 0o755);
      const env = { ...cleanEnvironment(), PATH: `${bin}:${process.env.PATH}`, FAKE_SLURM_STATE: join(work, 'slurm-state.json') };
      const submitted = await runAsync('bash', [join(dir, 'submit.sh'), PLAN, join(work, 'shared', 'sweep'), spec], { cwd: work, env });
      expect(submitted.code, submitted.stderr).toBe(0);
      expect(submitted.stdout).toMatch(/^shards: job array 4000 \(--array=.*\); collect: job 4001, once every shard has succeeded$/m);
      const state = JSON.parse(readFileSync(join(work, 'slurm-state.json'), 'utf8'));
      expect(state.jobs).toEqual({ 4000: 'ok', 4001: 'ok' });

      const [lo, hi, step] = spec.split(/[-:]/).map(Number).concat(1).slice(0, 3);
      const ids = Array.from({ length: Math.floor((hi - lo) / step) + 1 }, (_, k) => lo + k * step);
      for (const [k, id] of ids.entries()) {
        const log = readFileSync(join(work, `rltuner-sweep-4000_${id}.out`), 'utf8');
        expect(log).toContain(`--shard auto: shard ${k + 1}/${ids.length}, from the Slurm job array: SLURM_ARRAY_TASK_ID=${id} in ${lo}-${hi}${step > 1 ? `:${step}` : ''} (${ids.length} tasks)`);
        expect(jobsRun(log)).toEqual(jobsOfShard(k + 1, ids.length).sort());
      }
      const collectLog = readFileSync(join(work, 'rltuner-sweep-collect-4001.out'), 'utf8');
      expect(collectLog).toContain(`= 4 jobs in ${ids.length} shards`);
      expect(collectLog).toContain('all: 4 finished, 0 running, 0 stopped, 0 missing of 4 jobs');
      expect(collectLog.endsWith(reference)).toBe(true);
      const collected = readFileSync(join(work, 'shared', 'sweep', 'results.md'), 'utf8');
      expect(collected).toBe(reference);
      console.log(`slurm --array=${spec}: results.md sha256 ${sha(collected)}, one machine ${sha(reference)}: ${collected === reference ? 'byte-identical' : 'DIFFERENT'}`);
    }, 90_000);
  }
});

/** Kubernetes' $(VAR) expansion of a container's args from its env. */
function expandArgs(args: string[], env: Record<string, string>): string[] {
  return args.map((a) => a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole));
}

/** A path inside a container, mapped onto the folders that stand in for its volumes. */
function mapMounts(arg: string, mounts: { mountPath: string; host: string }[]): string {
  for (const m of mounts) if (arg === m.mountPath || arg.startsWith(`${m.mountPath}/`)) return m.host + arg.slice(m.mountPath.length);
  return arg;
}

describe('Kubernetes: sweeps/examples/kubernetes', () => {
  const dir = join(EXAMPLES, 'kubernetes');
  type Doc = { kind: string; metadata: { name: string }; spec?: any; data?: Record<string, string> };
  const load = (file: string): Doc[] => {
    const docs = parseAllDocuments(readFileSync(join(dir, file), 'utf8'));
    for (const d of docs) expect(d.errors.map((e) => e.message), file).toEqual([]);
    return docs.map((d) => d.toJS() as Doc);
  };

  it('the Dockerfile builds from node:20-slim with npm ci, and its entrypoint is the built CLI', () => {
    const text = readFileSync(join(dir, 'Dockerfile'), 'utf8');
    const instructions = text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    expect(instructions[0]).toBe('FROM node:20-slim');
    for (const line of instructions) expect(line).toMatch(/^(FROM|WORKDIR|COPY|RUN|ENTRYPOINT|ENV) /);
    expect(instructions).toContain('RUN npm ci --no-audit --no-fund');
    const workdir = /^WORKDIR (\S+)$/m.exec(text)![1];
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(text)![1]) as string[];
    expect(entrypoint).toEqual(['node', `${workdir}/dist/cli.js`]);
    // npm ci runs `prepare`, which must build dist/cli.js.
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.prepare).toBe('npm run build');
    const ignored = readFileSync(join(dir, 'Dockerfile.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'runs']));
    for (const needed of ['package.json', 'package-lock.json', 'assembly', 'src', 'models']) expect(ignored).not.toContain(needed);
  }, 30_000);

  it('the manifests parse as YAML and hold only Job, ConfigMap and PersistentVolumeClaim fields of the right types, consistently', () => {
    const docs = [...load('sweep.yaml'), ...load('collect.yaml')];
    for (const doc of docs) {
      const schema = KUBERNETES_SCHEMAS[doc.kind];
      expect(schema, `kind ${doc.kind}`).toBeDefined();
      expect(checkSchema(doc, schema), `${doc.kind} ${doc.metadata?.name}`).toEqual([]);
    }
    const [configMap, claim, sweepJob] = load('sweep.yaml');
    const [collectJob] = load('collect.yaml');
    expect([configMap.kind, claim.kind, sweepJob.kind, collectJob.kind]).toEqual(['ConfigMap', 'PersistentVolumeClaim', 'Job', 'Job']);
    // The ConfigMap holds the tiny plan, valid as a plan.
    expect(JSON.parse(configMap.data!['plan.json'])).toEqual(JSON.parse(readFileSync(PLAN, 'utf8')));
    expect(claim.spec.accessModes).toEqual(['ReadWriteMany']);
    expect(sweepJob.spec.completionMode).toBe('Indexed');
    expect(sweepJob.spec.parallelism).toBeLessThanOrEqual(sweepJob.spec.completions);
    for (const job of [sweepJob, collectJob]) {
      const pod = job.spec.template.spec;
      const volumes = new Map<string, any>(pod.volumes.map((v: any) => [v.name, v]));
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        expect(c.image).toBe('rltuner:latest');
        expect(c.args[0]).toBe('sweep');
        for (const m of c.volumeMounts) expect(volumes.has(m.name), `volume ${m.name}`).toBe(true);
        for (const e of c.env ?? []) if (e.valueFrom) expect(e.valueFrom.resourceFieldRef.containerName).toBe(c.name);
      }
      for (const v of volumes.values()) {
        if (v.configMap) expect(v.configMap.name).toBe(configMap.metadata.name);
        if (v.persistentVolumeClaim) expect(v.persistentVolumeClaim.claimName).toBe(claim.metadata.name);
      }
    }
    const shard = sweepJob.spec.template.spec.containers[0];
    // A pod is told its index, not the count: RLTUNER_SHARD_COUNT must be the Job's completions.
    expect(shard.env.find((e: any) => e.name === 'RLTUNER_SHARD_COUNT').value).toBe(String(sweepJob.spec.completions));
    expect(shard.args).toEqual(expect.arrayContaining(['--shard', 'auto']));
  }, 30_000);

  it('every index of the indexed Job, then the collect Job, run with the pods\' environment: the one-machine sweep\'s table', async () => {
    const [configMap, , sweepJob] = load('sweep.yaml');
    const [collectJob] = load('collect.yaml');
    const dockerfile = readFileSync(join(dir, 'Dockerfile'), 'utf8');
    const workdir = /^WORKDIR (\S+)$/m.exec(dockerfile)![1];
    const entrypoint = (JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]) as string[]).map((a) => (a.startsWith(`${workdir}/`) ? join(ROOT, a.slice(workdir.length + 1)) : a));
    expect(entrypoint).toEqual(['node', CLI]);
    const work = join(root, 'kubernetes');
    // The volumes: the ConfigMap's keys as files, and the claim as an empty folder shared by every pod.
    const volumeHost = (v: any): string => {
      const host = join(work, 'volumes', v.name);
      if (!existsSync(host)) {
        mkdirSync(host, { recursive: true });
        if (v.configMap) for (const [key, value] of Object.entries(configMap.data!)) writeFileSync(join(host, key), value);
      }
      return host;
    };
    const runPod = async (pod: any, extraEnv: Record<string, string>): Promise<Finished[]> => {
      const volumes = new Map<string, any>(pod.volumes.map((v: any) => [v.name, v]));
      const results: Finished[] = [];
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        const env: Record<string, string> = { ...cleanEnvironment(), ...extraEnv };
        for (const e of c.env ?? []) {
          if (e.value !== undefined) env[e.name] = e.value;
          else {
            const ref = e.valueFrom.resourceFieldRef;
            const [kind, resource] = ref.resource.split('.');
            env[e.name] = String(Math.ceil(Number(c.resources[kind][resource]) / Number(ref.divisor ?? 1)));
          }
        }
        const mounts = c.volumeMounts.map((m: any) => ({ mountPath: m.mountPath, host: volumeHost(volumes.get(m.name)) }));
        const args = expandArgs(c.args, env).map((a) => mapMounts(a, mounts));
        const r = await runAsync(process.execPath, [...entrypoint.slice(1), ...args], { cwd: work, env });
        results.push(r);
        if (r.code !== 0) break;
      }
      return results;
    };
    mkdirSync(work, { recursive: true });
    const completions = sweepJob.spec.completions as number;
    const pods = await Promise.all(Array.from({ length: completions }, (_, i) => runPod(sweepJob.spec.template.spec, { JOB_COMPLETION_INDEX: String(i) })));
    pods.forEach(([pod], i) => {
      expect(pod.code, pod.stderr).toBe(0);
      expect(pod.stderr).toContain(`--shard auto: shard ${i + 1}/${completions}, from the Kubernetes indexed Job: JOB_COMPLETION_INDEX=${i}, RLTUNER_SHARD_COUNT=${completions}`);
      expect(jobsRun(pod.stderr)).toEqual(jobsOfShard(i + 1, completions).sort());
    });
    const [status, collect] = await runPod(collectJob.spec.template.spec, {});
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`= 4 jobs in ${completions} shards`);
    expect(collect.code, collect.stderr).toBe(0);
    expect(collect.stdout).toBe(reference);
    const collected = readFileSync(join(work, 'volumes', 'sweeps', 'tiny-plan', 'results.md'), 'utf8');
    expect(collected).toBe(reference);
    console.log(`kubernetes indexed Job (${completions} pods): results.md sha256 ${sha(collected)}, one machine ${sha(reference)}: ${collected === reference ? 'byte-identical' : 'DIFFERENT'}`);
  }, 90_000);
});

describe('GitHub Actions: sweeps/examples/github-actions/sweep.yml', () => {
  const file = join(EXAMPLES, 'github-actions', 'sweep.yml');
  const workflow = () => parseYaml(readFileSync(file, 'utf8')) as any;

  it('parses as YAML with the keys Actions requires, known step keys, and expressions that name what exists', () => {
    const w = workflow();
    expect(checkSchema(w, WORKFLOW_SCHEMA)).toEqual([]);
    const jobs = Object.keys(w.jobs);
    for (const [name, job] of Object.entries<any>(w.jobs)) {
      for (const need of [job.needs ?? []].flat()) expect(jobs, `${name} needs ${need}`).toContain(need);
      job.steps.forEach((s: any, i: number) => expect(Number('uses' in s) + Number('run' in s), `${name} step ${i}: exactly one of uses and run`).toBe(1));
      const text = JSON.stringify(job);
      for (const [, expression] of text.matchAll(/\$\{\{\s*(.*?)\s*\}\}/g)) {
        const m = /^(matrix|strategy|inputs)\.([A-Za-z_][A-Za-z0-9_-]*)$/.exec(expression);
        expect(m, `${name}: expression ${expression}`).not.toBeNull();
        if (m![1] === 'matrix') expect(Object.keys(job.strategy?.matrix ?? {})).toContain(m![2]);
        if (m![1] === 'strategy') expect(['job-total', 'job-index']).toContain(m![2]);
        if (m![1] === 'inputs') expect(Object.keys(w.on.workflow_dispatch.inputs)).toContain(m![2]);
      }
    }
    expect(w.jobs.collect.needs).toBe('shard');
    expect(existsSync(join(ROOT, w.on.workflow_dispatch.inputs.plan.default))).toBe(true);
  }, 30_000);

  it('every matrix entry, then the collect job, run their steps as a runner would: the one-machine sweep\'s table', async () => {
    const w = workflow();
    const work = join(root, 'github');
    const inputs = Object.fromEntries(Object.entries<any>(w.on.workflow_dispatch.inputs).map(([k, v]) => [k, String(v.default)]));
    const artifacts = join(work, 'artifacts');
    /** The workspace after actions/checkout: the repository, already built (npm ci is not rerun here). */
    const checkout = (name: string): string => {
      const ws = join(work, name);
      mkdirSync(ws, { recursive: true });
      for (const entry of ['dist', 'models', 'sweeps', 'package.json']) symlinkSync(join(ROOT, entry), join(ws, entry));
      return ws;
    };
    const runJob = async (job: any, context: { matrix: Record<string, unknown>; index: number; total: number }, ws: string): Promise<string[]> => {
      const expand = (text: string) => text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, e: string) => {
        const [scope, key] = e.split('.');
        const value = scope === 'matrix' ? context.matrix[key] : scope === 'inputs' ? inputs[key] : key === 'job-total' ? context.total : context.index;
        if (value === undefined) throw new Error(`expression ${e} has no value`);
        return String(value);
      });
      const logs: string[] = [];
      for (const step of job.steps) {
        if (step.uses) {
          const [action] = step.uses.split('@');
          const withs = Object.fromEntries(Object.entries<any>(step.with ?? {}).map(([k, v]) => [k, expand(String(v))]));
          if (action === 'actions/checkout' || action === 'actions/setup-node') continue;
          if (action === 'actions/upload-artifact') {
            // v4 leaves out hidden files (.rltuner-run.json, .rltuner.lock) unless include-hidden-files is set.
            const to = join(artifacts, withs.name);
            const paths = withs.path.split('\n').map((p: string) => p.trim()).filter(Boolean);
            for (const path of paths) {
              const from = join(ws, path);
              // One folder: its contents are the artifact; several paths: each under its path.
              const dest = paths.length === 1 && statSync(from).isDirectory() ? to : join(to, path);
              cpSync(from, dest, { recursive: true, filter: (src) => !relative(from, src).split(sep).some((part) => part.startsWith('.')) });
            }
            continue;
          }
          if (action === 'actions/download-artifact') {
            // With a pattern and without merge-multiple, each artifact lands in <path>/<its name>/.
            const pattern = new RegExp(`^${withs.pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
            for (const name of readdirSync(artifacts).filter((n) => pattern.test(n))) cpSync(join(artifacts, name), join(ws, withs.path, name), { recursive: true });
            continue;
          }
          throw new Error(`action not simulated: ${step.uses}`);
        }
        if (/^npm ci\b/.test(step.run)) continue; // done once for this repository already
        const env: Record<string, string> = { ...cleanEnvironment(), GITHUB_STEP_SUMMARY: join(ws, 'step-summary.md') };
        for (const [k, v] of Object.entries<any>(step.env ?? {})) env[k] = expand(String(v));
        // Actions runs `run` with bash --noprofile --norc -eo pipefail.
        const r = await runAsync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', expand(step.run)], { cwd: ws, env });
        expect(r.code, `${step.name ?? step.run}: ${r.stderr}`).toBe(0);
        logs.push(r.stdout + r.stderr);
      }
      return logs;
    };
    const matrix = w.jobs.shard.strategy.matrix as Record<string, unknown[]>;
    const entries = matrix.shard.map((shard) => ({ shard }));
    const shardLogs = await Promise.all(entries.map((m, i) => runJob(w.jobs.shard, { matrix: m, index: i, total: entries.length }, checkout(`shard-${i}`))));
    shardLogs.forEach((logs, i) => {
      const log = logs.join('');
      expect(log).toContain(`--shard auto: shard ${i + 1}/${entries.length}, from the generic pair: RLTUNER_SHARD_INDEX=${i}, RLTUNER_SHARD_COUNT=${entries.length}`);
      expect(jobsRun(log)).toEqual(jobsOfShard(i + 1, entries.length).sort());
    });
    const collectWs = checkout('collect');
    const [statusLog] = await runJob(w.jobs.collect, { matrix: {}, index: 0, total: 1 }, collectWs);
    expect(statusLog).toContain(`= 4 jobs in ${entries.length} shards`);
    expect(statusLog).toContain('all: 4 finished, 0 running, 0 stopped, 0 missing of 4 jobs');
    const collected = readFileSync(join(artifacts, 'sweep-results', 'results.md'), 'utf8');
    expect(collected).toBe(reference);
    expect(readFileSync(join(collectWs, 'step-summary.md'), 'utf8')).toBe(reference);
    console.log(`github actions matrix (${entries.length} runners, one artifact each): results.md sha256 ${sha(collected)}, one machine ${sha(reference)}: ${collected === reference ? 'byte-identical' : 'DIFFERENT'}`);
  }, 90_000);
});
