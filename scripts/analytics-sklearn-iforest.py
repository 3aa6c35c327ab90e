#!/usr/bin/env python3
"""scikit-learn's IsolationForest on the same CSV tables as `daemoneye analytics score --model iforest`:
the reference for test/analytics-sklearn.test.ts and bench/analytics.ts.

Prints one score per input row (higher = more anomalous: -score_samples, i.e. 2^(-E[h]/c(psi)),
the same scale as ours) and, on stderr, one JSON line with fit and score times in milliseconds.
Exit 3 when scikit-learn is not installed, so callers can skip with a reason.
"""
import argparse, csv, json, sys, time

def read(path, ignore):
    with open(path, newline='') as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    keep = [i for i, h in enumerate(header) if h.strip() not in ignore]
    return [[float(r[i]) for i in keep] for r in body]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--train', required=True)
    ap.add_argument('--input', required=True)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--trees', type=int, default=100)
    ap.add_argument('--ignore', default='label,id')
    a = ap.parse_args()
    try:
        import numpy as np
        from sklearn.ensemble import IsolationForest
    except ImportError as e:
        print(f'scikit-learn unavailable: {e}', file=sys.stderr)
        sys.exit(3)
    ignore = set(x for x in a.ignore.split(',') if x)
    x_train = np.array(read(a.train, ignore))
    x_input = np.array(read(a.input, ignore))
    t0 = time.perf_counter()
    model = IsolationForest(n_estimators=a.trees, max_samples='auto', random_state=a.seed).fit(x_train)
    t1 = time.perf_counter()
    scores = -model.score_samples(x_input)
    t2 = time.perf_counter()
    sys.stdout.write('\n'.join(f'{s:.10g}' for s in scores) + '\n')
    import sklearn
    print(json.dumps({'fit_ms': (t1 - t0) * 1e3, 'score_ms': (t2 - t1) * 1e3, 'sklearn': sklearn.__version__}), file=sys.stderr)

main()
