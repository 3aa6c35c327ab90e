// Per-executable resource baselines: each executable's own median and MAD of CPU % and log2 memory,
// so a busy compiler is judged against compilers and a miner against what that path usually does.
// Median/MAD rather than mean/stddev because one runaway run must not move the baseline it is
// judged by. Shells and interpreters do many different jobs, so the first choice is the baseline of
// the same executable under the same parent (bash → sh installers vs npm → sh build steps); with
// fewer than MIN_RUNS training rows it falls back to the executable's, then to the host-wide one.
// The raw score is the larger robust z: CPU above its baseline, memory in either direction.
import type { FeatureRow } from '../features/feature-row.ts';
import { Calibration, type SavedCalibration } from './calibration.ts';
import { round } from './iforest-model.ts';
import type { FitContext, Model, ModelDescription, ModelScore, SavedModel } from './model.ts';

const MIN_RUNS = 10;
/** Floors on the spread: a process that always sits at 0 % CPU must not alert at 0.5 %. */
const CPU_FLOOR = 2;
const MEM_FLOOR = 0.25;
/** 1.4826 × MAD estimates the standard deviation of a normal distribution. */
const MAD_SCALE = 1.4826;

interface Baseline { readonly n: number; readonly cpuMed: number; readonly cpuMad: number; readonly memMed: number; readonly memMad: number }

interface State {
  readonly baselines: [string, Baseline][];
  readonly pairs?: [string, Baseline][];
  readonly global: Baseline;
  readonly trainingRows: number;
  readonly calibration: SavedCalibration;
}

function median(v: number[]): number {
  if (v.length === 0) return NaN;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function baselineOf(cpu: number[], mem: number[]): Baseline {
  const cpuMed = median(cpu);
  const memMed = median(mem);
  return {
    n: Math.max(cpu.length, mem.length), cpuMed, memMed,
    cpuMad: median(cpu.map((v) => Math.abs(v - cpuMed))), memMad: median(mem.map((v) => Math.abs(v - memMed))),
  };
}

export class BaselineModel implements Model {
  readonly name: string;
  readonly kind = 'baseline';
  readonly family = 'resource';
  #baselines = new Map<string, Baseline>();
  #pairs = new Map<string, Baseline>();
  #global: Baseline = baselineOf([], []);
  #trainingRows = 0;
  #calibration: Calibration | null = null;

  constructor(name = 'baseline') {
    this.name = name;
  }

  #z(r: FeatureRow): { z: number; which: 'cpu' | 'mem' | null; b: Baseline; own: string | null } {
    const exe = r.label['executable'] ?? '';
    const pairKey = `${r.label['parent'] ?? '?'} → ${exe}`;
    const pair = this.#pairs.get(pairKey);
    const ownB = pair ?? this.#baselines.get(exe);
    const b = ownB ?? this.#global;
    const own = pair !== undefined ? `${r.label['parent'] ?? '?'} → ${exe}` : ownB !== undefined ? exe : null;
    const cpu = r.numeric['cpu_usage'];
    const mem = r.numeric['memory_log2'];
    let z = 0;
    let which: 'cpu' | 'mem' | null = null;
    if (cpu !== undefined && Number.isFinite(b.cpuMed)) {
      const zc = (cpu - b.cpuMed) / Math.max(MAD_SCALE * b.cpuMad, CPU_FLOOR);
      if (zc > z) { z = zc; which = 'cpu'; }
    }
    if (mem !== undefined && Number.isFinite(b.memMed)) {
      const zm = Math.abs(mem - b.memMed) / Math.max(MAD_SCALE * b.memMad, MEM_FLOOR);
      if (zm > z) { z = zm; which = 'mem'; }
    }
    return { z, which, b, own };
  }

  fit(rows: readonly FeatureRow[], context: FitContext): void {
    const by = new Map<string, { cpu: number[]; mem: number[] }>();
    const byPair = new Map<string, { cpu: number[]; mem: number[] }>();
    const all = { cpu: [] as number[], mem: [] as number[] };
    const add = (m: Map<string, { cpu: number[]; mem: number[] }>, k: string, cpu: number | undefined, mem: number | undefined) => {
      const e = m.get(k) ?? { cpu: [], mem: [] };
      m.set(k, e);
      if (cpu !== undefined) e.cpu.push(cpu);
      if (mem !== undefined) e.mem.push(mem);
    };
    for (const r of rows) {
      const cpu = r.numeric['cpu_usage'];
      const mem = r.numeric['memory_log2'];
      if (cpu === undefined && mem === undefined) continue;
      const exe = r.label['executable'] ?? '';
      add(by, exe, cpu, mem);
      add(byPair, `${r.label['parent'] ?? '?'} → ${exe}`, cpu, mem);
      if (cpu !== undefined) all.cpu.push(cpu);
      if (mem !== undefined) all.mem.push(mem);
    }
    const enough = (e: { cpu: number[]; mem: number[] }) => Math.max(e.cpu.length, e.mem.length) >= MIN_RUNS;
    this.#baselines = new Map();
    for (const [exe, e] of by) if (enough(e)) this.#baselines.set(exe, baselineOf(e.cpu, e.mem));
    this.#pairs = new Map();
    for (const [k, e] of byPair) if (enough(e)) this.#pairs.set(k, baselineOf(e.cpu, e.mem));
    this.#global = baselineOf(all.cpu, all.mem);
    // Only rows that carry a resource measurement count as history for this model.
    const measured = rows.filter((r) => r.numeric['cpu_usage'] !== undefined || r.numeric['memory_log2'] !== undefined);
    this.#trainingRows = measured.length;
    this.#calibration = Calibration.fromScores(measured.map((r) => this.#z(r).z), context.seed);
  }

  score(rows: readonly FeatureRow[]): ModelScore[] {
    const cal = this.#calibration;
    if (cal === null) throw new Error(`${this.name} is not fitted`);
    return rows.map((r) => {
      const { z, which, b, own } = this.#z(r);
      const p = which === null ? 1 : cal.tail(z);
      const calibrated = which === null ? 0 : cal.calibrated(z);
      const whose = own !== null ? `${b.n} runs of ${own}` : 'all processes on this host';
      const text = which === 'cpu'
        ? `CPU ${round(r.numeric['cpu_usage']!)} % vs median ${round(b.cpuMed)} % (MAD ${round(b.cpuMad)}) over ${whose}`
        : `memory ${fmtBytes(2 ** r.numeric['memory_log2']!)} vs median ${fmtBytes(2 ** b.memMed)} over ${whose}`;
      return {
        model: this.name, raw: z, p, calibrated,
        contributions: calibrated > 0.3 && which !== null ? [{ feature: which === 'cpu' ? 'cpu_usage' : 'memory_usage', value: round(which === 'cpu' ? r.numeric['cpu_usage']! : 2 ** r.numeric['memory_log2']!), text, weight: calibrated }] : [],
      };
    });
  }

  save(): SavedModel {
    if (this.#calibration === null) throw new Error(`${this.name} is not fitted`);
    const state: State = { baselines: [...this.#baselines], pairs: [...this.#pairs], global: this.#global, trainingRows: this.#trainingRows, calibration: this.#calibration.save() };
    return { kind: this.kind, name: this.name, state };
  }

  static load(saved: SavedModel): BaselineModel {
    const s = saved.state as State;
    const m = new BaselineModel(saved.name);
    m.#baselines = new Map(s.baselines);
    m.#pairs = new Map(s.pairs ?? []);
    m.#global = s.global;
    m.#trainingRows = s.trainingRows;
    m.#calibration = Calibration.load(s.calibration);
    return m;
  }

  describe(): ModelDescription {
    return {
      name: this.name, kind: this.kind, family: this.family, trainingRows: this.#trainingRows, ceiling: this.#calibration?.ceiling ?? 0,
      params: { executables_with_baseline: this.#baselines.size, parent_executable_pairs_with_baseline: this.#pairs.size, min_runs: MIN_RUNS, statistic: 'median/MAD' },
    };
  }
}

function fmtBytes(b: number): string {
  if (b >= 2 ** 30) return `${round(b / 2 ** 30)} GiB`;
  if (b >= 2 ** 20) return `${round(b / 2 ** 20)} MiB`;
  return `${round(b / 1024)} KiB`;
}
