// Fleet rarity model with a synthetic fleet view: calibration on the host's own training rows,
// weight 0 without a view or with too small a fleet, the explanation's fleet figure, a truncated
// view's floor, recalibration on a new view, and save/load.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FeatureRow } from '../features/feature-row.ts';
import { pathHash, type FleetView } from '../fleet/fleet-view.ts';
import { Ensemble } from './ensemble.ts';
import { FleetRarityModel, MIN_FLEET_HOSTS } from './fleet-model.ts';
import { loadModel } from './load-model.ts';
import { FrequencyModel } from './frequency-model.ts';

const row = (path: string, day = 0): FeatureRow => ({ numeric: {}, categorical: { executable_path: path }, label: { day: String(day) } });

function view(paths: Record<string, number>, hosts = 12, extra: Partial<FleetView> = {}): FleetView {
  return {
    revision: 7, hosts, window_days: 14, truncated: false, floor: 0, fetched_at: 1,
    paths: Object.fromEntries(Object.entries(paths).map(([p, n]) => [pathHash(p), n])), ...extra,
  };
}

// A host whose 3,000 training rows run programs the fleet runs too, plus one of its own twice.
const common = ['/usr/bin/bash', '/usr/sbin/cron', '/usr/bin/python#.#', '/usr/lib/systemd/systemd-journald'];
const training: FeatureRow[] = [];
for (let i = 0; i < 3000; i++) training.push(row(common[i % common.length]!, i % 14));
training.push(row('/opt/local-tool/run', 3), row('/opt/local-tool/run', 9));
const fleet = view({ '/usr/bin/bash': 12, '/usr/sbin/cron': 12, '/usr/bin/python#.#': 9, '/usr/lib/systemd/systemd-journald': 12, '/opt/local-tool/run': 0 });

test('a path on none of 12 other hosts scores high, calibrated on the host\'s own rows; common paths score 0', () => {
  const m = new FleetRarityModel();
  m.fit(training, { windowDays: 14, seed: 1, fleetView: fleet });
  const [tmp, bash, python] = m.score([row('/tmp/x'), row('/usr/bin/bash'), row('/usr/bin/python#.#')]);
  // Two of 3,002 training rows are on no other host: p = (2 + 1) / (3002 + 1).
  assert.equal(tmp!.p, 3 / 3003);
  assert.ok(Math.abs(tmp!.calibrated - -Math.log10(3 / 3003) / 4) < 1e-12);
  assert.match(tmp!.contributions[0]!.text, /^executable \/tmp\/x seen on 0 of 12 other hosts in 14 days \(fleet\)$/);
  assert.equal(bash!.p, 1);
  assert.equal(bash!.calibrated, 0);
  assert.ok(python!.p > 0.2, 'on 9 of 12 hosts is ordinary');
  assert.deepEqual(bash!.contributions, []);
  assert.equal(m.describe().unavailable, undefined);
});

test('no fleet view (no center, cold start) or too few hosts: weight 0 and the status says why', () => {
  const ens = new Ensemble([new FrequencyModel('executable_path'), new FleetRarityModel()], 0.8);
  ens.fit(training, { windowDays: 14, seed: 1 });
  const st = ens.status().find((s) => s.name === 'fleet_rarity:executable_path')!;
  assert.equal(st.weight, 0);
  assert.match(st.note, /no fleet view/);
  const fleetScore = ens.score([row('/tmp/x')])[0]!.models[1]!;
  assert.equal(fleetScore.p, 1);
  assert.equal(fleetScore.calibrated, 0);

  const small = new Ensemble([new FleetRarityModel()], 0.8);
  small.fit(training, { windowDays: 14, seed: 1, fleetView: view({ '/usr/bin/bash': 1 }, MIN_FLEET_HOSTS - 1) });
  assert.equal(small.status()[0]!.weight, 0);
  assert.match(small.status()[0]!.note, new RegExp(`covers ${MIN_FLEET_HOSTS - 1} other hosts; fleet rarity needs ${MIN_FLEET_HOSTS}`));
  assert.equal(small.score([row('/tmp/x')])[0]!.score, 0, 'a weight-0 model adds nothing');

  // 8,000 fleet-common rows and the local tool twice: p = 3 / 8003, beyond 1 in 1,600.
  const big = [...Array.from({ length: 8000 }, (_, i) => row(common[i % common.length]!, i % 14)), row('/opt/local-tool/run', 3), row('/opt/local-tool/run', 9)];
  const full = new Ensemble([new FleetRarityModel()], 0.8);
  full.fit(big, { windowDays: 14, seed: 1, fleetView: fleet });
  assert.equal(full.status()[0]!.weight, 1);
  const s = full.score([row('/tmp/x')])[0]!;
  assert.ok(s.score >= 0.8, `score ${s.score}`);
  assert.match(s.explanation, /seen on 0 of 12 other hosts in 14 days/);
});

test('a newer view recalibrates without the training rows; save/load keeps scores', () => {
  const m = new FleetRarityModel();
  m.fit(training, { windowDays: 14, seed: 1, fleetView: null });
  assert.equal(m.score([row('/tmp/x')])[0]!.p, 1);
  m.useView(fleet);
  const before = m.score([row('/tmp/x'), row('/usr/bin/python#.#'), row('/opt/local-tool/run')]);
  assert.equal(before[0]!.p, 3 / 3003);
  const back = loadModel(JSON.parse(JSON.stringify(m.save())));
  assert.deepEqual(back.score([row('/tmp/x'), row('/usr/bin/python#.#'), row('/opt/local-tool/run')]), before);
  // The local tool turns up on 11 other hosts: now nothing in training is fleet-unique, /tmp/x is rarer still.
  m.useView(view({ '/usr/bin/bash': 12, '/usr/sbin/cron': 12, '/usr/bin/python#.#': 9, '/usr/lib/systemd/systemd-journald': 12, '/opt/local-tool/run': 11 }));
  assert.equal(m.score([row('/tmp/x')])[0]!.p, 1 / 3003);
});

test('a truncated view: an absent path counts as the floor, and the explanation says "at most"', () => {
  const m = new FleetRarityModel();
  m.fit(training, { windowDays: 14, seed: 1, fleetView: view({ '/usr/bin/bash': 12, '/usr/sbin/cron': 5 }, 12, { truncated: true, floor: 5 }) });
  const [tmp] = m.score([row('/tmp/x')]);
  // Absent paths count as 5 of 12 hosts, like python and journald in training: unremarkable.
  assert.ok(tmp!.p > 0.4, `p ${tmp!.p}`);
  const forced = new FleetRarityModel();
  forced.fit(Array.from({ length: 100 }, () => row('/usr/bin/bash')), { windowDays: 14, seed: 1, fleetView: view({ '/usr/bin/bash': 12 }, 12, { truncated: true, floor: 1 }) });
  assert.match(forced.score([row('/tmp/x')])[0]!.contributions[0]?.text ?? '', /seen on at most 1 of 12 other hosts/);
});
