// Hostile patterns: random and mutated input, deep nesting, huge sets, regexes built to backtrack,
// year-99999 timestamps. The parser and matcher must never crash or hang: every failure is a coded
// DE_STIX_* error. (No timing assertions: a hang would time the test out.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compilePattern, validatePattern } from '../src/intel/pattern/compile.ts';
import { loadObservations } from '../src/intel/pattern/observed-data.ts';
import { matchObservations } from '../src/intel/pattern/match-observed.ts';
import { DaemonEyeError } from '../src/errors/catalogue.ts';
import { StixPatternError } from '../src/intel/pattern/pattern-error.ts';
import { IntelMatcher } from '../src/intel/match/intel-matcher.ts';
import { STIX_VECTORS_DIR } from './stix-vectors-dir.ts';

const VECTORS = join(STIX_VECTORS_DIR, 'matcher-vectors.json');

/** Deterministic PRNG (mulberry32) so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OBSERVED = loadObservations({
  type: 'bundle', id: 'bundle--f', objects: [
    { type: 'observed-data', id: 'observed-data--1', number_observed: 3, first_observed: '2026-01-01T00:00:00Z', last_observed: '2026-01-01T00:00:05Z', object_refs: ['file--1', 'process--1'] },
    { type: 'file', id: 'file--1', name: 'a.exe', size: 10, hashes: { 'SHA-256': 'ab'.repeat(32) }, payload_bin: 'YWJj' },
    { type: 'process', id: 'process--1', pid: 4, command_line: 'a'.repeat(5000) + '!', image_ref: 'file--1', child_refs: ['file--1'] },
  ],
});

/** Parse, compile and match; returns the error code, or 'ok'. Any uncoded throw fails the test. */
function attempt(pattern: string): string {
  try {
    const compiled = validatePattern(pattern);
    matchObservations(compilePattern(compiled.text), OBSERVED);
    return 'ok';
  } catch (e) {
    if (!(e instanceof DaemonEyeError)) assert.fail(`uncoded error for ${JSON.stringify(pattern.slice(0, 200))}: ${(e as Error).stack}`);
    assert.match(e.code, /^DE_STIX_/);
    if (e instanceof StixPatternError && e.column !== null) {
      assert.ok(e.column >= 1 && e.column <= pattern.length + 1, `column ${e.column} outside the pattern`);
    }
    return e.code;
  }
}

const VOCAB = ['[', ']', '(', ')', 'file', ':', 'name', '.', "'SHA-256'", 'hashes', '=', '!=', '<', '>=', 'IN', 'LIKE', 'MATCHES',
  'ISSUBSET', 'ISSUPERSET', 'EXISTS', 'NOT', 'AND', 'OR', 'FOLLOWEDBY', 'WITHIN', 'REPEATS', 'TIMES', 'SECONDS', 'START', 'STOP',
  "'a'", "'%a%'", "'(a+)+$'", '1', '-2', '3.5', 'true', "h'ab'", "b'YWJj'", "t'2026-01-01T00:00:00Z'", "t'99999-01-01T00:00:00Z'",
  ',', '[*]', '[0]', 'process', 'image_ref', 'child_refs', "'10.0.0.0/8'", '/*', '*/', '//', '\\', "'", '"', '\u0000', '\u{1F600}'];

test('random token soup never crashes the parser', () => {
  const r = rng(1);
  const codes = new Map<string, number>();
  for (let i = 0; i < 3000; i += 1) {
    const n = 1 + Math.floor(r() * 20);
    const parts: string[] = [];
    for (let j = 0; j < n; j += 1) parts.push(VOCAB[Math.floor(r() * VOCAB.length)]!);
    const code = attempt(parts.join(r() < 0.5 ? ' ' : ''));
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  assert.ok((codes.get('DE_STIX_PATTERN') ?? 0) > 0);
});

test('mutated conformance patterns never crash the parser or matcher', { skip: existsSync(VECTORS) ? false : 'no vectors' }, () => {
  const patterns: string[] = (JSON.parse(readFileSync(VECTORS, 'utf8')) as { pattern: string }[]).map((v) => v.pattern);
  const r = rng(2);
  let ok = 0;
  for (let i = 0; i < 4000; i += 1) {
    let p = patterns[Math.floor(r() * patterns.length)]!;
    const edits = 1 + Math.floor(r() * 3);
    for (let k = 0; k < edits; k += 1) {
      const at = Math.floor(r() * (p.length + 1));
      const op = r();
      if (op < 0.33) p = p.slice(0, at) + p.slice(at + 1);
      else if (op < 0.66) p = p.slice(0, at) + VOCAB[Math.floor(r() * VOCAB.length)] + p.slice(at);
      else p = p.slice(0, at) + String.fromCharCode(Math.floor(r() * 128)) + p.slice(at + 1);
    }
    if (attempt(p) === 'ok') ok += 1;
  }
  assert.ok(ok > 0, 'some mutations stay valid');
});

test('deep nesting is refused with DE_STIX_PATTERN_LIMIT, not a stack overflow', () => {
  const depth = 100_000;
  assert.equal(attempt('('.repeat(depth) + "[file:name = 'a']" + ')'.repeat(depth)), 'DE_STIX_PATTERN_LIMIT');
  assert.equal(attempt('[' + '('.repeat(depth) + "file:name = 'a'" + ')'.repeat(depth) + ']'), 'DE_STIX_PATTERN_LIMIT');
  // Within the bound it works.
  assert.equal(attempt('('.repeat(30) + "[file:name = 'a.exe']" + ')'.repeat(30)), 'ok');
});

test('long chains of AND/OR/FOLLOWEDBY are bounded', () => {
  const chain = Array.from({ length: 20_000 }, () => "file:name = 'a'").join(' OR ');
  assert.equal(attempt(`[${chain}]`), 'DE_STIX_PATTERN_LIMIT');
  assert.equal(attempt('x'.repeat(300 * 1024)), 'DE_STIX_PATTERN_LIMIT');
});

test('huge IN sets are refused; large ones work', () => {
  const set = (n: number) => `[file:name IN (${Array.from({ length: n }, (_, i) => `'f${i}'`).join(', ')})]`;
  assert.equal(attempt(set(20_000)), 'DE_STIX_PATTERN_LIMIT');
  assert.equal(attempt(set(5_000)), 'ok');
});

test('a regex built to backtrack runs in linear time (RE2) and does not match', () => {
  const compiled = compilePattern("[process:command_line MATCHES '^(a+)+$']");
  assert.equal(matchObservations(compiled, OBSERVED).matched, false);
  const evil = compilePattern("[process:command_line MATCHES '(a|aa)*(a|aa)*(a|aa)*b']");
  assert.equal(matchObservations(evil, OBSERVED).matched, false);
  // Backreferences cannot be linear: refused with a coded error.
  assert.equal(attempt("[process:command_line MATCHES '(a)\\\\1']"), 'DE_STIX_PATTERN_INVALID');
});

test('year 99999 is refused in patterns and in data', () => {
  assert.equal(attempt("[file:created = t'99999-01-01T00:00:00Z']"), 'DE_STIX_PATTERN');
  const bad = loadObservations({ type: 'bundle', id: 'bundle--y', objects: [
    { type: 'observed-data', id: 'observed-data--y', number_observed: 1, first_observed: '2026-01-01T00:00:00Z', last_observed: '2026-01-01T00:00:00Z', object_refs: ['file--y'] },
    { type: 'file', id: 'file--y', created: '99999-01-01T00:00:00Z' },
  ] });
  assert.throws(() => matchObservations(compilePattern("[file:created > t'2020-01-01T00:00:00Z']"), bad), (e: unknown) => e instanceof DaemonEyeError && e.code === 'DE_STIX_OBSERVED_DATA');
  assert.throws(() => loadObservations({ type: 'bundle', objects: [{ type: 'observed-data', id: 'o', number_observed: 1, first_observed: '99999-01-01T00:00:00Z', last_observed: '99999-01-01T00:00:00Z', object_refs: [] }] }),
    (e: unknown) => e instanceof DaemonEyeError && e.code === 'DE_STIX_OBSERVED_DATA');
});

test('huge qualifiers and combinatorial matching are bounded', () => {
  assert.equal(attempt("[file:name = 'a'] REPEATS 100000 TIMES"), 'DE_STIX_PATTERN_LIMIT');
  assert.equal(attempt("[file:name = 'a'] WITHIN 99999999999 SECONDS"), 'DE_STIX_PATTERN_LIMIT');
  // 200 observations, choose 30 disjoint: astronomically many bindings -> DE_STIX_MATCH_LIMIT.
  const many = loadObservations({ type: 'bundle', id: 'bundle--m', objects: [
    { type: 'observed-data', id: 'observed-data--m', number_observed: 200, first_observed: '2026-01-01T00:00:00Z', last_observed: '2026-01-01T00:00:00Z', object_refs: ['file--m'] },
    { type: 'file', id: 'file--m', name: 'a' },
  ] });
  // Disjoint bindings exist, so the search must explore; bounded by the binding budget.
  assert.throws(() => matchObservations(compilePattern("([file:name = 'a'] AND [file:name = 'a'] AND [file:name = 'a']) REPEATS 30 TIMES"), many),
    (e: unknown) => e instanceof DaemonEyeError && e.code === 'DE_STIX_MATCH_LIMIT');
});

test('the longest allowed chains compile and match without exhausting the stack', () => {
  const or = Array.from({ length: 1000 }, (_, i) => `file:name = 'n${i}'`).join(' OR ');
  assert.equal(attempt(`[${or}]`), 'ok');
  const and = Array.from({ length: 1000 }, (_, i) => `file:name != 'n${i}'`).join(' AND ');
  assert.equal(attempt(`[${and}]`), 'ok');
  const obsOr = Array.from({ length: 200 }, (_, i) => `[file:name = 'n${i}']`).join(' OR ');
  assert.equal(attempt(obsOr), 'ok');
  const fb = Array.from({ length: 200 }, (_, i) => `[file:name = 'n${i}']`).join(' FOLLOWEDBY ');
  assert.equal(attempt(fb), 'ok');
  assert.equal(attempt(Array.from({ length: 201 }, () => "[file:name = 'a']").join(' AND ')), 'DE_STIX_PATTERN_LIMIT');
  // The same chains through the live matcher (index, windows) and the sighting path.
  const live = new IntelMatcher();
  const loaded = live.load([or, obsOr, fb].map((p, i) => ({ id: `c${i}`, name: null, pattern: i === 0 ? `[${p}]` : p, labels: [], killChainPhases: [], confidence: null, validFrom: 0, validUntil: null })));
  assert.equal(loaded.rejected.length, 0);
  for (let i = 0; i < 5; i += 1) live.match({ kind: 'process_exec', id: i, time: i, row: { pid: 1, comm: 'x', filename: `/bin/n${i}` } });
});

test('mutated observed data never crashes the matcher', { skip: existsSync(VECTORS) ? false : 'no vectors' }, () => {
  const vectors = (JSON.parse(readFileSync(VECTORS, 'utf8')) as { pattern: string; observed_data: unknown; expected: unknown }[]).filter((v) => v.expected !== 'error');
  const r = rng(3);
  const junk: unknown[] = [null, 0, -1, 1.5, '', 'x', '2026-13-01T00:00:00Z', '99999-01-01T00:00:00Z', [], {}, [[[]]], { type: 'bundle' }, true, 'observed-data--x', 1e308];
  const mutate = (v: unknown, depth: number): unknown => {
    if (depth > 6 || r() < 0.08) return junk[Math.floor(r() * junk.length)];
    if (Array.isArray(v)) return v.map((x) => mutate(x, depth + 1));
    if (typeof v === 'object' && v !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (r() > 0.05) out[k] = mutate(x, depth + 1);
      return out;
    }
    return v;
  };
  for (let i = 0; i < 1500; i += 1) {
    const v = vectors[Math.floor(r() * vectors.length)]!;
    try {
      matchObservations(compilePattern(v.pattern), loadObservations(mutate(v.observed_data, 0)));
    } catch (e) {
      if (!(e instanceof DaemonEyeError)) assert.fail(`uncoded error for vector pattern ${v.pattern}: ${(e as Error).stack}`);
      assert.match(e.code, /^DE_STIX_/);
    }
  }
  // Deeply nested JSON in the data is inert: paths step into it only as far as the pattern says.
  let deep: unknown = 'x';
  for (let i = 0; i < 100_000; i += 1) deep = [deep];
  const obs = loadObservations({ type: 'bundle', id: 'bundle--d', objects: [
    { type: 'observed-data', id: 'observed-data--d', number_observed: 1, first_observed: '2026-01-01T00:00:00Z', last_observed: '2026-01-01T00:00:00Z', object_refs: ['x-deep--1'] },
    { type: 'x-deep', id: 'x-deep--1', v: deep },
  ] });
  assert.equal(matchObservations(compilePattern("[x-deep:v[*][*][*] = 'x']"), obs).matched, false);
});
