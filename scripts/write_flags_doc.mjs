// Writes docs/flags.md from the commands' settings tables (src/cli/<command>.ts), after `tsc` has built dist/.
// `npm run docs:flags`; test/cli/flags_doc.test.ts fails while the committed file is not what this writes.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { flagsDocument } from '../dist/cli/commands.js';

const target = fileURLToPath(new URL('../docs/flags.md', import.meta.url));
writeFileSync(target, await flagsDocument());
process.stdout.write(`wrote ${target}\n`);
