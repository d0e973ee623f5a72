/**
 * Values from an untrusted file, shown in an error message: as JSON, cut to a few dozen characters, with
 * control characters escaped, so a message stays one readable line whatever the file holds (a 16 MB
 * string, a shape of a million dimensions, arrays nested a million deep, terminal escape sequences).
 * The value is walked only as far as the preview reaches. Pure: no Node module.
 */

/** Longest preview, in characters, before it is cut with an ellipsis. */
export const PREVIEW_CHARACTERS = 80;
/** Nesting deeper than this is shown as an ellipsis (JSON.stringify would overflow the stack on deep values). */
const PREVIEW_DEPTH = 8;

/** `value` as JSON (numbers as String gives them: NaN, Infinity; undefined as "undefined"), cut to `max` characters, control characters as \xNN. */
export function preview(value: unknown, max = PREVIEW_CHARACTERS): string {
  const parts: string[] = [];
  let length = 0;
  const put = (text: string): boolean => {
    parts.push(text);
    length += text.length;
    return length <= max;
  };
  const visit = (v: unknown, depth: number): boolean => {
    if (typeof v === 'string') return put(JSON.stringify(v.length > max ? v.slice(0, max + 1) : v));
    if (v === null || typeof v !== 'object') return put(String(v));
    if (depth >= PREVIEW_DEPTH) return put(Array.isArray(v) ? '[…]' : '{…}');
    if (Array.isArray(v)) {
      if (!put('[')) return false;
      for (let i = 0; i < v.length; i++) {
        if ((i > 0 && !put(',')) || !visit(v[i], depth + 1)) return false;
      }
      return put(']');
    }
    if (!put('{')) return false;
    let first = true;
    for (const key in v) {
      if (!Object.hasOwn(v, key)) continue;
      if ((!first && !put(',')) || !put(`${JSON.stringify(key.length > max ? key.slice(0, max + 1) : key)}:`) || !visit((v as Record<string, unknown>)[key], depth + 1)) return false;
      first = false;
    }
    return put('}');
  };
  visit(value, 0);
  const text = parts.join('');
  return printable(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** A name from a file (a tensor or weight name) for a message: cut to `max` characters, control characters escaped. */
export function previewName(name: string, max = PREVIEW_CHARACTERS): string {
  return printable(name.length > max ? `${name.slice(0, max)}…` : name);
}

function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}
