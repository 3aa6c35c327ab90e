// Object path selection with the reference semantics: a key step keeps the values that are objects
// holding the key; `*_hex`/`*_bin` properties become bytes; `x_ref` is replaced by the object it
// names and `x_refs` by the list of objects it names (unresolved references are dropped); an index
// step takes that element of lists; `[*]` spreads lists (and only lists: `hashes[*]` selects nothing).
import { DaemonEyeError } from '../../errors/catalogue.ts';
import type { PathStep } from './ast.ts';
import { quoteText } from './pattern-error.ts';

export type ObjectResolver = (id: string) => unknown;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function suffixValue(key: string, value: unknown): unknown {
  if (key.endsWith('_hex')) {
    if (typeof value !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(value)) {
      throw new DaemonEyeError('DE_STIX_OBSERVED_DATA', `property ${quoteText(key)} is not a hex string: ${quoteText(String(value))}`);
    }
    return Uint8Array.from(Buffer.from(value, 'hex'));
  }
  if (key.endsWith('_bin')) {
    if (typeof value !== 'string') throw new DaemonEyeError('DE_STIX_OBSERVED_DATA', `property ${quoteText(key)} is not a base64 string`);
    return Uint8Array.from(Buffer.from(value, 'base64'));
  }
  return value;
}

function deref(key: string, ref: unknown, resolve: ObjectResolver): unknown {
  if (typeof ref !== 'string') {
    throw new DaemonEyeError('DE_STIX_OBSERVED_DATA', `a value of reference property ${quoteText(key)} is not a string`);
  }
  return resolve(ref);
}

/** Values selected from `root` by `steps`. */
export function selectValues(root: unknown, steps: readonly PathStep[], resolve: ObjectResolver): unknown[] {
  // Fast path for the most common path, one plain property (file:name, ipv4-addr:value).
  if (steps.length === 1) {
    const s = steps[0]!;
    if (s.kind === 'key' && isRecord(root) && !/_(?:ref|refs|hex|bin)$/.test(s.key)) {
      return Object.hasOwn(root, s.key) ? [root[s.key]] : [];
    }
  }
  let values: unknown[] = [root];
  for (const step of steps) {
    const next: unknown[] = [];
    if (step.kind === 'key') {
      const key = step.key;
      const isRef = key.endsWith('_ref');
      const isRefs = key.endsWith('_refs');
      for (const v of values) {
        if (!isRecord(v) || !Object.hasOwn(v, key)) continue;
        const raw = suffixValue(key, v[key]);
        if (isRef) {
          const target = deref(key, raw, resolve);
          if (target !== undefined) next.push(target);
        } else if (isRefs) {
          if (!Array.isArray(raw)) throw new DaemonEyeError('DE_STIX_OBSERVED_DATA', `reference list property ${quoteText(key)} is not a list`);
          const targets: unknown[] = [];
          for (const r of raw) { const t = deref(key, r, resolve); if (t !== undefined) targets.push(t); }
          if (targets.length > 0) next.push(targets);
        } else next.push(raw);
      }
    } else if (step.kind === 'index') {
      for (const v of values) if (Array.isArray(v) && step.index >= 0 && step.index < v.length) next.push(v[step.index]);
    } else {
      for (const v of values) if (Array.isArray(v)) for (const e of v) next.push(e);
    }
    values = next;
    if (values.length === 0) break;
  }
  return values;
}
