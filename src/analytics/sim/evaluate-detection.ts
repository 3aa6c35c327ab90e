// The detection figures of issue 7: train each host's models on its first weeks, score the last
// week with attacks injected, and count what crossed the threshold. An attack counts as detected
// when any process it started scores at or above the threshold; false alerts are benign processes
// at or above it, counted as the agent would alert on them (one per behaviour and day, see
// analytics-detector.ts), per host per day.
import { extractFeatures } from '../features/extract-features.ts';
import { defaultModels, Ensemble } from '../models/ensemble.ts';
import { ATTACK_KINDS, type AttackKind } from './attacks.ts';
import { ROLES, type Role } from './host-roles.ts';
import { simulateHost, type LabelledObservation } from './simulate-host.ts';

export interface DetectionFigures {
  readonly hosts: number;
  readonly testDays: number;
  readonly attacks: number;
  readonly detected: number;
  readonly recall: number;
  readonly precision: number;
  readonly falseAlerts: number;
  readonly falseAlertsPerHostDay: number;
  readonly trainRows: number;
  readonly testRows: number;
  readonly byKind: Readonly<Record<string, { attacks: number; detected: number }>>;
  readonly byRole: Readonly<Record<string, { attacks: number; detected: number; falseAlerts: number }>>;
  readonly examples: readonly { kind: string; role: string; score: number; explanation: string }[];
  readonly falseExamples: readonly { role: string; score: number; explanation: string }[];
}

export interface EvaluationOptions {
  readonly seed: number;
  readonly hostsPerRole: number;
  readonly trainDays: number;
  readonly testDays: number;
  readonly threshold: number;
  readonly trees?: number;
  /** Include the isolation forest (enterprise.analytics.enable_machine_learning); default true. */
  readonly machineLearning?: boolean;
  readonly roles?: readonly Role[];
}

const START = Date.UTC(2026, 10, 2); // a Monday

export function behaviourKey(o: LabelledObservation['obs']): string {
  return `${o.executable_path}|${o.parent_name}|${o.user}|${Math.floor(o.start_time / 86_400_000)}`;
}

export function evaluateDetection(opts: EvaluationOptions): DetectionFigures {
  const byKind: Record<string, { attacks: number; detected: number }> = {};
  const byRole: Record<string, { attacks: number; detected: number; falseAlerts: number }> = {};
  const examples: DetectionFigures['examples'][number][] = [];
  const falseExamples: DetectionFigures['falseExamples'][number][] = [];
  let attacks = 0;
  let detected = 0;
  let falseAlerts = 0;
  let trueAlerts = 0;
  let trainRows = 0;
  let testRows = 0;
  let hosts = 0;
  const roles = opts.roles ?? ROLES;
  for (const role of roles) {
    for (let h = 0; h < opts.hostsPerRole; h++) {
      hosts++;
      const seed = opts.seed * 1000 + roles.indexOf(role) * 100 + h;
      // Each attack kind once per host, on a random test day.
      const plan = ATTACK_KINDS.map((kind, i) => ({ kind, day: opts.trainDays + ((seed + i * 3) % opts.testDays) }));
      const all = simulateHost({ role, seed, startMs: START, days: opts.trainDays + opts.testDays, attacks: plan });
      const split = START + opts.trainDays * 86_400_000;
      const train = all.filter((o) => o.obs.start_time < split);
      const test = all.filter((o) => o.obs.start_time >= split);
      trainRows += train.length;
      testRows += test.length;
      const ensemble = new Ensemble(defaultModels({ trees: opts.trees ?? 100, machineLearning: opts.machineLearning ?? true }), opts.threshold);
      ensemble.fit(train.map((o) => extractFeatures(o.obs)), { windowDays: opts.trainDays, seed });
      const scores = ensemble.score(test.map((o) => extractFeatures(o.obs)));
      const hitAttacks = new Map<string, { kind: AttackKind; best: number; explanation: string }>();
      const alerted = new Set<string>();
      const r = (byRole[role] ??= { attacks: 0, detected: 0, falseAlerts: 0 });
      test.forEach((o, i) => {
        const s = scores[i]!;
        if (o.attack !== null) {
          const prev = hitAttacks.get(o.attack.id);
          if (prev === undefined || s.score > prev.best) hitAttacks.set(o.attack.id, { kind: o.attack.kind, best: s.score, explanation: s.explanation });
        }
        if (s.score < opts.threshold) return;
        const key = behaviourKey(o.obs);
        if (alerted.has(key)) return;
        alerted.add(key);
        if (o.attack === null) {
          falseAlerts++;
          r.falseAlerts++;
          if (falseExamples.length < 400) falseExamples.push({ role, score: s.score, explanation: `${o.obs.parent_name} → ${o.obs.command_line.slice(0, 80)}: ${s.explanation}` });
        } else trueAlerts++;
      });
      for (const [, a] of hitAttacks) {
        const k = (byKind[a.kind] ??= { attacks: 0, detected: 0 });
        k.attacks++;
        r.attacks++;
        attacks++;
        if (a.best >= opts.threshold) {
          k.detected++;
          r.detected++;
          detected++;
          if (examples.length < 8 && !examples.some((e) => e.kind === a.kind)) examples.push({ kind: a.kind, role, score: a.best, explanation: a.explanation });
        }
      }
    }
  }
  return {
    hosts, testDays: opts.testDays, attacks, detected, recall: attacks ? detected / attacks : NaN,
    precision: trueAlerts + falseAlerts ? trueAlerts / (trueAlerts + falseAlerts) : NaN,
    falseAlerts, falseAlertsPerHostDay: falseAlerts / (hosts * opts.testDays), trainRows, testRows, byKind, byRole, examples, falseExamples,
  };
}
