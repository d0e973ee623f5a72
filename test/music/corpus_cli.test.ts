// What `rltuner train` prints of a corpus with unreadable entries (needs the build in dist/).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBadCorpus, removeBadCorpus } from './bad_corpus.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

describe('a corpus with entries that cannot be read, through the command line', () => {
  const asRoot = process.getuid?.() === 0;
  let dir = '';
  beforeAll(async () => {
    dir = await makeBadCorpus();
  });
  afterAll(() => removeBadCorpus(dir));

  it('rltuner train prints every skipped file with its reason', async () => {
    const { stderr } = await promisify(execFile)('node', [CLI, 'train', '--data', join(dir, 'songs'), '--epochs', '0', '--no-baselines', '--out', join(dir, 'run')]);
    const lines = stderr.split('\n');
    const head = lines.findIndex((line) => line.startsWith('data: 9 files read'));
    expect(head).toBeGreaterThanOrEqual(0);
    expect(lines.slice(head + 1, head + 1 + (asRoot ? 6 : 7)).map((line) => line.split(':')[0].trim())).toEqual(
      ['big.mid', 'dangling.mid', 'folder.mid', 'locked.mid', 'pipe.mid', 'red\\x1b[31m.mid', 'sysex_length_overflow.mid'].filter((name) => !(asRoot && name === 'locked.mid')),
    );
    expect(stderr).not.toMatch(/\u001b/);
  }, 30_000);
});
