// ProcessObservation → FeatureRow. Pure and cheap (no I/O): the detector, the trainer, the simulator
// and the benchmarks all call this one function, so training and scoring can never disagree.
import { argumentShape, shannonEntropy } from './command-line.ts';
import type { FeatureRow, ProcessObservation } from './feature-row.ts';
import { locationClass, locationCode } from './location-class.ts';

const base = (p: string | null, fallback: string | null): string => {
  if (p) return p.replace(/ \(deleted\)$/, '').split('/').pop() || p;
  return fallback ?? '?';
};

/** Hour of the week in UTC, 0 = Monday 00:00 (the epoch began on a Thursday, hour 72 of its week). */
export function hourOfWeek(ms: number): number {
  return (((Math.floor(ms / 3_600_000) + 72) % 168) + 168) % 168;
}

/**
 * Paths with run-specific parts (CI job ids, build hashes, versions, pids) folded, so that
 * /tmp/ci-job-48213/build.sh and /tmp/ci-job-48214/build.sh are one executable to the rarity models.
 */
const folded = new Map<string, string>();

export function foldPath(path: string): string {
  const hit = folded.get(path);
  if (hit !== undefined) return hit;
  // Bounded: a host has a few thousand distinct paths; a flood of unique ones just resets the cache.
  if (folded.size > 20_000) folded.clear();
  const f = fold(path);
  folded.set(path, f);
  return f;
}

function fold(path: string): string {
  return path.replace(/ \(deleted\)$/, '').replace(/[0-9a-f]{8,}(?:-[0-9a-f]{4,})*/gi, '#').replace(/\d+/g, '#');
}

export function extractFeatures(o: ProcessObservation): FeatureRow {
  const shape = argumentShape(o.command_line);
  const exe = o.executable_path ? foldPath(o.executable_path) : `[${o.name}]`;
  const parent = foldPath(base(o.parent_path, o.parent_name));
  const child = foldPath(base(o.executable_path, o.name));
  const loc = locationClass(o.executable_path, o.file_exists);
  const numeric: Record<string, number> = {
    cmdline_length: o.command_line.length,
    cmdline_entropy: shannonEntropy(o.command_line),
    arg_base64: shape.base64,
    arg_urls: shape.urls,
    arg_ip_literals: shape.ipLiterals,
    hour_of_week: hourOfWeek(o.start_time),
    child_spawn_rate: o.sibling_spawns_5m / 5,
    network_fan_out: o.fan_out ?? 0,
    location_code: locationCode(loc),
  };
  if (o.cpu_usage !== null) numeric['cpu_usage'] = o.cpu_usage;
  if (o.memory_usage !== null && o.memory_usage > 0) numeric['memory_log2'] = Math.log2(o.memory_usage);
  if (o.lifetime_s !== null) numeric['lifetime_log2'] = Math.log2(1 + Math.max(0, o.lifetime_s));
  return {
    numeric,
    categorical: {
      parent_child: `${parent} → ${child}`,
      executable_path: exe,
      user_executable: `${o.user} × ${exe}`,
      location_class: loc,
    },
    // Only what models group by; the command line stays on the observation (a million training rows
    // would otherwise carry a million copies of it).
    label: { executable: exe, name: child, parent, user: o.user, day: String(Math.floor(o.start_time / 86_400_000)) },
  };
}
