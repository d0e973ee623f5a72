// A lock held by another live process (needs the build in dist/: the holder is a second Node process).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCK_FILE, RunFolder, RunFolderRefusal, type ClaimOptions } from '../../src/node/run_folder.js';

const work = mkdtempSync(join(tmpdir(), 'rltuner-run-folder-lock-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const freshPath = () => join(work, 'run');

function options(): ClaimOptions & { notices: string[] } {
  const notices: string[] = [];
  return { kind: 'train', resume: false, overwrite: false, notice: (line) => notices.push(line), notices };
}

const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RunFolderRefusal);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('run folder locks across processes', () => {
  it('a lock held by a live process is refused; once that process is dead, it is taken over with a notice', async () => {
    const dir = freshPath();
    const module = new URL('../../dist/node/run_folder.js', import.meta.url).href;
    const script = `const { RunFolder } = await import(${JSON.stringify(module)});
      RunFolder.claim(process.env.RUN_DIR, { kind: 'train', resume: false, overwrite: false, notice() {} });
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, RUN_DIR: dir } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    await new Promise<void>((ready, fail) => {
      child.stdout.on('data', (d) => String(d).includes('ready') && ready());
      child.on('exit', () => fail(new Error(`the lock holder exited early: ${stderr}`)));
    });
    expect(refusal(() => RunFolder.claim(dir, options()))).toMatch(new RegExp(`another rltuner train \\(pid ${child.pid}\\) is using ${dir}`));
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL'); // no chance to release the lock
    await exited;
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(child.pid);
    const o = options();
    const folder = RunFolder.claim(dir, o);
    expect(o.notices).toContainEqual(`took over a lock left by process ${child.pid} (no longer running) in ${dir}`);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    folder.release();
  }, 20_000);
});
