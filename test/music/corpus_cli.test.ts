// What `rltuner train` prints of a corpus with unreadable entries (needs the build in dist/).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBadCorpus, removeBadCorpus } from './bad_corpus.js';
import { rltuner } from '../support/cli.js';


describe('a corpus with entries that cannot be read, through the command line', () => {
  const asRoot = process.getuid?.() === 0;
  let dir = '';
  beforeAll(async () => {
    dir = await makeBadCorpus();
  });
  afterAll(() => removeBadCorpus(dir));

  it('rltuner train prints every skipped file with its reason', async () => {
    const { code, stderr } = await rltuner(['train', '--data', join(dir, 'songs'), '--epochs', '0', '--no-baselines', '--out', join(dir, 'run')]);
    expect(code, stderr).toBe(0);
    const lines = stderr.split('\n');
    const head = lines.findIndex((line) => line.startsWith('data: 9 files read'));
    expect(head).toBeGreaterThanOrEqual(0);
    expect(lines.slice(head + 1, head + 1 + (asRoot ? 6 : 7)).map((line) => line.split(':')[0].trim())).toEqual(
      ['big.mid', 'dangling.mid', 'folder.mid', 'locked.mid', 'pipe.mid', 'red\\x1b[31m.mid', 'sysex_length_overflow.mid'].filter((name) => !(asRoot && name === 'locked.mid')),
    );
    expect(stderr).not.toMatch(/\u001b/);
  }, 30_000);
});
