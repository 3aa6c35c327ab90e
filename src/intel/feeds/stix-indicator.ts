// A STIX 2.1 indicator from a feed, checked field by field before it is stored (feeds are hostile
// input: a bad object is rejected with the reason and counted, the rest of the page is kept).

import { normalizeStixTime, parseStixTimeMs } from '../taxii/stix-time.ts';

export interface IndicatorRecord {
  readonly id: string;
  /** Fixed-width UTC (sorts as a time). */
  readonly modified: string;
  readonly name: string | null;
  readonly description: string | null;
  readonly pattern: string;
  readonly patternType: string;
  readonly validFrom: number;
  readonly validUntil: number | null;
  readonly revoked: boolean;
  readonly labels: readonly string[];
  readonly killChainPhases: readonly { kill_chain_name: string; phase_name: string }[];
  readonly confidence: number | null;
  readonly json: string;
}

const INDICATOR_ID = /^indicator--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** A pattern longer than this is not an indicator anyone wrote by hand or by tool: refuse it. */
export const MAX_PATTERN_LENGTH = 65_536;
/** Whole object, serialised. */
export const MAX_OBJECT_BYTES = 1_048_576;
const MAX_LIST = 256;
const MAX_TEXT = 16_384;

/** The checked indicator, or the reason it is not valid. */
export function checkIndicator(o: Record<string, unknown>): IndicatorRecord | { reason: string; code: 'DE_TAXII_INVALID_OBJECT' | 'DE_TAXII_TIMESTAMP' } {
  const bad = (reason: string) => ({ reason, code: 'DE_TAXII_INVALID_OBJECT' as const });
  const badTime = (reason: string) => ({ reason, code: 'DE_TAXII_TIMESTAMP' as const });
  if (o.type !== 'indicator') return bad('not an indicator');
  if (typeof o.id !== 'string' || !INDICATOR_ID.test(o.id)) return bad('id is not indicator--UUID');
  if (o.spec_version !== '2.1') return bad(`spec_version ${JSON.stringify(o.spec_version)?.slice(0, 20)} is not 2.1`);
  const created = normalizeStixTime(o.created);
  const modified = normalizeStixTime(o.modified);
  if (created === null) return badTime('created is missing or not a valid STIX timestamp');
  if (modified === null) return badTime('modified is missing or not a valid STIX timestamp');
  if (modified < created) return bad('modified is before created');
  if (typeof o.pattern !== 'string' || o.pattern.length === 0) return bad('pattern is missing');
  if (o.pattern.length > MAX_PATTERN_LENGTH) return bad(`pattern is longer than ${MAX_PATTERN_LENGTH} characters`);
  if (typeof o.pattern_type !== 'string' || !/^[a-z0-9-]{1,64}$/.test(o.pattern_type)) return bad('pattern_type is missing or malformed');
  const validFrom = parseStixTimeMs(o.valid_from);
  if (validFrom === null) return badTime('valid_from is missing or not a valid STIX timestamp');
  let validUntil: number | null = null;
  if (o.valid_until !== undefined) {
    validUntil = parseStixTimeMs(o.valid_until);
    if (validUntil === null) return badTime('valid_until is not a valid STIX timestamp');
    if (validUntil <= validFrom) return bad('valid_until is not after valid_from');
  }
  if (o.revoked !== undefined && typeof o.revoked !== 'boolean') return bad('revoked is not a boolean');
  const strings = (k: string): string[] | null => {
    const v = o[k];
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.length > MAX_LIST || !v.every((s) => typeof s === 'string' && s.length <= 256)) return null;
    return v as string[];
  };
  const labels = strings('labels');
  const types = strings('indicator_types');
  if (labels === null) return bad('labels is not a list of short strings');
  if (types === null) return bad('indicator_types is not a list of short strings');
  const phases = o.kill_chain_phases ?? [];
  if (!Array.isArray(phases) || phases.length > MAX_LIST || !phases.every((p) => p !== null && typeof p === 'object'
    && typeof (p as Record<string, unknown>).kill_chain_name === 'string' && typeof (p as Record<string, unknown>).phase_name === 'string')) {
    return bad('kill_chain_phases is not a list of {kill_chain_name, phase_name}');
  }
  if (o.confidence !== undefined && !(Number.isInteger(o.confidence) && (o.confidence as number) >= 0 && (o.confidence as number) <= 100)) {
    return bad('confidence is not an integer 0-100');
  }
  for (const k of ['name', 'description'] as const) {
    if (o[k] !== undefined && (typeof o[k] !== 'string' || o[k].length > MAX_TEXT)) return bad(`${k} is not a string of at most ${MAX_TEXT} characters`);
  }
  const json = JSON.stringify(o);
  if (json.length > MAX_OBJECT_BYTES) return bad(`the object is larger than ${MAX_OBJECT_BYTES} bytes`);
  return {
    id: o.id.toLowerCase(), modified, name: (o.name as string | undefined) ?? null, description: (o.description as string | undefined) ?? null,
    pattern: o.pattern, patternType: o.pattern_type, validFrom, validUntil, revoked: o.revoked === true,
    // indicator_types is 2.1's name for what 2.0 called labels; the matcher shows both as labels.
    labels: [...new Set([...types, ...labels])],
    killChainPhases: (phases as { kill_chain_name: string; phase_name: string }[]).map((p) => ({ kill_chain_name: p.kill_chain_name, phase_name: p.phase_name })),
    confidence: (o.confidence as number | undefined) ?? null, json,
  };
}
