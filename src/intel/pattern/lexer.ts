// Tokenizer for STIX 2.1 patterns, following the lexer rules of STIXPattern.g4 (oasis-open/
// cti-stix2-json-schemas): longest match wins, and on a tie the rule defined first (so `AND` is a
// keyword, `ANDx` an identifier, `true` a boolean). Keywords are case-sensitive in 2.1.
// A literal that does not fit its rule (t'2024-13-01…', h'abc', b'====') is, as in ANTLR, not that
// literal: the lexer yields the identifier `t`/`h`/`b` and the parser reports it — we add a hint.
import { PATTERN_LIMITS } from './limits.ts';
import { StixPatternError, quoteText } from './pattern-error.ts';

export type TokenKind =
  | 'IntPos' | 'IntNeg' | 'FloatPos' | 'FloatNeg' | 'Hex' | 'Binary' | 'String' | 'Bool' | 'Timestamp'
  | 'Keyword' | 'IdentNoHyphen' | 'IdentHyphen'
  | 'EQ' | 'NEQ' | 'LT' | 'LE' | 'GT' | 'GE'
  | 'QUOTE' | 'COLON' | 'DOT' | 'COMMA' | 'RPAREN' | 'LPAREN' | 'RBRACK' | 'LBRACK'
  | 'PLUS' | 'HYPHEN' | 'POWER_OP' | 'DIVIDE' | 'ASTERISK' | 'Invalid' | 'EOF';

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** 0-based offset in the pattern. */
  readonly offset: number;
}

export const KEYWORDS: ReadonlySet<string> = new Set([
  'AND', 'OR', 'NOT', 'FOLLOWEDBY', 'LIKE', 'MATCHES', 'ISSUPERSET', 'ISSUBSET', 'EXISTS', 'LAST', 'IN',
  'START', 'STOP', 'SECONDS', 'WITHIN', 'REPEATS', 'TIMES',
]);

// The grammar's whitespace set (WS rule).
const WS = /[ \t\v\r\n\f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/y;
const INT_POS = /\+?(?:0|[1-9][0-9]*)/y;
const INT_NEG = /-(?:0|[1-9][0-9]*)/y;
const FLOAT_POS = /\+?[0-9]*\.[0-9]+/y;
const FLOAT_NEG = /-[0-9]*\.[0-9]+/y;
const HEX = /h'(?:[A-Fa-f0-9]{2})*'/y;
const BINARY = /b'(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)'/y;
const STRING = /'(?:[^'\\]|\\'|\\\\)*'/y;
const TIMESTAMP =
  /t'[0-9]{4}-(?:0[1-9]|1[012])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?Z'/y;
const IDENT_NO_HYPHEN = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const IDENT_HYPHEN = /[a-zA-Z_][a-zA-Z0-9_-]*/y;

function matchAt(re: RegExp, text: string, at: number): number {
  re.lastIndex = at;
  const m = re.exec(text);
  return m === null ? 0 : m[0].length;
}

const PUNCT: ReadonlyArray<readonly [string, TokenKind]> = [
  ['==', 'EQ'], ['!=', 'NEQ'], ['<>', 'NEQ'], ['<=', 'LE'], ['>=', 'GE'],
  ['=', 'EQ'], ['<', 'LT'], ['>', 'GT'], ["'", 'QUOTE'], [':', 'COLON'], ['.', 'DOT'], [',', 'COMMA'],
  [')', 'RPAREN'], ['(', 'LPAREN'], [']', 'RBRACK'], ['[', 'LBRACK'], ['+', 'PLUS'], ['-', 'HYPHEN'],
  ['^', 'POWER_OP'], ['/', 'DIVIDE'], ['*', 'ASTERISK'],
];

// Rules in grammar order: on equal length the earlier one wins.
const LITERAL_RULES: ReadonlyArray<readonly [RegExp, TokenKind]> = [
  [INT_NEG, 'IntNeg'], [INT_POS, 'IntPos'], [FLOAT_NEG, 'FloatNeg'], [FLOAT_POS, 'FloatPos'],
  [HEX, 'Hex'], [BINARY, 'Binary'], [STRING, 'String'], [TIMESTAMP, 'Timestamp'],
];

export function tokenize(pattern: string): Token[] {
  if (pattern.length > PATTERN_LIMITS.maxLength) {
    throw new StixPatternError('DE_STIX_PATTERN_LIMIT',
      `the pattern is ${pattern.length} characters long; the limit is ${PATTERN_LIMITS.maxLength}`, null);
  }
  const tokens: Token[] = [];
  let i = 0;
  const n = pattern.length;
  while (i < n) {
    if (matchAt(WS, pattern, i) > 0) { i += 1; continue; }
    if (pattern.startsWith('/*', i)) {
      const end = pattern.indexOf('*/', i + 2);
      // An unterminated block comment is not a comment in ANTLR: '/' and '*' become tokens.
      if (end >= 0) { i = end + 2; continue; }
    }
    if (pattern.startsWith('//', i)) {
      let j = i + 2;
      while (j < n && pattern[j] !== '\r' && pattern[j] !== '\n') j += 1;
      i = j;
      continue;
    }
    let bestLen = 0;
    let bestKind: TokenKind = 'Invalid';
    for (const [re, kind] of LITERAL_RULES) {
      const len = matchAt(re, pattern, i);
      if (len > bestLen) { bestLen = len; bestKind = kind; }
    }
    const noHyphen = matchAt(IDENT_NO_HYPHEN, pattern, i);
    const withHyphen = matchAt(IDENT_HYPHEN, pattern, i);
    if (noHyphen > bestLen || withHyphen > bestLen) {
      if (withHyphen > noHyphen) { bestLen = withHyphen; bestKind = 'IdentHyphen'; }
      else {
        bestLen = noHyphen;
        const word = pattern.slice(i, i + noHyphen);
        bestKind = word === 'true' || word === 'false' ? 'Bool' : KEYWORDS.has(word) ? 'Keyword' : 'IdentNoHyphen';
      }
    }
    if (bestLen === 0) {
      for (const [text, kind] of PUNCT) {
        if (pattern.startsWith(text, i)) { bestLen = text.length; bestKind = kind; break; }
      }
    }
    if (bestLen === 0) {
      // InvalidCharacter: one code point.
      const cp = pattern.codePointAt(i) ?? 0;
      bestLen = cp > 0xffff ? 2 : 1;
      bestKind = 'Invalid';
    }
    tokens.push({ kind: bestKind, text: pattern.slice(i, i + bestLen), offset: i });
    i += bestLen;
  }
  tokens.push({ kind: 'EOF', text: '<end of pattern>', offset: n });
  return tokens;
}

/** Why a literal-looking piece of text is not a literal: used to give a precise hint. */
export function explainMalformedLiteral(pattern: string, offset: number): string | null {
  const head = pattern[offset];
  if (pattern[offset + 1] !== "'") return null;
  const close = pattern.indexOf("'", offset + 2);
  const body = close < 0 ? pattern.slice(offset + 2) : pattern.slice(offset + 2, close);
  if (head === 't') {
    return `${quoteText("t'" + body + "'")} is not a STIX timestamp: it must be t'YYYY-MM-DDTHH:MM:SS[.fraction]Z' in upper case, UTC`;
  }
  if (head === 'h') return `${quoteText("h'" + body + "'")} is not a hex literal: it needs an even number of hex digits`;
  if (head === 'b') return `${quoteText("b'" + body + "'")} is not a base64 literal: it needs groups of 4 base64 characters with correct padding`;
  return null;
}

/** Why a quote does not start a string: an unterminated string or a backslash escape other than \' and \\. */
export function explainBadString(pattern: string, offset: number): string {
  let j = offset + 1;
  while (j < pattern.length) {
    const c = pattern[j];
    if (c === "'") return 'unexpected quote';
    if (c === '\\') {
      const next = pattern[j + 1];
      if (next !== "'" && next !== '\\') {
        return `the string has the escape ${quoteText('\\' + (next ?? ''))} at column ${j + 1}; only \\' and \\\\ are allowed (write a regex backslash as \\\\)`;
      }
      j += 2;
      continue;
    }
    j += 1;
  }
  return 'the string is never closed (missing \')';
}
