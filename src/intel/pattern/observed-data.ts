// STIX 2.1 observed-data as the matcher sees it: bundles of observed-data SDOs whose object_refs
// name the cyber-observable objects (SCOs) in the same bundle. An SDO observed `number_observed`
// times counts as that many observations (REPEATS and WITHIN count them), as in the reference.
// Only SCOs referenced by an observed-data object are matched; the observed-data object itself
// and unreferenced objects are not.
import { DaemonEyeError } from '../../errors/catalogue.ts';
import { quoteText } from './pattern-error.ts';
import { parseStixTime } from './timestamp.ts';

export interface Observation {
  /** The observed-data SDO's id. */
  readonly sdoId: string;
  /** The SCOs it observed, by id; `_ref` properties resolve within this map. */
  readonly objects: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
  readonly firstUs: bigint;
  readonly lastUs: bigint;
}

/** Bound on observations after expanding number_observed, so a hostile file cannot exhaust memory. */
export const MAX_OBSERVATIONS = 100_000;

function bad(message: string): never {
  throw new DaemonEyeError('DE_STIX_OBSERVED_DATA', message);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Accepts a bundle, a list of bundles, or a list of objects (treated as one bundle). */
export function loadObservations(input: unknown): Observation[] {
  let bundles: unknown[];
  if (Array.isArray(input)) bundles = input.every((b) => isRecord(b) && b.type === 'bundle') ? input : [{ type: 'bundle', objects: input }];
  else if (isRecord(input) && input.type === 'bundle') bundles = [input];
  else if (isRecord(input) && input.type === 'observed-data') bundles = [{ type: 'bundle', objects: [input] }];
  else return bad('expected a STIX bundle, a list of bundles or a list of STIX objects');
  const out: Observation[] = [];
  for (const bundle of bundles) {
    if (!isRecord(bundle) || !Array.isArray(bundle.objects)) bad('a bundle has no "objects" list');
    const byId = new Map<string, Record<string, unknown>>();
    for (const o of bundle.objects as unknown[]) {
      if (isRecord(o) && typeof o.id === 'string') byId.set(o.id, o);
    }
    for (const o of bundle.objects as unknown[]) {
      if (!isRecord(o) || o.type !== 'observed-data') continue;
      const id = typeof o.id === 'string' ? o.id : '(observed-data without id)';
      const n = o.number_observed;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) bad(`${id}: number_observed must be a whole number of at least 1, got ${quoteText(String(n))}`);
      const first = parseStixTime(String(o.first_observed));
      const last = parseStixTime(String(o.last_observed));
      if (first === null) bad(`${id}: invalid first_observed timestamp ${quoteText(String(o.first_observed))}`);
      if (last === null) bad(`${id}: invalid last_observed timestamp ${quoteText(String(o.last_observed))}`);
      if (first.us > last.us) bad(`${id}: first_observed is after last_observed`);
      const objects = new Map<string, Record<string, unknown>>();
      if (Array.isArray(o.object_refs)) {
        for (const ref of o.object_refs) {
          if (typeof ref !== 'string') bad(`${id}: object_refs holds a value that is not a string`);
          const sco = byId.get(ref);
          if (sco !== undefined) objects.set(ref, sco);
        }
      } else if (isRecord(o.objects)) {
        // STIX 2.0 style: the SCOs inline, keyed by local ids.
        for (const [k, v] of Object.entries(o.objects)) if (isRecord(v)) objects.set(k, v);
      }
      if (out.length + n > MAX_OBSERVATIONS) bad(`more than ${MAX_OBSERVATIONS} observations after counting number_observed`);
      const obs: Observation = { sdoId: id, objects, firstUs: first.us, lastUs: last.us };
      for (let i = 0; i < n; i += 1) out.push(obs);
    }
  }
  return out;
}
