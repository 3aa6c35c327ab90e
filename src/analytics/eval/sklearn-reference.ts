// Runs scikit-learn's IsolationForest (scripts/analytics-sklearn-iforest.py) as a child process on
// CSV files: the reference implementation for the comparison test and the benchmark. Debian's
// python3-sklearn lives under /usr/bin/python3, which a pyenv or venv python3 on PATH may shadow,
// so both are tried.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../../scripts/analytics-sklearn-iforest.py', import.meta.url));

let cached: { python: string | null; reason: string } | undefined;

/** The python interpreter that can import sklearn, or null with the reason. */
export function findSklearn(): { python: string | null; reason: string } {
  if (cached) return cached;
  const tried: string[] = [];
  for (const python of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(python, ['-c', 'import sklearn, numpy; print(sklearn.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return (cached = { python, reason: `scikit-learn ${r.stdout.trim()} (${python})` });
    tried.push(`${python}: ${(r.error?.message ?? r.stderr.trim().split('\n').pop() ?? '').slice(0, 120)}`);
  }
  return (cached = { python: null, reason: `scikit-learn not importable (${tried.join('; ')}); install python3-sklearn` });
}

export interface SklearnRun { readonly scores: Float64Array; readonly fitMs: number; readonly scoreMs: number; readonly version: string }

export function runSklearnIforest(train: string, input: string, opts: { seed: number; trees: number }): SklearnRun {
  const { python, reason } = findSklearn();
  if (python === null) throw new Error(reason);
  const r = spawnSync(python, [SCRIPT, '--train', train, '--input', input, '--seed', String(opts.seed), '--trees', String(opts.trees)],
    { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`sklearn reference failed (${r.status}): ${r.stderr.slice(-500)}`);
  const timing = JSON.parse(r.stderr.trim().split('\n').pop()!) as { fit_ms: number; score_ms: number; sklearn: string };
  return { scores: Float64Array.from(r.stdout.trim().split('\n').map(Number)), fitMs: timing.fit_ms, scoreMs: timing.score_ms, version: timing.sklearn };
}
