// The nesting guard the JSON readers run before JSON.parse (src/io/json_text.ts).
import { describe, expect, it } from 'vitest';
import { excessiveNestingAt, MAX_JSON_NESTING } from '../../src/io/json_text.js';
import { configOverridesFromText } from '../../src/rl/config.js';

describe('excessiveNestingAt', () => {
  it('finds the first bracket past the limit, counting arrays and objects but not brackets in strings', () => {
    expect(excessiveNestingAt('{"a": [1, {"b": [2]}]}', 4)).toBe(-1);
    expect(excessiveNestingAt('{"a": [1, {"b": [2]}]}', 3)).toBe(16);
    expect(excessiveNestingAt('["[[[[", "\\\\", "\\"[[[["]', 1)).toBe(-1);
    expect(excessiveNestingAt(`${'['.repeat(MAX_JSON_NESTING)}${']'.repeat(MAX_JSON_NESTING)}`)).toBe(-1);
    expect(excessiveNestingAt(`${'['.repeat(MAX_JSON_NESTING + 1)}${']'.repeat(MAX_JSON_NESTING + 1)}`)).toBe(MAX_JSON_NESTING);
  });

  it('keeps a deeply nested config file from reaching JSON.parse, naming the file and the limit', () => {
    const deep = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
    expect(() => configOverridesFromText(deep, 'deep.json')).toThrow(`deep.json: nests arrays and objects more than ${MAX_JSON_NESTING} deep (at character ${MAX_JSON_NESTING}; MAX_JSON_NESTING)`);
  });
});
