// Real-time matching of indicators against agent events. Indicators are compiled once and their
// leaves (each `[...]`) indexed by anchors: equality on a property goes to one hash map keyed by
// (object path, value) — hashes, names, IPs, domains, URLs alike —, ISSUBSET ranges to a prefix
// trie per path, `LIKE '%.domain'` to a suffix map, MATCHES to a trigram of a literal every match
// contains, numeric thresholds to sorted arrays. Per event, the cost is one lookup per indexed
// property the event has, plus the verification of the few candidates: it does not grow with the
// number of simple indicators. Leaves with no anchor (MATCHES, NOT, !=, ranges…) are evaluated for
// events that carry their object types. Multi-observation patterns (AND/OR/FOLLOWEDBY between
// observations, WITHIN, REPEATS, START/STOP) keep a bounded, expiring buffer per indicator.
import { DaemonEyeError } from '../../errors/catalogue.ts';
import { parseIp } from '../pattern/ip.ts';

import { objectSatisfies } from '../pattern/evaluate.ts';
import { matchObservations } from '../pattern/match-observed.ts';
import type { Observation } from '../pattern/observed-data.ts';
import { selectValues } from '../pattern/select.ts';
import { eventObservation, type AgentEvent } from './event-observation.ts';
import { IpTrie } from './ip-trie.ts';
import { compileIndicator, type IndicatorInfo, type Leaf, type LiveIndicator, type PathSpec } from './live-indicator.ts';
import { WindowState } from './window-state.ts';

export interface MatcherOptions {
  /** How long events stay buffered for patterns without an outer WITHIN (ms). */
  readonly defaultHorizonMs?: number;
  /** Events buffered per multi-observation indicator. */
  readonly maxBufferedPerIndicator?: number;
  /** Indicators with live window state at once (least recently used state is dropped beyond it). */
  readonly maxActiveWindows?: number;
}

export interface IndicatorMatch {
  readonly indicator: IndicatorInfo;
  /** The matched observables: the STIX objects of the event(s) that satisfied the pattern. */
  readonly observables: readonly Readonly<Record<string, unknown>>[];
  /** `table:id` of each event in the match. */
  readonly events: readonly string[];
  readonly time: number;
}

export interface LoadResult {
  readonly loaded: number;
  readonly rejected: readonly { readonly id: string; readonly code: string; readonly message: string }[];
}

interface RangeEntry {
  readonly t: number;
  readonly inclusive: boolean;
  readonly leaf: Leaf;
}

interface PathIndex {
  readonly spec: PathSpec;
  /** Equality anchors by value: strings and numbers apart, so no key string is built per lookup. */
  readonly eqStr: Map<string, Leaf[]>;
  readonly eqNum: Map<number, Leaf[]>;
  readonly cidr: IpTrie<Leaf>;
  readonly suffix: Map<string, Leaf[]>;
  readonly grams: Map<string, Leaf[]>;
  readonly suffixLengths: Set<number>;
  /** `>`/`>=` thresholds ascending and `<`/`<=` thresholds descending (sorted on first lookup). */
  readonly above: RangeEntry[];
  readonly below: RangeEntry[];
  sorted: boolean;
  /** The property name when the path is one plain key (no _ref/_hex/_bin handling needed). */
  readonly direct: string | null;
}

export class IntelMatcher {
  readonly #opts: Required<MatcherOptions>;
  /** Indexed paths by object type: what to read from an event's objects. */
  #paths = new Map<string, Map<string, PathIndex>>();
  /** Leaves without anchors, by object type. */
  #fallback = new Map<string, Leaf[]>();
  #indicators: LiveIndicator[] = [];
  #compiled = new Map<string, LiveIndicator>();
  #windows: WindowState;
  #seq = 0;
  readonly counters = { events: 0, candidates: 0, verified: 0, matches: 0, window_errors: 0, data_errors: 0 };

  constructor(opts: MatcherOptions = {}) {
    this.#opts = {
      defaultHorizonMs: opts.defaultHorizonMs ?? 3_600_000,
      maxBufferedPerIndicator: opts.maxBufferedPerIndicator ?? 256,
      maxActiveWindows: opts.maxActiveWindows ?? 10_000,
    };
    this.#windows = new WindowState(this.#opts.maxBufferedPerIndicator, this.#opts.maxActiveWindows);
  }

  get size(): number {
    return this.#indicators.length;
  }

  get stats(): { indicators: number; simple: number; windowed: number; fallbackLeaves: number; activeWindows: number } {
    let simple = 0;
    for (const i of this.#indicators) if (i.simple) simple += 1;
    let fallback = 0;
    for (const l of this.#fallback.values()) fallback += l.length;
    return { indicators: this.#indicators.length, simple, windowed: this.#indicators.length - simple, fallbackLeaves: fallback, activeWindows: this.#windows.active };
  }

  /** Replaces the loaded indicators (a reload keeps no window state of removed or changed ones). */
  load(indicators: readonly IndicatorInfo[]): LoadResult {
    this.#paths = new Map();
    this.#fallback = new Map();
    this.#indicators = [];
    const rejected: { id: string; code: string; message: string }[] = [];
    // Reloads happen while a feed syncs page by page: indicators that did not change keep their
    // compiled form, so a reload costs an index rebuild, not 100,000 parses.
    const previous = this.#compiled;
    this.#compiled = new Map();
    for (const info of indicators) {
      const key = info.id;
      let live = previous.get(key);
      if (live !== undefined && !sameInfo(live.info, info)) live = undefined;
      if (live === undefined) {
        try {
          live = compileIndicator(info, this.#opts.defaultHorizonMs);
        } catch (e) {
          // Whatever a hostile pattern does (even exhausting the stack), it costs only itself.
          if (e instanceof DaemonEyeError) rejected.push({ id: info.id, code: e.code, message: e.message });
          else rejected.push({ id: info.id, code: 'DE_STIX_PATTERN_LIMIT', message: (e as Error).message });
          continue;
        }
      }
      this.#compiled.set(key, live);
      this.#indicators.push(live);
      for (const leaf of live.leaves) { leaf.stamp = -1; this.#indexLeaf(leaf); }
    }
    this.#windows.retain(new Set(this.#indicators.filter((i) => !i.simple).map((i) => i.info.id + '\u0000' + i.info.pattern)));
    return { loaded: this.#indicators.length, rejected };
  }

  #pathIndex(spec: PathSpec): PathIndex {
    let byType = this.#paths.get(spec.objectType);
    if (byType === undefined) this.#paths.set(spec.objectType, (byType = new Map()));
    let p = byType.get(spec.key);
    if (p === undefined) byType.set(spec.key, (p = { spec, eqStr: new Map(), eqNum: new Map(), cidr: new IpTrie(), suffix: new Map(), grams: new Map(), suffixLengths: new Set(), above: [], below: [], sorted: true,
      direct: spec.steps.length === 1 && spec.steps[0]!.kind === 'key' && !/_(?:ref|refs|hex|bin)$/.test(spec.steps[0]!.key) ? spec.steps[0]!.key : null }));
    return p;
  }

  #indexLeaf(leaf: Leaf): void {
    if (leaf.anchors === null) {
      for (const t of leaf.objectTypes) {
        const list = this.#fallback.get(t);
        if (list === undefined) this.#fallback.set(t, [leaf]); else list.push(leaf);
      }
      return;
    }
    for (const a of leaf.anchors) {
      const p = this.#pathIndex(a.path);
      if (a.kind === 'eq') {
        if (a.key.startsWith('s')) push(p.eqStr, a.key.slice(1), leaf);
        else push(p.eqNum, Number(a.key.slice(1)), leaf);
      } else if (a.kind === 'cidr') p.cidr.insert(a.range, leaf);
      else if (a.kind === 'range') {
        const entry = { t: a.value, inclusive: a.op === '>=' || a.op === '<=', leaf };
        if (a.op === '>' || a.op === '>=') p.above.push(entry); else p.below.push(entry);
        p.sorted = false;
      } else if (a.kind === 'literal') {
        // The literal's least used trigram keeps candidate lists short.
        let gram = a.literal.slice(0, 3);
        let best = Infinity;
        for (let i = 0; i + 3 <= a.literal.length; i += 1) {
          const g = a.literal.slice(i, i + 3);
          const n = p.grams.get(g)?.length ?? 0;
          if (n < best) { best = n; gram = g; }
        }
        const list = p.grams.get(gram);
        if (list === undefined) p.grams.set(gram, [leaf]); else list.push(leaf);
      } else {
        const list = p.suffix.get(a.suffix);
        if (list === undefined) p.suffix.set(a.suffix, [leaf]); else list.push(leaf);
        p.suffixLengths.add(a.suffix.length);
      }
    }
  }

  /** Matches one event; returns the indicators it completes. Never throws on bad event data. */
  match(event: AgentEvent): IndicatorMatch[] {
    this.counters.events += 1;
    let obs: Observation;
    let candidates: Leaf[];
    try {
      obs = eventObservation(event);
      candidates = this.#candidates(obs);
    } catch {
      // A row the mapping cannot read is skipped and counted, never retried forever.
      this.counters.data_errors += 1;
      return [];
    }
    if (candidates.length === 0) return [];
    this.counters.candidates += candidates.length;
    const resolve = (id: string) => obs.objects.get(id);
    const out: IndicatorMatch[] = [];
    const windowed = new Set<LiveIndicator>();
    for (const leaf of candidates) {
      let roots: Set<string> | null = null;
      try {
        for (const [id, object] of obs.objects) {
          if (!leaf.objectTypes.has(object['type'] as string)) continue;
          if (objectSatisfies(leaf.expr, object, resolve)) (roots ??= new Set()).add(id);
        }
      } catch {
        // Malformed event data (e.g. a timestamp property a t'' literal cannot read): not a match.
        this.counters.data_errors += 1;
        continue;
      }
      if (roots === null) continue;
      this.counters.verified += 1;
      const ind = leaf.indicator;
      if (ind.simple) {
        out.push({ indicator: ind.info, observables: observablesOf(obs, roots), events: [obs.sdoId], time: event.time });
      } else windowed.add(ind);
    }
    for (const ind of windowed) {
      const m = this.#advanceWindow(ind, obs, event.time);
      if (m !== null) out.push(m);
    }
    this.counters.matches += out.length;
    return out;
  }

  #candidates(obs: Observation): Leaf[] {
    const seq = ++this.#seq;
    const out: Leaf[] = [];
    const take = (leaf: Leaf) => {
      if (leaf.stamp === seq) return;
      leaf.stamp = seq;
      out.push(leaf);
    };
    const resolve = (id: string) => obs.objects.get(id);
    for (const object of obs.objects.values()) {
      const type = object['type'] as string;
      const paths = this.#paths.get(type);
      if (paths !== undefined) {
        for (const p of paths.values()) {
          // One plain property (the common case) is read directly: no array per lookup.
          if (p.direct !== null) {
            if (Object.hasOwn(object, p.direct)) this.#lookup(p, object[p.direct], take);
          } else {
            for (const v of selectValues(object, p.spec.steps, resolve)) this.#lookup(p, v, take);
          }
        }
      }
      const fb = this.#fallback.get(type);
      if (fb !== undefined) for (const l of fb) take(l);
    }
    return out;
  }

  /** Candidate leaves for one value selected at path `p`. */
  #lookup(p: PathIndex, v: unknown, take: (leaf: Leaf) => void): void {
    if (typeof v === 'number') {
      const hit = p.eqNum.get(v);
      if (hit !== undefined) for (const l of hit) take(l);
      if (p.above.length > 0 || p.below.length > 0) {
        if (!p.sorted) { p.above.sort((x, y) => x.t - y.t); p.below.sort((x, y) => y.t - x.t); p.sorted = true; }
        // Thresholds below the value satisfy `>`; walk up until they pass it.
        for (const e of p.above) { if (e.t > v) break; if (e.t < v || e.inclusive) take(e.leaf); }
        for (const e of p.below) { if (e.t < v) break; if (e.t > v || e.inclusive) take(e.leaf); }
      }
      return;
    }
    if (typeof v !== 'string') return;
    const hit = p.eqStr.get(v);
    if (hit !== undefined) for (const l of hit) take(l);
    if (p.cidr.size > 0) {
      const addr = addressForLookup(v);
      if (addr !== null) p.cidr.lookup(addr, take);
    }
    if (p.grams.size > 0) {
      const s = v.normalize('NFC');
      for (let i = 0; i + 3 <= s.length; i += 1) {
        const hit = p.grams.get(s.slice(i, i + 3));
        if (hit !== undefined) for (const l of hit) take(l);
      }
    }
    if (p.suffix.size > 0) {
      const s = v.normalize('NFC');
      // Only the suffix lengths some indicator uses (a handful), not every position.
      for (const len of p.suffixLengths) {
        if (len > s.length) continue;
        const hit = p.suffix.get(len === s.length ? s : s.slice(s.length - len));
        if (hit !== undefined) for (const l of hit) take(l);
      }
    }
  }

  #advanceWindow(ind: LiveIndicator, obs: Observation, time: number): IndicatorMatch | null {
    const key = ind.info.id + '\u0000' + ind.info.pattern;
    const buffered = this.#windows.push(key, obs, time, ind.horizonMs, ind.minEvents);
    let result;
    try {
      result = matchObservations(ind.compiled, buffered, false);
    } catch {
      // Too many candidate bindings (DE_STIX_MATCH_LIMIT) or malformed data: start the window again.
      this.counters.window_errors += 1;
      this.#windows.clear(key);
      return null;
    }
    if (!result.matched) return null;
    // The events of a match are consumed: the next match needs new events.
    this.#windows.clear(key);
    const events = result.observedDataIds;
    const observables: Record<string, unknown>[] = [];
    for (const o of buffered) if (events.includes(o.sdoId)) observables.push(...observablesOf(o, new Set(o.objects.keys())));
    return { indicator: ind.info, observables, events, time };
  }
}

/** The matched root objects, with what their references point at inlined one level (for analysts). */
function observablesOf(obs: Observation, roots: ReadonlySet<string>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const id of roots) {
    const o = obs.objects.get(id);
    if (o === undefined) continue;
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      if (k.endsWith('_ref') && typeof v === 'string') copy[k.slice(0, -4)] = stripIds(obs.objects.get(v));
      else if (k.endsWith('_refs') && Array.isArray(v)) copy[k.slice(0, -5)] = v.map((r) => stripIds(obs.objects.get(String(r))));
      else if (k !== 'id') copy[k] = v;
    }
    out.push(copy);
  }
  return out;
}

function stripIds(o: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> | undefined {
  if (o === undefined) return undefined;
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (k !== 'id' && !k.endsWith('_ref') && !k.endsWith('_refs')) copy[k] = v;
  return copy;
}

function push<K>(map: Map<K, Leaf[]>, key: K, leaf: Leaf): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [leaf]); else list.push(leaf);
}

const SCRATCH_V4 = new Uint8Array(4);

/**
 * The address part of a value ('10.1.2.3', '10.1.2.0/24', an IPv6 address) for a trie lookup, or
 * null. Dotted quads are parsed by hand into a reused buffer: this runs for every address of every
 * event.
 */
function addressForLookup(v: string): Uint8Array | null {
  let part = 0;
  let digits = 0;
  let value = 0;
  let i = 0;
  let ok = true;
  for (; i < v.length; i += 1) {
    const c = v.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      digits += 1;
      if (digits > 3 || value > 255) { ok = false; break; }
    } else if (c === 46 && digits > 0 && part < 3) {
      SCRATCH_V4[part++] = value;
      value = 0;
      digits = 0;
    } else break;
  }
  if (ok && part === 3 && digits > 0 && (i === v.length || v.charCodeAt(i) === 47)) {
    SCRATCH_V4[3] = value;
    return SCRATCH_V4;
  }
  if (v.includes(':')) {
    const slash = v.indexOf('/');
    return parseIp(slash < 0 ? v : v.slice(0, slash));
  }
  return null;
}

function sameInfo(a: IndicatorInfo, b: IndicatorInfo): boolean {
  return a.pattern === b.pattern && a.name === b.name && a.confidence === b.confidence && a.validFrom === b.validFrom
    && a.validUntil === b.validUntil && JSON.stringify(a.labels) === JSON.stringify(b.labels)
    && JSON.stringify(a.killChainPhases) === JSON.stringify(b.killChainPhases);
}
