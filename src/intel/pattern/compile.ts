// Compiles a parsed pattern for matching: literals become values, each comparison becomes a
// predicate over one selected value, regexes are compiled with RE2 (linear time: a regex built to
// backtrack cannot stall the agent), sets become hash sets. Errors here are DE_STIX_PATTERN_INVALID
// (the pattern parses but cannot be matched) or DE_STIX_PATTERN_LIMIT.
import RE2 from 're2';
import type { Comparison, ComparisonExpr, ObjectPath, ObservationExpr, ParsedPattern } from './ast.ts';
import { PATTERN_LIMITS } from './limits.ts';
import { parseIpOrCidr, cidrContains, type IpRange } from './ip.ts';
import { parsePattern } from './parser.ts';
import { checkParsedPattern } from './post-checks.ts';
import { StixPatternError, quoteText } from './pattern-error.ts';
import { compareValues, dataTimestamp, isStixTime, literalValue, valueKey, valuesEqual, type LiteralValue, type ValueType } from './values.ts';

export interface CompiledComparison {
  readonly source: Comparison;
  readonly path: ObjectPath;
  /** EXISTS tests presence of the path, not a value. */
  readonly exists: boolean;
  /** Does one selected value pass (NOT already applied)? May throw DE_STIX_OBSERVED_DATA. */
  readonly test: (value: unknown) => boolean;
  /** The literal(s), for indexing: one for =, the set for IN. */
  readonly literals: readonly LiteralValue[];
}

export type CompiledExpr =
  | { readonly kind: 'cmp'; readonly cmp: CompiledComparison }
  | { readonly kind: 'and' | 'or'; readonly left: CompiledExpr; readonly right: CompiledExpr };

export type CompiledObservation =
  | { readonly kind: 'observation'; readonly expr: CompiledExpr; readonly objectTypes: ReadonlySet<string> }
  | { readonly kind: 'obs-and' | 'obs-or' | 'followedby'; readonly left: CompiledObservation; readonly right: CompiledObservation }
  | { readonly kind: 'within'; readonly inner: CompiledObservation; readonly us: bigint }
  | { readonly kind: 'repeats'; readonly inner: CompiledObservation; readonly count: number }
  | { readonly kind: 'startstop'; readonly inner: CompiledObservation; readonly startUs: bigint; readonly stopUs: bigint };

export interface CompiledPattern {
  readonly text: string;
  readonly parsed: ParsedPattern;
  readonly root: CompiledObservation;
}

function invalid(message: string, column: number, hint?: string): never {
  throw new StixPatternError('DE_STIX_PATTERN_INVALID', message, column, hint);
}

/** NFC, as the reference applies to LIKE and MATCHES operands and values. */
const nfc = (s: string) => s.normalize('NFC');

function likeToRegex(like: string): string {
  let out = '^';
  for (const ch of like) {
    if (ch === '%') out += '.*';
    else if (ch === '_') out += '.';
    else out += `\\x{${ch.codePointAt(0)!.toString(16)}}`;
  }
  // Python's `$` also matches before a final newline.
  return out + '\\n?\\z';
}

function compileRegex(source: string, column: number): RE2 {
  if (source.length > PATTERN_LIMITS.maxRegexLength) {
    throw new StixPatternError('DE_STIX_PATTERN_LIMIT', `a regex of ${source.length} characters; the limit is ${PATTERN_LIMITS.maxRegexLength}`, column);
  }
  try {
    return new RE2(source, 'u');
  } catch (cause) {
    return invalid(`the regex ${quoteText(source)} is not supported: ${(cause as Error).message}`, column,
      'MATCHES uses RE2 syntax (no backreferences or lookaround); rewrite the regex without them');
  }
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('latin1');
}

function compileComparison(c: Comparison): CompiledComparison {
  const neg = c.negated;
  for (const step of c.path.steps) {
    if (step.kind === 'index' && step.index < 0) invalid(`list index ${step.index} is negative`, c.path.column, 'list indexes start at 0; use [*] for any element');
  }
  const base = { source: c, path: c.path, exists: false };
  const lit = c.values[0];
  switch (c.op) {
    case '=': case '!=': {
      const { value } = literalValue(lit!);
      const flip = (c.op === '!=') !== neg;
      return { ...base, literals: [value], test: (v) => valuesEqual(value, v) !== flip };
    }
    case '<': case '<=': case '>': case '>=': {
      const { value } = literalValue(lit!);
      const op = c.op;
      return {
        ...base, literals: [value], test: (v) => {
          const r = compareValues(value, v);
          if (r === null) return false;
          const ok = r === undefined ? false : op === '<' ? r < 0 : op === '<=' ? r <= 0 : op === '>' ? r > 0 : r >= 0;
          return ok !== neg;
        },
      };
    }
    case 'IN': {
      const values: LiteralValue[] = [];
      const types = new Set<ValueType>();
      for (const l of c.values) { const lv = literalValue(l); values.push(lv.value); types.add(lv.type); }
      const numbersOnly = [...types].every((t) => t === 'int' || t === 'float');
      if (types.size > 1 && !numbersOnly) {
        invalid(`the set mixes types (${[...types].join(', ')}); a set's elements must all be of one type`, c.column);
      }
      const keys = new Set(values.map((v) => valueKey(v)!));
      const timestamps = types.has('datetime');
      return {
        ...base, literals: values, test: (v) => {
          let key: string | null;
          if (timestamps && typeof v === 'string') key = valueKey(dataTimestamp(v));
          else key = valueKey(v);
          return (key !== null && keys.has(key)) !== neg;
        },
      };
    }
    case 'LIKE': {
      const re = compileRegex(likeToRegex(nfc(String(literalValue(lit!).value))), lit!.column);
      // Non-strings do not match (and NOT flips that); binary is read byte for byte, as MATCHES does.
      return {
        ...base, literals: [], test: (v) => {
          const r = typeof v === 'string' ? re.test(nfc(v)) : v instanceof Uint8Array ? re.test(latin1(v)) : false;
          return r !== neg;
        },
      };
    }
    case 'MATCHES': {
      const source = nfc(String(literalValue(lit!).value));
      const re = compileRegex(source, lit!.column);
      const binaryOk = [...source].every((ch) => ch.codePointAt(0)! < 256);
      return {
        ...base, literals: [], test: (v) => {
          let r = false;
          if (typeof v === 'string') r = re.test(nfc(v));
          else if (v instanceof Uint8Array) r = binaryOk && re.test(latin1(v));
          return r !== neg;
        },
      };
    }
    case 'ISSUBSET': case 'ISSUPERSET': {
      const text = String(literalValue(lit!).value);
      const range = parseIpOrCidr(text);
      if (range === null) invalid(`${quoteText(text)} is not an IP address or CIDR range`, lit!.column, "write e.g. '198.51.100.0/24' or '2001:db8::/32'");
      const subset = c.op === 'ISSUBSET';
      return {
        ...base, literals: [text], test: (v) => {
          // A plain address is a one-address range. The reference raises on a malformed address in
          // the data; a live agent sees many non-address strings, so here they simply do not match.
          const other = typeof v === 'string' ? parseIpOrCidr(v) : null;
          const r = other !== null && (subset ? cidrContains(range, other) : cidrContains(other, range));
          return r !== neg;
        },
      };
    }
    case 'EXISTS':
      return { ...base, exists: true, literals: [], test: () => !neg };
  }
}

function compileExpr(e: ComparisonExpr, types: Set<string>): CompiledExpr {
  if (e.kind === 'comparison') {
    types.add(e.path.objectType);
    return { kind: 'cmp', cmp: compileComparison(e) };
  }
  return { kind: e.kind, left: compileExpr(e.left, types), right: compileExpr(e.right, types) };
}

function compileObservation(e: ObservationExpr): CompiledObservation {
  switch (e.kind) {
    case 'observation': {
      const types = new Set<string>();
      return { kind: 'observation', expr: compileExpr(e.expr, types), objectTypes: types };
    }
    case 'obs-and': case 'obs-or': case 'followedby':
      return { kind: e.kind, left: compileObservation(e.left), right: compileObservation(e.right) };
    case 'group':
      return compileObservation(e.inner);
    case 'qualified': {
      const inner = compileObservation(e.inner);
      const q = e.qualifier;
      if (q.kind === 'within') {
        const seconds = Number(q.seconds.text);
        if (!(seconds > 0)) invalid(`WITHIN ${q.seconds.text} SECONDS: the window must be positive`, q.seconds.column);
        if (seconds > PATTERN_LIMITS.maxWithinSeconds) {
          throw new StixPatternError('DE_STIX_PATTERN_LIMIT', `WITHIN ${q.seconds.text} SECONDS exceeds the limit of ${PATTERN_LIMITS.maxWithinSeconds} seconds`, q.seconds.column);
        }
        return { kind: 'within', inner, us: BigInt(Math.round(seconds * 1e6)) };
      }
      if (q.kind === 'repeats') {
        const count = Number(q.count.text);
        if (count < 1) invalid(`REPEATS ${q.count.text} TIMES: the count must be at least 1`, q.count.column);
        if (count > PATTERN_LIMITS.maxRepeats) {
          throw new StixPatternError('DE_STIX_PATTERN_LIMIT', `REPEATS ${q.count.text} TIMES exceeds the limit of ${PATTERN_LIMITS.maxRepeats}`, q.count.column);
        }
        return { kind: 'repeats', inner, count };
      }
      const start = literalValue(q.start).value;
      const stop = literalValue(q.stop).value;
      if (!isStixTime(start) || !isStixTime(stop)) invalid('START and STOP take timestamps', q.start.column);
      return { kind: 'startstop', inner, startUs: start.us, stopUs: stop.us };
    }
  }
}

export function compileParsed(parsed: ParsedPattern): CompiledPattern {
  return { text: parsed.text, parsed, root: compileObservation(parsed.root) };
}

/**
 * Parse and compile for matching. Throws StixPatternError (DE_STIX_PATTERN, _INVALID, _LIMIT).
 * The validator-only checks (hash formats, a qualifier twice on one observation) are not applied:
 * the reference matcher matches such patterns, and so do we; `validatePattern` reports them.
 */
export function compilePattern(pattern: string): CompiledPattern {
  return compileParsed(parsePattern(pattern));
}

/**
 * What the OASIS reference validator accepts: the grammar plus its post-parse checks. Grammatically
 * valid impossible dates (Feb 30) pass here but not `validatePattern`, which also compiles.
 */
export function checkPatternSyntax(pattern: string): ParsedPattern {
  const parsed = parsePattern(pattern);
  checkParsedPattern(parsed);
  return parsed;
}

/** Everything `daemoneye intel validate` checks: the grammar, the reference validator's checks, and compilability. */
export function validatePattern(pattern: string): CompiledPattern {
  const parsed = parsePattern(pattern);
  checkParsedPattern(parsed);
  return compileParsed(parsed);
}

export type { IpRange };
