/**
 * Numbers as the command line and the config accept them: plain decimals only.
 *
 * Accepted: an optional sign, digits with an optional fraction, or a fraction alone, and an optional
 * exponent: `12`, `-12`, `+3`, `0.5`, `.5`, `5.`, `007` (decimal 7), `1e-3`, `2.5E+4`. `-0` reads as 0.
 * Rejected (undefined): the empty string, any whitespace, `0x10`, `0b1`, `0o7`, `Infinity`, `NaN`, `1_000`,
 * a lone sign or dot, and values JavaScript would turn into something else than written: those that
 * overflow to ±Infinity (`1e400`) and non-zero digits that underflow to 0 (`1e-400`).
 */
const PLAIN_DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Why `text` is not a plain decimal ("not a plain decimal ...", "overflows ...", "underflows ..."), or null when it is one. */
export function decimalProblem(text: string): string | null {
  if (!PLAIN_DECIMAL.test(text)) return 'not a plain decimal such as 12, 0.5 or 1e-3 (no 0x/0b/0o, Infinity, NaN or spaces)';
  const value = Number(text);
  if (!Number.isFinite(value)) return 'too large: it overflows to Infinity';
  // Zero only when every digit of the significand is zero; otherwise the value underflowed.
  if (value === 0 && /[1-9]/.test(text.split(/[eE]/)[0])) return 'too small: it underflows to 0';
  return null;
}

/** The value of a plain decimal, or undefined when `text` is not one (see the file comment). */
export function parseDecimal(text: string): number | undefined {
  if (decimalProblem(text) !== null) return undefined;
  const value = Number(text);
  return value === 0 ? 0 : value; // not -0: '-0' means zero
}
