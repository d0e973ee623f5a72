import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CHECKPOINT_FILE, LOCK_FILE, RUN_MARKER_FILE, RunFileError, RunFolder, RunFolderRefusal, writeFileAtomic, type ClaimOptions,
} from '../../src/node/run_folder.js';

const work = mkdtempSync(join(tmpdir(), 'rltuner-run-folder-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let folderCount = 0;
const freshPath = () => join(work, `run${++folderCount}`);

function options(overrides: Partial<ClaimOptions> = {}): ClaimOptions & { notices: string[] } {
  const notices: string[] = [];
  return { kind: 'train', resume: false, overwrite: false, notice: (line) => notices.push(line), notices, ...overrides };
}

/** A folder holding a finished, resumable train run (claimed and released). */
function previousRun(): string {
  const dir = freshPath();
  const folder = RunFolder.claim(dir, options());
  folder.writeAtomic(CHECKPOINT_FILE, 'weights');
  folder.writeAtomic('note_rnn.safetensors', 'model');
  folder.appendJsonLine('metrics.jsonl', { epoch: 1 });
  folder.release();
  return dir;
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

describe('run folders', () => {
  it("refuses '' and blanks, which would write into the current folder", () => {
    expect(refusal(() => RunFolder.claim('', options()))).toMatch(/--out '' would write into the current folder; name a run folder/);
    expect(refusal(() => RunFolder.claim('  ', options()))).toMatch(/--out ''/);
  });

  it('a new run takes a missing or empty folder, marks it and locks it until released', () => {
    const dir = freshPath();
    const folder = RunFolder.claim(dir, options());
    expect(folder.dir).toBe(dir);
    const marker = JSON.parse(readFileSync(join(dir, RUN_MARKER_FILE), 'utf8'));
    expect(marker).toMatchObject({ format: 'rltuner-run-folder', version: 2, kind: 'train', files: [], folders: [] });
    expect(marker.runId).toMatch(/^[0-9a-f-]{36}$/);
    const lock = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));
    expect(lock).toMatchObject({ pid: process.pid, kind: 'train' });
    expect(typeof lock.hostname).toBe('string');
    expect(Number.isNaN(Date.parse(lock.started))).toBe(false);
    // The same process cannot claim it twice either.
    expect(refusal(() => RunFolder.claim(dir, options()))).toMatch(new RegExp(`another rltuner train \\(pid ${process.pid}\\) is using ${dir}`));
    folder.release();
    folder.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const empty = freshPath();
    mkdirSync(empty);
    RunFolder.claim(empty, options()).release();
    expect(() => folder.path('../elsewhere')).toThrow(/does not name a file inside/);
  });

  it("a non-empty folder is refused, naming it and what it holds; --overwrite removes only a run's own files", () => {
    const users = freshPath();
    mkdirSync(users);
    writeFileSync(join(users, 'thesis.tex'), 'mine');
    expect(refusal(() => RunFolder.claim(users, options()))).toMatch(new RegExp(`${users} is not empty: it holds thesis\\.tex; choose --out <new folder>`));
    expect(refusal(() => RunFolder.claim(users, options({ overwrite: true })))).toMatch(/--overwrite: .* was not started by an rltuner train run \(no \.rltuner-run\.json\), so none of what it holds \(thesis\.tex\) is provably rltuner's; nothing was removed/);
    expect(readFileSync(join(users, 'thesis.tex'), 'utf8')).toBe('mine');
    expect(existsSync(join(users, LOCK_FILE))).toBe(false); // released on refusal

    const finished = previousRun();
    expect(refusal(() => RunFolder.claim(finished, options()))).toMatch(/already holds a run of rltuner train \(checkpoint\.safetensors, metrics\.jsonl, note_rnn\.safetensors\); pass --resume to continue it/);
    // A tune run is not ours to resume or replace.
    expect(refusal(() => RunFolder.claim(finished, options({ kind: 'tune', resume: true })))).toMatch(/holds an rltuner train run, not an rltuner tune run/);
    const o = options({ overwrite: true });
    const folder = RunFolder.claim(finished, o);
    expect(o.notices.join('\n')).toMatch(/--overwrite: removed the previous rltuner train run .*checkpoint\.safetensors/);
    expect(readdirSync(finished).sort()).toEqual([LOCK_FILE, RUN_MARKER_FILE].sort());
    folder.release();
    expect(refusal(() => RunFolder.claim(previousRun(), options({ overwrite: true, resume: true })))).toMatch(/pass only one of them/);
  });

  /** Writes `files` (relative path -> text) under a new folder; returns the folder. */
  function folderHolding(files: Record<string, string>): string {
    const dir = freshPath();
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return dir;
  }
  const snapshot = (dir: string) => {
    const out: Record<string, string> = {};
    const walk = (rel: string) => {
      for (const name of readdirSync(join(dir, rel)).sort()) {
        const child = rel ? `${rel}/${name}` : name;
        if (existsSync(join(dir, child)) && readdirSync(join(dir, rel), { withFileTypes: true }).find((e) => e.name === name)!.isDirectory()) walk(child);
        else out[child] = readFileSync(join(dir, child), 'utf8');
      }
    };
    walk('');
    return out;
  };

  it("--overwrite removes nothing from a folder no run of ours started, whatever its files are called", () => {
    // The user's own files under the names rltuner's runs use, with no marker, or an old marker without a manifest.
    const named = {
      'config.json': '{"mine": true}', 'evaluation.md': '# my notes', 'metrics.jsonl': '{"mine":1}\n', 'samples/lead_1.mid': 'MThd',
      'note_rnn.safetensors': 'my model', [CHECKPOINT_FILE]: 'my checkpoint',
    };
    for (const marker of [null, '{"kind":"train"}\n', '{"kind":"tune"}\n', 'not json']) {
      for (const kind of ['train', 'tune'] as const) {
        const dir = folderHolding(marker === null ? named : { ...named, [RUN_MARKER_FILE]: marker });
        const before = snapshot(dir);
        expect(refusal(() => RunFolder.claim(dir, options({ kind, overwrite: true })))).toMatch(new RegExp(`--overwrite: ${dir} was not started by an rltuner ${kind} run .*nothing was removed`));
        expect(snapshot(dir)).toEqual(before);
      }
    }
  });

  it('--overwrite removes exactly the files and folders in the run\'s manifest, and refuses when anything else is there', () => {
    const dir = freshPath();
    const run = RunFolder.claim(dir, options({ kind: 'tune' }));
    run.writeAtomic('config.json', '{}');
    run.writeAtomic('samples/g_1.mid', 'MThd');
    run.appendJsonLine('metrics.jsonl', { step: 1 });
    run.release();
    const marker = JSON.parse(readFileSync(join(dir, RUN_MARKER_FILE), 'utf8'));
    expect(marker.files).toEqual(['config.json', 'samples/g_1.mid', 'metrics.jsonl']);
    expect(marker.folders).toEqual(['samples']);

    // A file of the user's beside them, even under a name a run writes, keeps the whole folder as it is.
    for (const extra of ['samples/lead_1.mid', 'evaluation.md', 'notes/mine.txt']) {
      mkdirSync(join(dir, extra, '..'), { recursive: true });
      writeFileSync(join(dir, extra), 'mine');
      const before = snapshot(dir);
      expect(refusal(() => RunFolder.claim(dir, options({ kind: 'tune', overwrite: true })))).toMatch(/holds things its rltuner tune run did not write .*nothing was removed/);
      expect(snapshot(dir)).toEqual(before);
      rmSync(join(dir, extra));
      if (extra.startsWith('notes/')) rmSync(join(dir, 'notes'), { recursive: true });
    }
    // Another kind's run is not ours to replace either.
    expect(refusal(() => RunFolder.claim(dir, options({ kind: 'train', overwrite: true })))).toMatch(/the \.rltuner-run\.json of an rltuner tune run/);
    const o = options({ kind: 'tune', overwrite: true });
    const again = RunFolder.claim(dir, o);
    expect(readdirSync(dir).sort()).toEqual([LOCK_FILE, RUN_MARKER_FILE].sort());
    const fresh = JSON.parse(readFileSync(join(dir, RUN_MARKER_FILE), 'utf8'));
    expect(fresh.runId).not.toBe(marker.runId);
    expect(fresh.files).toEqual([]);
    again.release();
  });

  it('a run resumed from an older marker without a manifest lists what it writes from then on', () => {
    const dir = folderHolding({ [CHECKPOINT_FILE]: 'weights', [RUN_MARKER_FILE]: '{"kind":"train"}\n' });
    const folder = RunFolder.claim(dir, options({ resume: true }));
    folder.writeAtomic(CHECKPOINT_FILE, 'weights 2');
    folder.release();
    expect(JSON.parse(readFileSync(join(dir, RUN_MARKER_FILE), 'utf8'))).toMatchObject({ version: 2, kind: 'train', files: [CHECKPOINT_FILE] });
  });

  it('--overwrite never removes or writes over a protected input', () => {
    const dir = previousRun();
    const input = join(dir, 'metrics.jsonl');
    expect(refusal(() => RunFolder.claim(dir, options({ overwrite: true, protect: [input] })))).toMatch(/metrics\.jsonl is an input of this run/);
    expect(existsSync(join(dir, CHECKPOINT_FILE))).toBe(true);
    const folder = RunFolder.claim(dir, options({ resume: true, protect: [join(dir, 'report.md')] }));
    expect(refusal(() => folder.writeAtomic('report.md', 'x'))).toMatch(/report\.md is an input of this run and is never written over/);
    folder.release();
  });

  it('--resume needs a checkpoint and the marker of this kind of run', () => {
    expect(refusal(() => RunFolder.claim(freshPath(), options({ resume: true })))).toMatch(/does not exist, so there is no run to continue; start without --resume/);
    const empty = freshPath();
    mkdirSync(empty);
    expect(refusal(() => RunFolder.claim(empty, options({ resume: true })))).toMatch(/holds no checkpoint\.safetensors to continue from \(it is empty\)/);
    const unmarked = freshPath();
    mkdirSync(unmarked);
    writeFileSync(join(unmarked, CHECKPOINT_FILE), 'x');
    expect(refusal(() => RunFolder.claim(unmarked, options({ resume: true })))).toMatch(/no readable \.rltuner-run\.json, so it was not started by this version/);
    const folder = RunFolder.claim(previousRun(), options({ resume: true }));
    expect(new TextDecoder().decode(folder.readBytes(CHECKPOINT_FILE))).toBe('weights');
    folder.release();
  });


  it("a lock holding this process's pid that this process did not take (a restarted container) is taken over with a notice", () => {
    const dir = freshPath();
    mkdirSync(dir);
    const stale = { pid: process.pid, hostname: hostname(), kind: 'train', started: '2020-01-01T00:00:00.000Z' };
    writeFileSync(join(dir, LOCK_FILE), `${JSON.stringify(stale)}\n`);
    const o = options();
    const folder = RunFolder.claim(dir, o);
    expect(o.notices).toContainEqual(`took over a lock left in ${dir} by an earlier process with this process's pid ${process.pid} (since 2020-01-01T00:00:00.000Z)`);
    // Held by this process now: a second claim is refused.
    expect(refusal(() => RunFolder.claim(dir, options()))).toMatch(new RegExp(`another rltuner train \\(pid ${process.pid}\\) is using`));
    folder.release();
  });

  it('temporary files left by an interrupted write are removed at the next claim, with a notice naming them', () => {
    const dir = previousRun();
    writeFileSync(join(dir, `${CHECKPOINT_FILE}.tmp-12345`), 'half a checkpoint');
    writeFileSync(join(dir, 'metrics.jsonl.tmp-777'), '{');
    const o = options({ resume: true });
    const folder = RunFolder.claim(dir, o);
    expect(o.notices.join('\n')).toMatch(/removed 2 temporary files left in .* by an interrupted write: checkpoint\.safetensors\.tmp-12345, metrics\.jsonl\.tmp-777/);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    folder.release();
  });

  it('a failed write removes its temporary file and names the path and the fix', () => {
    const dir = freshPath();
    const folder = RunFolder.claim(dir, options());
    // A full disk: the temporary file leads to /dev/full.
    symlinkSync('/dev/full', join(dir, `${CHECKPOINT_FILE}.tmp-${process.pid}`));
    let error: unknown;
    try {
      folder.writeAtomic(CHECKPOINT_FILE, new Uint8Array(100_000));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RunFileError);
    expect((error as Error).message).toBe(`cannot write ${join(dir, CHECKPOINT_FILE)} (ENOSPC): the disk is full; free some space, then continue with the same command plus --resume`);
    expect(existsSync(join(dir, CHECKPOINT_FILE))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    // A folder in the way of the rename.
    mkdirSync(join(dir, 'report.md'));
    expect(() => folder.writeAtomic('report.md', 'text')).toThrow(new RegExp(`cannot write ${join(dir, 'report.md')} \\(EISDIR\\)`));
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    // A full disk during an append: the path is named.
    symlinkSync('/dev/full', join(dir, 'metrics.jsonl'));
    expect(() => folder.appendJsonLine('metrics.jsonl', { epoch: 1 })).toThrow(`cannot append to ${join(dir, 'metrics.jsonl')} (ENOSPC): the disk is full`);
    folder.release();
    // Outside run folders: a path whose parent is a file.
    const file = join(work, 'plain-file');
    writeFileSync(file, 'x');
    expect(() => writeFileAtomic(join(file, 'out.mid'), 'data')).toThrow(`cannot create the folder ${file} (EEXIST): a file is in the way of that folder; move it or choose another path`);
    expect(readdirSync(work).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('a background write lands whole, one after another; a failed one is reported, named, and leaves no temporary file', async () => {
    const dir = freshPath();
    const folder = RunFolder.claim(dir, options());
    const first = [new Uint8Array([1, 2, 3]), new Uint8Array(200_000).fill(7)];
    const second = [new Uint8Array([9])];
    const writes = [folder.writeAtomicInBackground(CHECKPOINT_FILE, first), folder.writeAtomicInBackground(CHECKPOINT_FILE, second)];
    await writes[0];
    expect(readFileSync(join(dir, CHECKPOINT_FILE)).length).toBe(200_003);
    await folder.settle();
    expect(Array.from(readFileSync(join(dir, CHECKPOINT_FILE)))).toEqual([9]); // the later write, after the first
    // More parts than one gathered write takes (1,024 on Linux), empty ones among them, land whole and in order.
    const many = Array.from({ length: 3000 }, (_, i) => new Uint8Array(i % 7 === 0 ? 0 : 1 + (i % 5)).fill(i & 255));
    await folder.writeAtomicInBackground('many.bin', many);
    expect(new Uint8Array(readFileSync(join(dir, 'many.bin')))).toEqual(Uint8Array.from(many.flatMap((part) => Array.from(part))));
    // A full disk: the temporary file leads to /dev/full.
    symlinkSync('/dev/full', join(dir, `${CHECKPOINT_FILE}.tmp-${process.pid}`));
    await expect(folder.writeAtomicInBackground(CHECKPOINT_FILE, first)).rejects.toThrow(`cannot write ${join(dir, CHECKPOINT_FILE)} (ENOSPC): the disk is full`);
    await expect(folder.settle()).rejects.toThrow(RunFileError);
    expect(Array.from(readFileSync(join(dir, CHECKPOINT_FILE)))).toEqual([9]); // the last good one stays
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    folder.release();
  });

  it('JSON lines appended in the background land in order, before a background write that follows them; a failed one is kept and reported', async () => {
    const dir = freshPath();
    const folder = RunFolder.claim(dir, options({ kind: 'tune' }));
    folder.writeAtomic('metrics.jsonl', '');
    folder.appendJsonLineInBackground('metrics.jsonl', { step: 1 });
    folder.appendJsonLineInBackground('metrics.jsonl', { step: 2 });
    let linesWhenWritten = '';
    const checkpoint = folder.writeAtomicInBackground(CHECKPOINT_FILE, [new Uint8Array([5])]).then(() => {
      linesWhenWritten = readFileSync(join(dir, 'metrics.jsonl'), 'utf8');
    });
    folder.appendJsonLineInBackground('metrics.jsonl', { step: 3 });
    expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')).toBe(''); // nothing written before the caller goes on
    await checkpoint;
    expect(linesWhenWritten.startsWith('{"step":1}\n{"step":2}\n')).toBe(true);
    await folder.settle();
    expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')).toBe('{"step":1}\n{"step":2}\n{"step":3}\n');
    expect(folder.readJsonLines('metrics.jsonl')).toEqual([{ step: 1 }, { step: 2 }, { step: 3 }]);

    // A full disk: the append's failure names the file, fails the checkpoint after it, settle(), and the next append.
    rmSync(join(dir, 'metrics.jsonl'));
    symlinkSync('/dev/full', join(dir, 'metrics.jsonl'));
    const message = `cannot append to ${join(dir, 'metrics.jsonl')} (ENOSPC): the disk is full`;
    folder.appendJsonLineInBackground('metrics.jsonl', { step: 4 });
    await expect(folder.writeAtomicInBackground(CHECKPOINT_FILE, [new Uint8Array([6])])).rejects.toThrow(message);
    expect(Array.from(readFileSync(join(dir, CHECKPOINT_FILE)))).toEqual([5]); // not ahead of its records
    await expect(folder.settle()).rejects.toThrow(message);
    expect(() => folder.appendJsonLineInBackground('metrics.jsonl', { step: 5 })).toThrow(message);
    folder.release();
  });

  it('JSON lines: a torn last line is dropped with a notice and the file rewritten; a bad line elsewhere names the file and line', () => {
    const dir = freshPath();
    const o = options();
    const folder = RunFolder.claim(dir, o);
    expect(folder.readJsonLines('metrics.jsonl')).toEqual([]);
    folder.appendJsonLine('metrics.jsonl', { epoch: 1, loss: 0.5 });
    folder.appendJsonLine('metrics.jsonl', { epoch: 2, loss: 0.25 });
    const path = folder.path('metrics.jsonl');
    const whole = readFileSync(path, 'utf8');
    expect(whole).toBe('{"epoch":1,"loss":0.5}\n{"epoch":2,"loss":0.25}\n');
    for (const torn of ['{"epoch":3,"lo', '{"epoch":3}', '{"epoch":3,"lo\n', '\u0000\u0000\u0000']) {
      writeFileSync(path, whole + torn);
      expect(folder.readJsonLines('metrics.jsonl')).toEqual([{ epoch: 1, loss: 0.5 }, { epoch: 2, loss: 0.25 }]);
      expect(readFileSync(path, 'utf8')).toBe(whole);
    }
    expect(o.notices).toHaveLength(4);
    expect(o.notices[0]).toBe(`${path}: dropped its torn last line (line 3: "{\\"epoch\\":3,\\"lo"), left by an interrupted write`);
    writeFileSync(path, `${whole.split('\n')[0]}\n{"epo\n${whole.split('\n')[1]}\n`);
    expect(() => folder.readJsonLines('metrics.jsonl')).toThrow(`${path}: line 2 is not a JSON record ("{\\"epo"); repair or delete that line, then run again`);
    writeFileSync(path, `${whole}{"epoch":3}\n`);
    expect(folder.truncateJsonLines('metrics.jsonl', (r) => (r.epoch as number) <= 2)).toBe(1);
    expect(readFileSync(path, 'utf8')).toBe(whole);
    folder.release();
  });
});
