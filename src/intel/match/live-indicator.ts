// An indicator compiled for live matching: its pattern split into leaves (each `[...]`), each leaf
// with the index anchors that make it a candidate for an event, and the window state it needs.
import type { Comparison, ComparisonExpr, Literal, ObservationExpr, ParsedPattern } from '../pattern/ast.ts';
import { compileParsed, type CompiledExpr, type CompiledObservation, type CompiledPattern } from '../pattern/compile.ts';
import { parsePattern } from '../pattern/parser.ts';
import { parseIpOrCidr, type IpRange } from '../pattern/ip.ts';
import type { PathStep } from '../pattern/ast.ts';
import { requiredLiteral } from './regex-literal.ts';

export interface IndicatorInfo {
  readonly id: string;
  readonly name: string | null;
  readonly pattern: string;
  readonly labels: readonly string[];
  readonly killChainPhases: readonly unknown[];
  readonly confidence: number | null;
  readonly validFrom: number;
  readonly validUntil: number | null;
}

export type Anchor =
  | { readonly kind: 'eq'; readonly path: PathSpec; readonly key: string }
  | { readonly kind: 'cidr'; readonly path: PathSpec; readonly range: IpRange }
  | { readonly kind: 'suffix'; readonly path: PathSpec; readonly suffix: string }
  /** MATCHES: a literal every matching value contains; indexed by one of its trigrams. */
  | { readonly kind: 'literal'; readonly path: PathSpec; readonly literal: string }
  /** Numeric thresholds (`dst_port > 1024`): sorted arrays, the satisfied ones found by walking from one end. */
  | { readonly kind: 'range'; readonly path: PathSpec; readonly op: '<' | '<=' | '>' | '>='; readonly value: number };

export interface PathSpec {
  readonly key: string;
  readonly objectType: string;
  readonly steps: readonly PathStep[];
}

export interface Leaf {
  readonly indicator: LiveIndicator;
  readonly expr: CompiledExpr;
  readonly objectTypes: ReadonlySet<string>;
  /** null: no anchor covers every way the leaf can match, so it is evaluated for its object types. */
  readonly anchors: readonly Anchor[] | null;
  /** Dedupe stamp: the last event sequence number this leaf was a candidate for. */
  stamp: number;
}

export interface LiveIndicator {
  readonly info: IndicatorInfo;
  readonly compiled: CompiledPattern;
  /** A single `[...]` without qualifiers: a match on one event is a match of the indicator. */
  readonly simple: boolean;
  readonly leaves: readonly Leaf[];
  /** How long buffered events stay relevant for a multi-observation pattern (ms). */
  readonly horizonMs: number;
  /** Fewest events a match needs (REPEATS 50 TIMES needs 50): buffers are at least this large. */
  readonly minEvents: number;
}

export function pathKey(objectType: string, steps: readonly PathStep[]): string {
  return objectType + ':' + steps.map((s) => (s.kind === 'key' ? '.' + s.key : s.kind === 'index' ? `[${s.index}]` : '[*]')).join('');
}

/**
 * Hash values are hex: case carries no meaning, and the agent reports lower case. The reference
 * compares them case-sensitively; live matching lower-cases hash literals so 'AEC0…' finds 'aec0…'.
 */
function lowerHashLiterals(p: ParsedPattern): ParsedPattern {
  const fixCmp = (c: Comparison): Comparison => {
    if (!c.path.steps.some((s) => s.kind === 'key' && s.key === 'hashes')) return c;
    if (c.op !== '=' && c.op !== '!=' && c.op !== 'IN') return c;
    const values: Literal[] = c.values.map((v) => (v.kind === 'string' ? { ...v, text: v.text.toLowerCase() } : v));
    return { ...c, values };
  };
  const fixExpr = (e: ComparisonExpr): ComparisonExpr => (e.kind === 'comparison' ? fixCmp(e) : { ...e, left: fixExpr(e.left), right: fixExpr(e.right) });
  const fixObs = (e: ObservationExpr): ObservationExpr => {
    switch (e.kind) {
      case 'observation': return { ...e, expr: fixExpr(e.expr) };
      case 'obs-and': case 'obs-or': case 'followedby': return { ...e, left: fixObs(e.left), right: fixObs(e.right) };
      case 'qualified': case 'group': return { ...e, inner: fixObs(e.inner) };
    }
  };
  return { ...p, root: fixObs(p.root) };
}

function anchorsOf(e: CompiledExpr): Anchor[] | null {
  if (e.kind === 'cmp') {
    const c = e.cmp;
    if (c.source.negated || c.exists) return null;
    const path: PathSpec = { key: pathKey(c.path.objectType, c.path.steps), objectType: c.path.objectType, steps: c.path.steps };
    switch (c.source.op) {
      case '=': case 'IN': {
        const out: Anchor[] = [];
        for (const v of c.literals) {
          if (typeof v === 'string') out.push({ kind: 'eq', path, key: 's' + v });
          else if (typeof v === 'number') out.push({ kind: 'eq', path, key: 'n' + String(v) });
          else return null;
        }
        return out;
      }
      case '<': case '<=': case '>': case '>=': {
        const v = c.literals[0];
        return typeof v === 'number' ? [{ kind: 'range', path, op: c.source.op, value: v }] : null;
      }
      case 'ISSUBSET': {
        const range = parseIpOrCidr(String(c.literals[0]));
        return range === null ? null : [{ kind: 'cidr', path, range }];
      }
      case 'LIKE': {
        const like = c.source.values[0]!.text.slice(1, -1).replace(/\\(['\\])/g, '$1');
        // '%.evil.example' (and '%evil.example') find values by suffix; other shapes are evaluated.
        const rest = like.slice(1);
        if (like.startsWith('%') && rest.length > 0 && !/[%_]/.test(rest)) return [{ kind: 'suffix', path, suffix: rest.normalize('NFC') }];
        return null;
      }
      case 'MATCHES': {
        const regex = c.source.values[0]!.text.slice(1, -1).replace(/\\(['\\])/g, '$1').normalize('NFC');
        const literal = requiredLiteral(regex);
        return literal.length >= 3 ? [{ kind: 'literal', path, literal }] : null;
      }
      default: return null;
    }
  }
  const left = anchorsOf(e.left);
  const right = anchorsOf(e.right);
  if (e.kind === 'or') return left === null || right === null ? null : [...left, ...right];
  // AND: either side's anchors cover every match; take the narrower.
  if (left === null) return right;
  if (right === null) return left;
  return left.length <= right.length ? left : right;
}

function collectLeaves(o: CompiledObservation, out: { expr: CompiledExpr; objectTypes: ReadonlySet<string> }[]): void {
  switch (o.kind) {
    case 'observation': out.push({ expr: o.expr, objectTypes: o.objectTypes }); return;
    case 'obs-and': case 'obs-or': case 'followedby': collectLeaves(o.left, out); collectLeaves(o.right, out); return;
    default: collectLeaves(o.inner, out);
  }
}

function minEvents(o: CompiledObservation): number {
  switch (o.kind) {
    case 'observation': return 1;
    case 'obs-and': case 'followedby': return minEvents(o.left) + minEvents(o.right);
    case 'obs-or': return Math.min(minEvents(o.left), minEvents(o.right));
    case 'repeats': return Math.min(1_000_000, minEvents(o.inner) * o.count);
    default: return minEvents(o.inner);
  }
}

/** Compiles an indicator for live matching. Throws StixPatternError when the pattern is invalid. */
export function compileIndicator(info: IndicatorInfo, defaultHorizonMs: number): LiveIndicator {
  const compiled = compileParsed(lowerHashLiterals(parsePattern(info.pattern)));
  const root = compiled.root;
  const horizonMs = root.kind === 'within' ? Math.max(1, Number(root.us / 1000n)) : defaultHorizonMs;
  const raw: { expr: CompiledExpr; objectTypes: ReadonlySet<string> }[] = [];
  collectLeaves(root, raw);
  const indicator: LiveIndicator = { info, compiled, simple: root.kind === 'observation', leaves: [], horizonMs, minEvents: minEvents(root) };
  (indicator.leaves as Leaf[]).push(...raw.map((l) => ({ indicator, expr: l.expr, objectTypes: l.objectTypes, anchors: anchorsOf(l.expr), stamp: -1 })));
  return indicator;
}
