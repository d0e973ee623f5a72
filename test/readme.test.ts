/**
 * README.md as a reader meets it: its Markdown parses with every fenced block closed and nothing after a
 * fence swallowed, every block names its language, its sh blocks run (or say why not, as `sh no-run: why`),
 * and its library snippets run as written in Node against this build. The same snippets run in every other
 * runtime the package claims (Deno, Bun, browsers through vite and esbuild, workerd) in the consumer matrix,
 * test/consumers/run.mjs (`npm run consumers`, and CI after this suite).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { librarySnippets, readmeCodeBlocks } from './consumers/readme_blocks.mjs';
import { importMidi } from '../src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const { blocks, problems } = readmeCodeBlocks(readme);

describe('README.md', () => {
  const work = mkdtempSync(join(tmpdir(), 'rltuner-readme-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('parses: every fence closed on its own line, the parser and the fence lines agree', () => {
    expect(problems).toEqual([]);
    expect(blocks.length).toBeGreaterThanOrEqual(3);
  });

  it('the fence check catches a closing fence glued to the next sentence, and an unclosed fence', () => {
    const glued = readmeCodeBlocks('Text\n\n```js\nconst a = 1;\n``` More text.\n\n## Next\n\n```sh\nls\n```\n');
    expect(glued.problems.join('\n')).toMatch(/line 5: text after the closing fence of the block opened on line 3/);
    const unclosed = readmeCodeBlocks('```sh\nls\n');
    expect(unclosed.problems.join('\n')).toMatch(/line 1: the code block opened here is never closed/);
    expect(readmeCodeBlocks('```\nplain\n```\n').problems.join('\n')).toMatch(/the fence's language is ""/);
  });

  it('every sh block either runs or says why it is not run', () => {
    for (const block of blocks.filter((b) => b.language === 'sh')) {
      if (block.flags.startsWith('no-run')) {
        expect({ line: block.line, reason: block.flags }).toEqual({ line: block.line, reason: expect.stringMatching(/^no-run: \S.{10,}/) });
        continue;
      }
      expect(() => execFileSync('bash', ['-euo', 'pipefail', '-c', block.code], { cwd: root, stdio: 'pipe', timeout: 60_000 }),
        `the sh block on README line ${block.line}`).not.toThrow();
    }
  }, 120_000); // the blocks run real commands (corpus, score, generate, evaluate)

  it('has a library snippet, and it runs as written in Node against this build', () => {
    const snippets = librarySnippets(blocks).filter((b) => b.language === 'js');
    expect(snippets.length).toBeGreaterThanOrEqual(1);
    // A folder where `import ... from 'rltuner'` finds this package, as an installed copy would be found.
    mkdirSync(join(work, 'node_modules'));
    symlinkSync(root, join(work, 'node_modules', 'rltuner'), 'dir');
    writeFileSync(join(work, 'package.json'), '{ "type": "module" }\n');
    for (const [k, snippet] of snippets.entries()) {
      expect(snippet.code).toMatch(/\bconst midi\b/); // the consumer matrix compares the MIDI it makes across runtimes
      writeFileSync(join(work, `readme_${k}.mjs`), `${snippet.code}\nconsole.log(Array.from(midi).join(','));\n`);
      const printed = execFileSync(process.execPath, [`readme_${k}.mjs`], { cwd: work, encoding: 'utf8', timeout: 60_000 });
      const midi = Uint8Array.from(printed.trim().split('\n').at(-1)!.split(','), Number);
      expect(String.fromCharCode(...midi.subarray(0, 4))).toBe('MThd');
      expect(Array.from(importMidi(midi, { transpose: false, centre: false }).tokens).filter((t) => t >= 2).length).toBeGreaterThan(0);
    }
  }, 60_000);
});
