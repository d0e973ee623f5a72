import { describe, expect, it } from 'vitest';
import { decimalProblem, parseDecimal } from '../../src/io/decimal.js';
import { resolveConfig } from '../../src/rl/config.js';

describe('plain decimals', () => {
  it('reads integers, fractions and exponents', () => {
    expect(parseDecimal('-12')).toBe(-12);
    expect(parseDecimal('+3')).toBe(3);
    expect(parseDecimal('0.5')).toBe(0.5);
    expect(parseDecimal('.5')).toBe(0.5);
    expect(parseDecimal('5.')).toBe(5);
    expect(parseDecimal('007')).toBe(7);
    expect(parseDecimal('1e-3')).toBe(0.001);
    expect(parseDecimal('2.5E+4')).toBe(25000);
    expect(parseDecimal('0')).toBe(0);
    expect(Object.is(parseDecimal('-0'), 0)).toBe(true);
    expect(parseDecimal('0.000e-999')).toBe(0); // zero written with a huge exponent is still zero
    expect(parseDecimal('1e-310')).toBe(1e-310); // subnormal, but not zero
  });

  it('rejects other notations, blanks and values that do not survive the conversion', () => {
    for (const text of ['0x10', '0b1', '0o7', 'Infinity', '-Infinity', 'NaN', '', ' ', '1 0', ' 5', '5 ', '1_000', '+', '.', 'e5', '1e', '--1', '1,5', '١']) {
      expect(parseDecimal(text), JSON.stringify(text)).toBeUndefined();
    }
    expect(parseDecimal('1e400')).toBeUndefined();
    expect(parseDecimal('-1e400')).toBeUndefined();
    expect(parseDecimal('1e-400')).toBeUndefined();
    expect(parseDecimal('0.0001e-330')).toBeUndefined();
    expect(decimalProblem('1e-400')).toMatch(/underflows to 0/);
    expect(decimalProblem('1e400')).toMatch(/overflows/);
    expect(decimalProblem('0x10')).toMatch(/not a plain decimal/);
    expect(decimalProblem('12')).toBeNull();
  });

  it('tuning flags take plain decimals only', () => {
    expect(resolveConfig('default', {}, { gamma: '0.5' }).gamma).toBe(0.5);
    expect(resolveConfig('default', {}, { 'training-steps': '1e3' }).trainingSteps).toBe(1000);
    expect(() => resolveConfig('default', {}, { 'training-steps': '0x10' })).toThrow(/trainingSteps = "0x10"/);
    expect(() => resolveConfig('default', {}, { 'learning-rate': '1e-400' })).toThrow(/learningRate = "1e-400"/);
    expect(() => resolveConfig('default', {}, { gamma: '' })).toThrow(/gamma = ""/);
  });
});
