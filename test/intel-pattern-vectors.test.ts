// The OASIS conformance vectors (../shared/stix-vectors, recorded from the reference matcher 3.0.0
// and validator 2.0.0): every one must pass. Deviations would be listed, with the reason, in
// intel-pattern-vectors.deviations.json beside this file; there are none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkPatternSyntax, compilePattern } from '../src/intel/pattern/compile.ts';
import { loadObservations } from '../src/intel/pattern/observed-data.ts';
import { matchObservations } from '../src/intel/pattern/match-observed.ts';
import { DaemonEyeError } from '../src/errors/catalogue.ts';
import type { StixPatternError } from '../src/intel/pattern/pattern-error.ts';
import { STIX_VECTORS_DIR } from './stix-vectors-dir.ts';

const here = dirname(fileURLToPath(import.meta.url));
const VECTORS = STIX_VECTORS_DIR;
const present = existsSync(join(VECTORS, 'matcher-vectors.json'));
const deviations: Record<string, string> = JSON.parse(readFileSync(join(here, 'intel-pattern-vectors.deviations.json'), 'utf8')).deviations;

interface MatcherVector { id: number; pattern: string; observed_data: unknown; expected: boolean | 'error'; matched_observed_data_ids?: string[] }
interface ValidatorVector { id: number; pattern: string; valid: boolean }

function run(v: MatcherVector): boolean | 'error' {
  try {
    return matchObservations(compilePattern(v.pattern), loadObservations(v.observed_data)).matched;
  } catch (e) {
    // Only coded errors count as the expected "error"; anything else is a bug.
    assert.ok(e instanceof DaemonEyeError, `vector ${v.id}: uncoded ${(e as Error).stack}`);
    assert.match(e.code, /^DE_STIX_/);
    return 'error';
  }
}

test('all 411 matcher vectors pass', { skip: present ? false : `no vectors at ${VECTORS}` }, () => {
  const vectors: MatcherVector[] = JSON.parse(readFileSync(join(VECTORS, 'matcher-vectors.json'), 'utf8'));
  assert.equal(vectors.length, 411);
  const failures: string[] = [];
  let matchedTrue = 0;
  for (const v of vectors) {
    const got = run(v);
    if (got === true) matchedTrue += 1;
    if (got !== v.expected && deviations[`matcher-${v.id}`] === undefined) {
      failures.push(`#${v.id} ${v.pattern}: expected ${String(v.expected)}, got ${String(got)}`);
    }
  }
  assert.deepEqual(failures, []);
  assert.equal(matchedTrue, 206);
});

test('the bound observed-data ids are among the observations (informational ids checked for shape)', { skip: present ? false : 'no vectors' }, () => {
  const vectors: MatcherVector[] = JSON.parse(readFileSync(join(VECTORS, 'matcher-vectors.json'), 'utf8'));
  for (const v of vectors.filter((x) => x.expected === true)) {
    const observations = loadObservations(v.observed_data);
    const r = matchObservations(compilePattern(v.pattern), observations);
    assert.ok(r.observedDataIds.length > 0);
    for (const id of r.observedDataIds) assert.ok(observations.some((o) => o.sdoId === id), `#${v.id}: ${id}`);
  }
});

test('all 107 validator vectors pass', { skip: present ? false : `no vectors at ${VECTORS}` }, () => {
  const vectors: ValidatorVector[] = JSON.parse(readFileSync(join(VECTORS, 'validator-vectors.json'), 'utf8'));
  assert.equal(vectors.length, 107);
  const failures: string[] = [];
  for (const v of vectors) {
    let valid = true;
    try { checkPatternSyntax(v.pattern); } catch (e) {
      assert.ok(e instanceof DaemonEyeError, `vector ${v.id}: uncoded ${(e as Error).stack}`);
      valid = false;
    }
    if (valid !== v.valid && deviations[`validator-${v.id}`] === undefined) failures.push(`#${v.id} ${v.pattern}: expected valid=${v.valid}`);
  }
  assert.deepEqual(failures, []);
});

test('grammar errors point at the same column as the reference parser', { skip: present ? false : 'no vectors' }, () => {
  const vectors: (MatcherVector & { error?: { class: string; message: string } })[] = JSON.parse(readFileSync(join(VECTORS, 'matcher-vectors.json'), 'utf8'));
  let checked = 0;
  for (const v of vectors) {
    const m = v.error?.class === 'ParseException' ? /^1:(\d+):/.exec(v.error.message) : null;
    if (m === null) continue;
    let column: number | null = null;
    try { compilePattern(v.pattern); } catch (e) { column = (e as StixPatternError).column; }
    // ANTLR counts columns from 0, we from 1.
    assert.equal(column, Number(m[1]) + 1, `#${v.id} ${v.pattern}: ${v.error!.message}`);
    checked += 1;
  }
  assert.equal(checked, 20);
});
