// Checks the OASIS reference validator makes after parsing (stix2patterns v2.0.0): a hash value must
// fit its algorithm, and one qualifier type may not be applied twice directly to a [...] observation
// (`[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS`; on a parenthesised group it is allowed).
import type { Comparison, ComparisonExpr, Literal, ObservationExpr, ParsedPattern } from './ast.ts';
import { StixPatternError, quoteText } from './pattern-error.ts';

const HEX = (lengths: readonly number[]) => new RegExp(`^(?:${lengths.map((n) => `[a-fA-F0-9]{${n}}`).join('|')})$`);

// Keys are the algorithm name upper-cased without '-'; the reference does the same normalisation.
const HASH_FORMATS: Readonly<Record<string, { re: RegExp; name: string }>> = {
  MD5: { re: HEX([32]), name: 'MD5' },
  MD6: { re: HEX([32, 40, 56, 64, 96, 128]), name: 'MD6' },
  RIPEMD160: { re: HEX([40]), name: 'RIPEMD-160' },
  SHA1: { re: HEX([40]), name: 'SHA-1' },
  SHA224: { re: HEX([56]), name: 'SHA-224' },
  SHA256: { re: HEX([64]), name: 'SHA-256' },
  SHA384: { re: HEX([96]), name: 'SHA-384' },
  SHA512: { re: HEX([128]), name: 'SHA-512' },
  SHA3224: { re: HEX([56]), name: 'SHA3-224' },
  SHA3256: { re: HEX([64]), name: 'SHA3-256' },
  SHA3384: { re: HEX([96]), name: 'SHA3-384' },
  SHA3512: { re: HEX([128]), name: 'SHA3-512' },
  SSDEEP: { re: /^[a-zA-Z0-9/+:.]{1,128}$/, name: 'SSDEEP' },
  WHIRLPOOL: { re: HEX([128]), name: 'WHIRLPOOL' },
};

export function hashFormat(algorithm: string): { re: RegExp; name: string } | undefined {
  return HASH_FORMATS[algorithm.toUpperCase().replace(/-/g, '')];
}

function checkHashes(c: Comparison): void {
  const hashIdx = c.path.steps.findIndex((s) => s.kind === 'key' && s.key === 'hashes');
  if (hashIdx < 0) return;
  const last = c.path.steps[c.path.steps.length - 1]!;
  if (last.kind !== 'key') return;
  const format = hashFormat(last.key);
  if (format === undefined) return;
  const check = (lit: Literal) => {
    // The reference compares the literal's text without quotes, whatever its type.
    const value = lit.kind === 'string' ? lit.text.slice(1, -1) : lit.text.replace(/'/g, '');
    if (c.op === 'MATCHES' || c.op === 'LIKE' || c.op === 'ISSUBSET' || c.op === 'ISSUPERSET') return;
    if (!format.re.test(value)) {
      throw new StixPatternError('DE_STIX_PATTERN_INVALID', `${quoteText(value)} is not a valid ${format.name} hash`, lit.column,
        `a ${format.name} value is ${format.name === 'SSDEEP' ? 'an ssdeep signature' : 'hex digits of the algorithm\'s length'}; check the indicator`);
    }
  };
  for (const v of c.values) check(v);
}

function walkComparisons(e: ComparisonExpr, visit: (c: Comparison) => void): void {
  if (e.kind === 'comparison') visit(e);
  else { walkComparisons(e.left, visit); walkComparisons(e.right, visit); }
}

function checkObservation(e: ObservationExpr): void {
  switch (e.kind) {
    case 'observation': walkComparisons(e.expr, checkHashes); return;
    case 'obs-and': case 'obs-or': case 'followedby': checkObservation(e.left); checkObservation(e.right); return;
    case 'group': checkObservation(e.inner); return;
    case 'qualified': {
      // Collect the chain of qualifiers applied directly to one expression.
      const kinds: string[] = [];
      let inner: ObservationExpr = e;
      while (inner.kind === 'qualified') { kinds.push(inner.qualifier.kind); inner = inner.inner; }
      if (inner.kind === 'observation') {
        const seen = new Set<string>();
        for (const k of kinds.reverse()) {
          if (seen.has(k)) {
            throw new StixPatternError('DE_STIX_PATTERN_INVALID',
              `the ${k === 'startstop' ? 'START/STOP' : k.toUpperCase()} qualifier is applied twice to the same observation`, inner.column,
              'apply each qualifier once, or group with parentheses: ([...] WITHIN 5 SECONDS) WITHIN 6 SECONDS');
          }
          seen.add(k);
        }
      }
      checkObservation(inner);
    }
  }
}

export function checkParsedPattern(p: ParsedPattern): void {
  checkObservation(p.root);
}
