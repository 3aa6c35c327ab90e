// Literal values and the comparison semantics of the OASIS reference matcher (stix2-matcher 3.0.0),
// which follows Python's typing: ints and floats compare with each other, bools only with bools,
// strings by code point, binary with binary or with a string whose code points are all below 256,
// timestamps with timestamps (a JSON string compared with a t'' literal is parsed as one, and a
// malformed one is an error, as in the reference). Incomparable types are simply "not equal".
import { DaemonEyeError } from '../../errors/catalogue.ts';
import type { Literal } from './ast.ts';
import { unquote } from './parser.ts';
import { StixPatternError, quoteText } from './pattern-error.ts';
import { parseStixTime, type StixTime } from './timestamp.ts';

export type LiteralValue = number | string | boolean | Uint8Array | StixTime;
/** Python's type names, used for the "homogeneous set" rule. */
export type ValueType = 'int' | 'float' | 'str' | 'bool' | 'bytes' | 'datetime';

export function isStixTime(v: unknown): v is StixTime {
  return typeof v === 'object' && v !== null && typeof (v as StixTime).us === 'bigint';
}

export function literalValue(lit: Literal): { value: LiteralValue; type: ValueType } {
  switch (lit.kind) {
    case 'int': return { value: Number(lit.text), type: 'int' };
    case 'float': return { value: Number(lit.text), type: 'float' };
    case 'bool': return { value: lit.text === 'true', type: 'bool' };
    case 'string': return { value: unquote(lit.text), type: 'str' };
    case 'hex': return { value: Uint8Array.from(Buffer.from(lit.text.slice(2, -1), 'hex')), type: 'bytes' };
    case 'binary': return { value: Uint8Array.from(Buffer.from(lit.text.slice(2, -1), 'base64')), type: 'bytes' };
    case 'timestamp': {
      const t = parseStixTime(lit.text.slice(2, -1));
      if (t === null) {
        throw new StixPatternError('DE_STIX_PATTERN_INVALID', `${quoteText(lit.text)} is not a real date and time (check the day of the month, second 60, year 0)`, lit.column);
      }
      return { value: t, type: 'datetime' };
    }
  }
}

/** The value of a JSON string compared with a timestamp literal; malformed data is an error, as in the reference. */
export function dataTimestamp(value: string): StixTime {
  const t = parseStixTime(value);
  if (t === null) throw new DaemonEyeError('DE_STIX_OBSERVED_DATA', `invalid timestamp in the observed data: ${quoteText(value)}`);
  return t;
}

/** Compare strings by code point (JS `<` compares UTF-16 units, which orders astral characters wrongly). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if ((x >= 0xd800 && x <= 0xdfff) || (y >= 0xd800 && y <= 0xdfff)) {
      return (a.codePointAt(i) ?? 0) - (b.codePointAt(i) ?? 0);
    }
    return x - y;
  }
  return a.length - b.length;
}

/** A string as bytes (each code point one byte), or null if a code point is 256 or above. */
export function stringAsBytes(s: string): Uint8Array | null {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i += 1) {
    const c = s.charCodeAt(i);
    if (c > 255) return null;
    out[i] = c;
  }
  return out;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Equality per the reference's table; false for incomparable types. */
export function valuesEqual(literal: LiteralValue, value: unknown): boolean {
  if (isStixTime(literal)) {
    if (typeof value !== 'string') return false;
    return dataTimestamp(value).us === literal.us;
  }
  switch (typeof literal) {
    case 'number': return typeof value === 'number' && value === literal;
    case 'boolean': return typeof value === 'boolean' && value === literal;
    case 'string':
      if (typeof value === 'string') return value === literal;
      if (value instanceof Uint8Array) { const b = stringAsBytes(literal); return b !== null && compareBytes(b, value) === 0; }
      return false;
    default: {
      const bytes = literal as Uint8Array;
      if (value instanceof Uint8Array) return compareBytes(bytes, value) === 0;
      if (typeof value === 'string') { const b = stringAsBytes(value); return b !== null && compareBytes(b, bytes) === 0; }
      return false;
    }
  }
}

/**
 * Order comparison value-vs-literal: a negative, zero or positive number; `null` when the types have
 * no ordering (the reference then answers false even under NOT); `undefined` when a string holds a
 * code point above 255 compared with binary (the reference answers false, and NOT flips it).
 */
export function compareValues(literal: LiteralValue, value: unknown): number | null | undefined {
  if (isStixTime(literal)) {
    if (typeof value !== 'string') return null;
    const t = dataTimestamp(value);
    return t.us < literal.us ? -1 : t.us > literal.us ? 1 : 0;
  }
  switch (typeof literal) {
    case 'number': return typeof value === 'number' ? Math.sign(value - literal) : null;
    case 'boolean': return null;
    case 'string':
      if (typeof value === 'string') return compareCodePoints(value, literal);
      if (value instanceof Uint8Array) { const b = stringAsBytes(literal); return b === null ? undefined : compareBytes(value, b); }
      return null;
    default: {
      const bytes = literal as Uint8Array;
      if (value instanceof Uint8Array) return compareBytes(value, bytes);
      if (typeof value === 'string') { const b = stringAsBytes(value); return b === null ? undefined : compareBytes(b, bytes); }
      return null;
    }
  }
}

/** A literal as a key for hash lookups: equal keys iff the reference would call the values equal. */
export function valueKey(v: unknown): string | null {
  if (typeof v === 'string') return 's' + v;
  if (typeof v === 'number') return 'n' + String(v);
  if (typeof v === 'boolean') return 'n' + (v ? '1' : '0');
  if (v instanceof Uint8Array) return 'b' + Buffer.from(v).toString('hex');
  if (isStixTime(v)) return 't' + v.us.toString();
  return null;
}
