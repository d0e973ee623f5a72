#!/usr/bin/env node
/**
 * The rltuner command line: tune, evaluate, sweep, generate, train, corpus, score, convert, prefs. Each command
 * lives in src/cli/<name>.ts with its settings table; src/cli/commands.ts lists them.
 */
import { UsageError } from './cli/common.js';
import { COMMANDS, topHelp } from './cli/commands.js';
import { nearestName } from './cli/flags.js';
import { RunFolderRefusal } from './node/run_folder.js';

/** Each command resolves to its exit code (nothing: 0); a stopped run returns 130 (SIGINT) or 143 (SIGTERM). */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(topHelp());
    return command ? 0 : 2;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write('rltuner 0.1.0\n');
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === command);
  if (!entry) {
    const names = COMMANDS.map((c) => c.name);
    const near = nearestName(command, names);
    process.stderr.write(`rltuner: unknown command "${command}"; ${near ? `did you mean ${near}? ` : ''}the commands are ${names.join(', ')} (rltuner --help says what each does)\n`);
    return 2;
  }
  try {
    const code = await (await entry.load()).run(rest);
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof RunFolderRefusal) {
      process.stderr.write(`rltuner ${command}: ${e.message}\n  (rltuner ${command} --help lists the options)\n`);
      return 2;
    }
    const err = e as Error;
    process.stderr.write(`rltuner ${command}: ${err.message}\n`);
    if (process.env.RLTUNER_DEBUG) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
