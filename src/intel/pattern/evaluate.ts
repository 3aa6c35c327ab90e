// Evaluates the comparison expression of one `[...]` against one observation: which root objects
// satisfy it. Comparisons joined by AND must hold on the same root object (reference semantics).
import type { CompiledComparison, CompiledExpr } from './compile.ts';
import type { Observation } from './observed-data.ts';
import { selectValues } from './select.ts';

/** Root object ids in `obs` for which the comparison holds. */
export function comparisonRoots(cmp: CompiledComparison, obs: Observation): Set<string> {
  const out = new Set<string>();
  const resolve = (id: string) => obs.objects.get(id);
  for (const [id, object] of obs.objects) {
    if (object.type !== cmp.path.objectType) continue;
    const values = selectValues(object, cmp.path.steps, resolve);
    if (cmp.exists) {
      if ((values.length > 0) === cmp.test(undefined)) out.add(id);
      continue;
    }
    for (const v of values) {
      if (cmp.test(v)) { out.add(id); break; }
    }
  }
  return out;
}

/**
 * Root object ids satisfying `e`. `eager` evaluates both sides of AND even when the left is empty,
 * as the reference does (so malformed data is reported identically); live matching short-cuts.
 */
export function expressionRoots(e: CompiledExpr, obs: Observation, eager: boolean): Set<string> {
  if (e.kind === 'cmp') return comparisonRoots(e.cmp, obs);
  const left = expressionRoots(e.left, obs, eager);
  if (e.kind === 'and') {
    if (!eager && left.size === 0) return left;
    const right = expressionRoots(e.right, obs, eager);
    for (const id of left) if (!right.has(id)) left.delete(id);
    return left;
  }
  for (const id of expressionRoots(e.right, obs, eager)) left.add(id);
  return left;
}

/**
 * Does one root object satisfy `e`? Equivalent to `expressionRoots(e, obs, false).has(id)` (AND needs
 * the same root, and a root only satisfies comparisons on its own type) without building sets: the
 * live matcher calls this for every candidate on every event.
 */
export function objectSatisfies(e: CompiledExpr, object: Readonly<Record<string, unknown>>, resolve: (id: string) => unknown): boolean {
  if (e.kind !== 'cmp') {
    return e.kind === 'and'
      ? objectSatisfies(e.left, object, resolve) && objectSatisfies(e.right, object, resolve)
      : objectSatisfies(e.left, object, resolve) || objectSatisfies(e.right, object, resolve);
  }
  const cmp = e.cmp;
  if (object['type'] !== cmp.path.objectType) return false;
  const values = selectValues(object, cmp.path.steps, resolve);
  if (cmp.exists) return (values.length > 0) === cmp.test(undefined);
  for (const v of values) if (cmp.test(v)) return true;
  return false;
}
