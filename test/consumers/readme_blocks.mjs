// The README's fenced code blocks, as a Markdown parser sees them, checked against a plain scan of the
// fence lines so that a fence the parser would read differently (a closing fence glued to the next
// sentence, an unclosed fence swallowing the rest of the file) is reported instead of silently extracted.
//
// Code-block conventions of README.md: every fence names its language; `sh` blocks are run by
// test/readme.test.ts unless marked `sh no-run: <why>`; `js` and `ts` blocks that import 'rltuner' are
// run by the consumer matrix (test/consumers/run.mjs) in every runtime; `text` blocks are not code.
import { lexer } from 'marked';

export const LANGUAGES = ['sh', 'js', 'ts', 'text', 'json'];

/**
 * @typedef {{ language: string, flags: string, code: string, line: number }} CodeBlock
 * @param {string} markdown
 * @returns {{ blocks: CodeBlock[], problems: string[] }}
 */
export function readmeCodeBlocks(markdown) {
  const problems = [];
  const lines = markdown.split('\n');
  // The plain scan: CommonMark fences of three or more backticks or tildes, at most three spaces in.
  const scanned = [];
  let open = null;
  lines.forEach((text, i) => {
    const fence = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(text);
    if (!fence) return;
    if (open === null) {
      open = { line: i + 1, marker: fence[1], info: fence[2].trim() };
    } else if (fence[1][0] === open.marker[0] && fence[1].length >= open.marker.length) {
      if (fence[2].trim() !== '') {
        problems.push(`line ${i + 1}: text after the closing fence of the block opened on line ${open.line} (${JSON.stringify(text)}); put it on its own line after the fence`);
        return; // CommonMark does not close the block here: the rest is swallowed until the next fence
      }
      scanned.push({ ...open, body: lines.slice(open.line, i).join('\n') });
      open = null;
    }
  });
  if (open !== null) problems.push(`line ${open.line}: the code block opened here is never closed`);

  const parsed = [];
  const walk = (tokens) => {
    for (const token of tokens) {
      if (token.type === 'code' && token.codeBlockStyle !== 'indented') parsed.push(token);
      if (token.tokens) walk(token.tokens);
      if (token.items) walk(token.items);
    }
  };
  walk(lexer(markdown));
  if (parsed.length !== scanned.length) {
    problems.push(`the Markdown parser sees ${parsed.length} fenced code blocks where the fence lines pair into ${scanned.length}`);
  }

  const blocks = [];
  parsed.forEach((token, k) => {
    const info = (token.lang ?? '').trim();
    const [language = '', ...rest] = info.split(/\s+/);
    const line = scanned[k]?.line ?? 0;
    if (scanned[k] && scanned[k].body !== token.text) {
      problems.push(`line ${line}: the parser's text of this block differs from the lines between its fences`);
    }
    if (!/\n(`{3,}|~{3,})\s*$/.test(token.raw)) problems.push(`line ${line}: the parser ran this block to the end of the file (no closing fence)`);
    if (!LANGUAGES.includes(language)) {
      problems.push(`line ${line}: the fence's language is ${JSON.stringify(language)}; use one of ${LANGUAGES.join(', ')} (text for plain text)`);
    }
    blocks.push({ language, flags: rest.join(' '), code: token.text, line });
  });
  return { blocks, problems };
}

/** The blocks that use the published package: `js` or `ts` blocks importing from 'rltuner'. */
export function librarySnippets(blocks) {
  return blocks.filter((b) => (b.language === 'js' || b.language === 'ts') && /from ['"]rltuner(\/[\w-]+)?['"]/.test(b.code));
}
