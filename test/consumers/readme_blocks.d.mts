// Types of readme_blocks.mjs (plain JavaScript, so the consumer matrix can run it without a build).
export declare const LANGUAGES: string[];
export interface CodeBlock {
  language: string;
  flags: string;
  code: string;
  line: number;
}
export declare function readmeCodeBlocks(markdown: string): { blocks: CodeBlock[]; problems: string[] };
export declare function librarySnippets(blocks: CodeBlock[]): CodeBlock[];
