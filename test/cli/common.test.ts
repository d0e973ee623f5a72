import { describe, expect, it } from 'vitest';
import { modelPath, numberFlag, parseFlags, UsageError } from '../../src/cli/common.js';

const options = { quiet: { type: 'boolean' }, resume: { type: 'boolean' }, out: { type: 'string' }, model: { type: 'string' } } as const;

describe('command-line flags', () => {
  it('boolean flags take --flag, --flag=true|false and --flag true|false', () => {
    expect(parseFlags('x', ['--quiet'], options)).toMatchObject({ quiet: true });
    expect(parseFlags('x', ['--quiet=true'], options)).toMatchObject({ quiet: true });
    expect(parseFlags('x', ['--quiet=false'], options)).toMatchObject({ quiet: false });
    expect(parseFlags('x', ['--quiet', 'true', '--out', 'o'], options)).toMatchObject({ quiet: true, out: 'o' });
    expect(parseFlags('x', ['--quiet', 'false', '--resume'], options)).toMatchObject({ quiet: false, resume: true });
    expect(parseFlags('x', ['--out', 'true'], options)).toMatchObject({ out: 'true' }); // a string flag keeps its value
    expect(() => parseFlags('x', ['--quiet=yes'], options)).toThrow(/--quiet=yes: expected true or false/);
    expect(() => parseFlags('x', ['--quiet', 'yes'], options)).toThrow(UsageError);
  });

  it('an empty value is an error, not a default', () => {
    expect(() => parseFlags('x', ['--out', ''], options)).toThrow("--out '' would write into the current folder; name a folder");
    expect(() => parseFlags('x', ['--out=  '], options)).toThrow(/--out ''/);
    expect(() => parseFlags('x', ['--model', ''], options)).toThrow("--model '': the value is empty; give one, or leave --model out");
    expect(() => modelPath('')).toThrow(/--model '': the path is empty/);
  });

  it('number flags are plain decimals in range', () => {
    expect(numberFlag('x', 'lr', '1e-3', 0, 0, 1)).toBe(0.001);
    expect(numberFlag('x', 'lr', undefined, 0.5, 0, 1)).toBe(0.5);
    expect(numberFlag('x', 'count', '1e2', 0, 1, 1000, true)).toBe(100);
    expect(() => numberFlag('x', 'count', '0x10', 0, 1, 1000, true)).toThrow('--count 0x10: expected an integer in 1..1000 (not a plain decimal');
    expect(() => numberFlag('x', 'lr', '1e-400', 0, 0, 1)).toThrow('--lr 1e-400: expected a number in 0..1 (too small: it underflows to 0)');
    expect(() => numberFlag('x', 'count', '2.5', 0, 1, 1000, true)).toThrow('--count 2.5: expected an integer in 1..1000');
  });
});
