/**
 * A guard for JSON text from a file: how deep it nests arrays and objects, found in one pass before
 * JSON.parse sees it. V8 parses deeply nested text far more slowly than flat text (tens of
 * thousands of levels of brackets take V8 many times as long per byte as flat JSON), and no file rltuner reads nests
 * deeper than a few levels. Pure: no Node module.
 */

/**
 * The deepest nesting of arrays and objects a reader parses: 64. rltuner's files nest at most 4 deep (a
 * tfjs manifest: list, group, weight, shape); a run folder's config.json 3.
 */
export const MAX_JSON_NESTING = 64;

/** The offset where `text` first opens an array or object deeper than `maxDepth` (brackets inside strings not counted), or -1. */
export function excessiveNestingAt(text: string, maxDepth = MAX_JSON_NESTING): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return i;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return -1;
}
