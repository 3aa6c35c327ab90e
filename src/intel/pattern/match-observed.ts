// Matches a compiled pattern against a set of observations (observed-data), with the semantics of
// the OASIS reference matcher: every observation expression is bound to observations so that the
// constraints hold — AND/FOLLOWEDBY need distinct observations, FOLLOWEDBY needs the right side to
// be able to happen no earlier than the left, WITHIN needs all bound observations to fit in one
// window, REPEATS needs n distinct bindings, START/STOP needs each to overlap [start, stop).
// Like the reference, it carries all candidate bindings bottom-up; a budget bounds them so a pattern
// such as `[a:x=1] REPEATS 1000 TIMES` over large data fails with DE_STIX_MATCH_LIMIT, not a hang.
import { DaemonEyeError } from '../../errors/catalogue.ts';
import type { CompiledObservation, CompiledPattern } from './compile.ts';
import type { Observation } from './observed-data.ts';
import { expressionRoots } from './evaluate.ts';

/** A binding: one observation index per [...] in the pattern (null where an OR side was not used). */
type Binding = readonly (number | null)[];

export const MAX_BINDINGS = 200_000;

export interface ObservedMatch {
  readonly matched: boolean;
  /** The observed-data ids of the first binding found (empty when not matched). */
  readonly observedDataIds: readonly string[];
}

class BindingMatcher {
  private readonly observations: readonly Observation[];
  private readonly eager: boolean;
  private work = 0;

  constructor(observations: readonly Observation[], eager: boolean) {
    this.observations = observations;
    this.eager = eager;
  }

  private spend(n: number): void {
    this.work += n;
    if (this.work > MAX_BINDINGS) {
      throw new DaemonEyeError('DE_STIX_MATCH_LIMIT', `matching needed more than ${MAX_BINDINGS} candidate bindings`);
    }
  }

  private size(e: CompiledObservation): number {
    switch (e.kind) {
      case 'observation': return 1;
      case 'obs-and': case 'obs-or': case 'followedby': return this.size(e.left) + this.size(e.right);
      case 'repeats': return this.size(e.inner) * e.count;
      default: return this.size(e.inner);
    }
  }

  private disjoint(a: Binding, b: Binding): boolean {
    for (const x of a) if (x !== null && b.includes(x)) return false;
    return true;
  }

  bindings(e: CompiledObservation): Binding[] {
    switch (e.kind) {
      case 'observation': {
        const out: Binding[] = [];
        for (let i = 0; i < this.observations.length; i += 1) {
          if (expressionRoots(e.expr, this.observations[i]!, this.eager).size > 0) out.push([i]);
        }
        this.spend(out.length);
        return out;
      }
      case 'obs-and': {
        const left = this.bindings(e.left);
        const right = this.bindings(e.right);
        const out: Binding[] = [];
        for (const l of left) for (const r of right) {
          this.spend(1);
          if (this.disjoint(l, r)) out.push([...l, ...r]);
        }
        return out;
      }
      case 'obs-or': {
        const left = this.bindings(e.left);
        const right = this.bindings(e.right);
        const leftNone = new Array<null>(left[0]?.length ?? this.size(e.left)).fill(null);
        const rightNone = new Array<null>(right[0]?.length ?? this.size(e.right)).fill(null);
        this.spend(left.length + right.length);
        return [...left.map((l) => [...l, ...rightNone]), ...right.map((r) => [...leftNone, ...r])];
      }
      case 'followedby': {
        const left = this.bindings(e.left);
        const right = this.bindings(e.right);
        const out: Binding[] = [];
        for (const l of left) {
          // The most optimistic timing: the left side as early as it can be, the right as late.
          let latestFirst: bigint | null = null;
          for (const i of l) if (i !== null) { const f = this.observations[i]!.firstUs; if (latestFirst === null || f > latestFirst) latestFirst = f; }
          for (const r of right) {
            this.spend(1);
            if (!this.disjoint(l, r)) continue;
            let earliestLast: bigint | null = null;
            for (const i of r) if (i !== null) { const t = this.observations[i]!.lastUs; if (earliestLast === null || t < earliestLast) earliestLast = t; }
            if (latestFirst === null || earliestLast === null || latestFirst <= earliestLast) out.push([...l, ...r]);
          }
        }
        return out;
      }
      case 'within': {
        // Some window of the given length overlaps every bound observation's [first, last].
        return this.bindings(e.inner).filter((b) => {
          let maxFirst: bigint | null = null;
          let minLast: bigint | null = null;
          for (const i of b) {
            if (i === null) continue;
            const o = this.observations[i]!;
            if (maxFirst === null || o.firstUs > maxFirst) maxFirst = o.firstUs;
            if (minLast === null || o.lastUs < minLast) minLast = o.lastUs;
          }
          return maxFirst === null || minLast === null || maxFirst <= minLast + e.us;
        });
      }
      case 'startstop': {
        if (e.startUs >= e.stopUs) return [];
        return this.bindings(e.inner).filter((b) => b.every((i) => {
          if (i === null) return true;
          const o = this.observations[i]!;
          return o.firstUs < e.stopUs && e.startUs <= o.lastUs;
        }));
      }
      case 'repeats': {
        const inner = this.bindings(e.inner);
        if (e.count === 1) return inner;
        return this.combinations(inner, e.count);
      }
    }
  }

  /** All `size`-element combinations of pairwise-disjoint bindings, flattened. */
  private combinations(values: Binding[], size: number): Binding[] {
    const out: Binding[] = [];
    const chosen: Binding[] = [];
    const walk = (start: number) => {
      if (chosen.length === size) { out.push(chosen.flat()); this.spend(1); return; }
      for (let i = start; i <= values.length - (size - chosen.length); i += 1) {
        this.spend(1);
        const v = values[i]!;
        if (!chosen.every((c) => this.disjoint(c, v))) continue;
        chosen.push(v);
        walk(i + 1);
        chosen.pop();
      }
    };
    walk(0);
    return out;
  }
}

/** `eager` (default) evaluates every comparison as the reference does; live matching passes false. */
export function matchObservations(pattern: CompiledPattern, observations: readonly Observation[], eager = true): ObservedMatch {
  const matcher = new BindingMatcher(observations, eager);
  const found = matcher.bindings(pattern.root);
  if (found.length === 0) return { matched: false, observedDataIds: [] };
  const ids: string[] = [];
  for (const i of [...found[0]!].filter((x): x is number => x !== null).sort((a, b) => a - b)) {
    const id = observations[i]!.sdoId;
    if (ids[ids.length - 1] !== id) ids.push(id);
  }
  return { matched: true, observedDataIds: ids };
}
