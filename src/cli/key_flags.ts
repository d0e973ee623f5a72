/**
 * The --key / --mode flags shared by evaluate and generate (tune takes them as config fields), and the
 * import flags shared by the commands that read MIDI: --keep-key and --transpose-by.
 */
import { KeyNameError, keyNamed, MODE_NAMES, TONIC_NAMES, type Key } from '../music/keys.js';
import { TRANSPOSE_RULES, type ImportOptions, type TransposeRule } from '../music/midi_import.js';
import { keyRuleContext } from '../rules/key_context.js';
import type { RuleContext } from '../rules/rules.js';
import { UsageError, type FlagValues } from './common.js';

export const KEY_FLAGS_HELP = `  --key <tonic>         key the rules score in: ${TONIC_NAMES.join(' ')} [C]
  --mode <name>         its mode: ${MODE_NAMES.join(', ')} [major]`;

export const IMPORT_FLAGS_HELP = `  --keep-key           keep each melody in its own key [transpose its tonic to C (major) or A (minor)]
  --transpose-by <rule> key: move the tonic of the file's key (signature, else estimated) to C or A;
                       note-count: the first importer's rule (most notes on white keys), which the
                       shipped model was trained with [key]`;

/** The key named by --key / --mode, or null when neither is given. */
export function keyFlag(command: string, values: FlagValues): Key | null {
  const key = typeof values.key === 'string' ? values.key : undefined;
  const mode = typeof values.mode === 'string' ? values.mode : undefined;
  if (key === undefined && mode === undefined) return null;
  try {
    return keyNamed(key ?? 'C', mode ?? 'major');
  } catch (e) {
    if (e instanceof KeyNameError) throw new UsageError(`--${e.message.startsWith('mode') ? 'mode' : 'key'}: ${e.message}`, command);
    throw e;
  }
}

/** The rule context of --key / --mode (C major when both are left out). */
export function keyRulesFlag(command: string, values: FlagValues, numNotes: number): RuleContext {
  keyFlag(command, values); // names a bad value as a usage error
  return keyRuleContext({ key: typeof values.key === 'string' ? values.key : 'C', mode: typeof values.mode === 'string' ? values.mode : 'major', numNotes });
}

/** The import options of --keep-key / --transpose-by. */
export function importFlags(command: string, values: FlagValues): Pick<ImportOptions, 'transpose' | 'transposeBy'> {
  const out: Pick<ImportOptions, 'transpose' | 'transposeBy'> = {};
  if (values['keep-key'] === true) out.transpose = false;
  const rule = values['transpose-by'];
  if (typeof rule === 'string') {
    if (!(TRANSPOSE_RULES as readonly string[]).includes(rule)) throw new UsageError(`--transpose-by ${rule}: expected ${TRANSPOSE_RULES.join(' or ')}`, command);
    if (out.transpose === false) throw new UsageError('--keep-key and --transpose-by contradict each other; pass one of them', command);
    out.transposeBy = rule as TransposeRule;
  }
  return out;
}
