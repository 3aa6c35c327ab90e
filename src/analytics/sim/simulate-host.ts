// A seeded generator of process activity for one host over simulated days: ordinary behaviour from
// its role (host-roles.ts), a few benign novelties, and attacks injected at chosen times. Output is
// what the agent would store and score: one 'exec' observation per process start (the kernel sees
// every one, without resource figures), and a 'scan' observation with CPU and memory for processes
// that live long enough for a 30 s scan to see them.
import type { ProcessObservation } from '../features/feature-row.ts';
import { Prng } from '../models/prng.ts';
import { attackSteps, type AttackKind } from './attacks.ts';
import { BENIGN_NOVELTIES, ROLE_BEHAVIOURS, type Behaviour, type Hours, type Role } from './host-roles.ts';

export interface LabelledObservation {
  readonly obs: ProcessObservation;
  /** Null for benign activity; otherwise which injected attack this process belongs to. */
  readonly attack: { readonly id: string; readonly kind: AttackKind } | null;
}

export interface HostSimulation {
  readonly role: Role;
  readonly seed: number;
  /** Midnight UTC of the first day (a Monday). */
  readonly startMs: number;
  readonly days: number;
  /** Attacks: kind and day index (time within the day is drawn). */
  readonly attacks: readonly { readonly kind: AttackKind; readonly day: number }[];
  /** Benign never-seen-before events per day (default 1/3). */
  readonly noveltyPerDay?: number;
}

const DAY = 86_400_000;
const SCAN_INTERVAL_S = 30;
/** Parents that are long-lived daemons: one pid for all their children (shells get a pid each). */
const DAEMONS = new Set(['cron', 'systemd', 'sshd', 'php-fpm', 'postgres', 'gitlab-runner', 'code', 'firefox-esr', 'gnome-terminal-server', 'certbot']);

function poisson(r: Prng, mean: number): number {
  if (mean < 30) {
    const l = Math.exp(-mean);
    let k = 0;
    let p = 1;
    do { k++; p *= r.next(); } while (p > l);
    return k - 1;
  }
  return Math.max(0, Math.round(mean + Math.sqrt(mean) * r.normal()));
}

function timeOfDay(r: Prng, hours: Hours, weekday: boolean): number | null {
  if (hours === 'always') return r.next() * DAY;
  if (hours === 'night') return (1 + r.next() * 4) * 3_600_000;
  // Office hours on weekdays; one tenth of the activity at weekends.
  if (!weekday && r.next() > 0.1) return null;
  return (8 + r.next() * 10) * 3_600_000;
}

const logNormal = (r: Prng, median: number, sigma = 0.5) => median * Math.exp(sigma * r.normal());

export function simulateHost(sim: HostSimulation): LabelledObservation[] {
  const r = new Prng(sim.seed);
  const behaviours = ROLE_BEHAVIOURS[sim.role];
  let nextPid = 2000;
  const daemonPids = new Map<string, number>();
  const parentPid = (name: string) => {
    if (!DAEMONS.has(name)) return nextPid++;
    if (!daemonPids.has(name)) daemonPids.set(name, 300 + daemonPids.size);
    return daemonPids.get(name)!;
  };
  const raw: { t: number; ppid: number; b: Omit<Behaviour, 'cmd' | 'perDay' | 'hours'> & { cmd: string }; attack: LabelledObservation['attack'] }[] = [];
  const noveltyRate = sim.noveltyPerDay ?? 1 / 3;
  for (let day = 0; day < sim.days; day++) {
    const dayStart = sim.startMs + day * DAY;
    const weekday = day % 7 < 5;
    for (const beh of behaviours) {
      // Timers and cron jobs (night, or up to hourly around the clock) run on schedule, exactly so
      // many times a day; people and triggered work arrive at random (Poisson).
      const scheduled = beh.perDay >= 1 && (beh.hours === 'night' || (beh.hours === 'always' && beh.perDay <= 24));
      const n = scheduled ? Math.round(beh.perDay) : beh.perDay >= 1 ? poisson(r, beh.perDay) : (r.next() < beh.perDay ? 1 : 0);
      for (let i = 0; i < n; i++) {
        const tod = timeOfDay(r, beh.hours, weekday);
        if (tod === null) continue;
        raw.push({ t: dayStart + tod, ppid: parentPid(beh.parent[0]), b: { ...beh, cmd: beh.cmd(r) }, attack: null });
      }
    }
    if (r.next() < noveltyRate) {
      const beh = r.pick(BENIGN_NOVELTIES);
      raw.push({ t: dayStart + (9 + r.next() * 8) * 3_600_000, ppid: parentPid(beh.parent[0]), b: { ...beh, cmd: beh.cmd(r) }, attack: null });
    }
  }
  sim.attacks.forEach((a, i) => {
    const t0 = sim.startMs + a.day * DAY + r.next() * DAY;
    const id = `${sim.role}-${sim.seed}-${a.kind}-${i}`;
    // Every shell of the attack is one process: children of "sh" within an attack share its pid.
    const shellPid = nextPid++;
    for (const st of attackSteps(a.kind, sim.role, r)) {
      const ppid = st.parent[0] === 'sh' || st.parent[0] === 'bash' ? shellPid : parentPid(st.parent[0]);
      raw.push({ t: t0 + st.at * 1000, ppid, b: { parent: st.parent, child: st.child, user: st.user, cmd: st.cmd, lifetime: st.lifetime, cpu: st.cpu, memMb: st.memMb, fanOut: st.fanOut }, attack: { id, kind: a.kind } });
    }
  });
  raw.sort((x, y) => x.t - y.t);
  // Sibling spawns: starts by the same parent pid in the 5 minutes up to each start.
  const recent = new Map<number, number[]>();
  const out: LabelledObservation[] = [];
  for (const e of raw) {
    const list = (recent.get(e.ppid) ?? []).filter((t) => t > e.t - 300_000);
    list.push(e.t);
    recent.set(e.ppid, list);
    const pid = nextPid++;
    const lifetime = logNormal(r, e.b.lifetime, 0.6);
    const common = {
      pid, ppid: e.ppid, start_time: Math.round(e.t), name: e.b.child[0].slice(0, 15), executable_path: e.b.child[1],
      command_line: e.b.cmd, parent_name: e.b.parent[0], parent_path: e.b.parent[1], user: e.b.user, file_exists: true,
      sibling_spawns_5m: list.length, lifetime_s: null,
    };
    out.push({ obs: { ...common, ref: `exec:${pid}`, source: 'exec', observed_at: common.start_time, cpu_usage: null, memory_usage: null, fan_out: 0 }, attack: e.attack });
    if (lifetime > SCAN_INTERVAL_S) {
      const seenAfter = r.next() * SCAN_INTERVAL_S;
      out.push({
        obs: {
          ...common, ref: `scan:${pid}`, source: 'scan', observed_at: common.start_time + Math.round(seenAfter * 1000),
          cpu_usage: Math.min(800, logNormal(r, e.b.cpu, 0.4)), memory_usage: Math.round(logNormal(r, e.b.memMb, 0.3) * 1048576),
          fan_out: e.b.fanOut ?? 0,
        },
        attack: e.attack,
      });
    }
  }
  return out;
}
