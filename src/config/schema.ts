// The whole configuration as one zod schema: the single source of keys, types, ranges and defaults.
// Error messages (issues.ts), environment variable names (env-layer.ts) and the docs check
// (docs.test.ts) are all derived from it, so a key added here is documented or a test fails.
//
// Every object is strict (a typo is an error, not a silently ignored key) and every key has a
// default, so any partial file is a valid config on its own: load-config.ts relies on that to
// validate each file separately and point at the file and line that is wrong.
// Objects use .prefault({}) rather than .default({}) so that the inner defaults are filled in.

import { z } from 'zod';
import { DEFAULT_ENVIRONMENT_ALLOW_LIST } from '../sources/procfs/environment-allow-list.ts';
import { sinksSchema } from './sinks-schema.ts';
import { STIX_TAXII_EXTRA_KEYS } from '../intel/feeds/feed-config-schema.ts';

const int = (min: number, max: number, dflt: number) => z.number().int().min(min).max(max).default(dflt);
const flag = (dflt = false) => z.boolean().default(dflt);
const text = () => z.string().min(1);
/** Endpoints are fetched with HTTP(S) only; a file:// or javascript: URL is a mistake or an attack. */
const httpUrl = () => z.url({ protocol: /^https?$/ });

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;

/** Variables worth keeping from a process's environment: one list, kept beside the collector that uses it. */
export const DEFAULT_ENV_ALLOWLIST: readonly string[] = DEFAULT_ENVIRONMENT_ALLOW_LIST;

const agent = z.strictObject({
  host_name: text().nullable().default(null),
  scan_interval: int(1, 86_400, 30),
  data_dir: text().nullable().default(null),
});

const logging = z.strictObject({
  level: z.enum(LOG_LEVELS).default('info'),
});

const collection = z.strictObject({
  env_allowlist: z.array(text()).default(() => [...DEFAULT_ENV_ALLOWLIST]),
  hash_executables: flag(true),
  hash_inline_max_mb: int(0, 65_536, 16),
  hash_max_mb: int(1, 65_536, 256),
});

const store = z.strictObject({
  retention_days: int(1, 36_500, 7),
  max_size_mb: int(1, 16_777_216, 1024),
});

const detection = z.strictObject({
  builtin_rules: flag(true),
  rule_dirs: z.array(text()).default(() => []),
  disabled_rules: z.array(text()).default(() => []),
  rule_timeout_ms: int(1, 600_000, 2000),
  max_rows_per_rule: int(1, 1_000_000, 1000),
});

const alerting = z.strictObject({
  stdout: z.strictObject({
    enabled: flag(true),
    format: z.enum(['auto', 'human', 'json']).default('auto'),
  }).prefault({}),
  jsonl_file: z.strictObject({
    enabled: flag(true),
    path: text().default('alerts.jsonl'),
    max_size_mb: int(0, 1_048_576, 100),
    max_files: int(0, 1000, 5),
  }).prefault({}),
  fail_on: z.enum(SEVERITIES).nullable().default(null),
  // One strict object per sink type (sinks-schema.ts); docs/sinks.md describes each.
  sinks: sinksSchema,
});

const enterprise = z.strictObject({
  kernel_monitoring: z.strictObject({
    enable_ebpf: flag(),
    ebpf_program_path: text().nullable().default(null),
    ring_buffer_mb: z.number().int().refine((n) => n >= 1 && n <= 1024 && (n & (n - 1)) === 0, 'a power of two from 1 to 1024').default(8),
    batch_window_ms: int(1, 1000, 10),
    max_args_bytes: int(64, 4096, 1024),
    // auto: eBPF, else the netlink process connector; the other two force one layer.
    sensor: z.enum(['auto', 'ebpf', 'netlink']).default('auto'),
    // Noise dropped in the kernel, before it costs a ring record (docs/kernel-monitoring.md).
    filters: z.strictObject({
      ignore_comms: z.array(z.string().min(1).max(15, 'a task name (comm) is at most 15 bytes')).max(16).default(() => []),
      ignore_uids: z.array(z.number().int().min(0).max(4_294_967_294)).max(16).default(() => []),
      only_uids: z.array(z.number().int().min(0).max(4_294_967_294)).max(16).default(() => []),
      ignore_cgroups: z.array(text()).max(16).default(() => []),
    }).prefault({}),
    enable_etw: flag(),
    etw_session_name: text().default('DaemonEye'),
    enable_endpoint_security: flag(),
    es_client_name: text().default('com.daemoneye.monitor'),
  }).prefault({}),
  network_monitoring: z.strictObject({
    enable_packet_capture: flag(),
    capture_interface: text().nullable().default(null),
    capture_filter: text().nullable().default(null),
    max_packet_size: int(64, 262_144, 1500),
    buffer_size_mb: int(1, 4096, 100),
    // xdp: per-flow counters from an XDP program on the capture interface (docs/network-capture.md).
    flow_accounting: z.enum(['off', 'xdp']).default('off'),
  }).prefault({}),
  federation: z.strictObject({
    enable_federation: flag(),
    primary_endpoint: httpUrl().nullable().default(null),
    regional_endpoints: z.array(httpUrl()).default(() => []),
    sync_interval: int(10, 86_400, 300),
    conflict_resolution: z.enum(['primary_wins', 'timestamp_wins', 'manual_review']).default('primary_wins'),
    /** Alerts (and triage edits) per sync request; a round sends at most max_batches_per_sync of them. */
    batch_size: int(1, 10_000, 1000),
    max_batches_per_sync: int(1, 100_000, 1000),
  }).prefault({}),
  stix_taxii: z.strictObject({
    enable_integration: flag(),
    taxii_endpoint: httpUrl().nullable().default(null),
    collection_id: text().nullable().default(null),
    sync_interval: int(60, 604_800, 3600),
    // auth, tls, page_size, timeout_ms, max_response_mb, feeds, share: docs/taxii.md
    ...STIX_TAXII_EXTRA_KEYS,
  }).prefault({}),
  analytics: z.strictObject({
    enable_behavioral_analysis: flag(),
    anomaly_threshold: z.number().min(0).max(1).default(0.8),
    model_update_interval: int(60, 2_592_000, 86_400),
    enable_machine_learning: flag(),
    training_window_days: int(1, 90, 14),
  }).prefault({}),
});

export const configSchema = z.strictObject({
  agent: agent.prefault({}),
  logging: logging.prefault({}),
  collection: collection.prefault({}),
  store: store.prefault({}),
  detection: detection.prefault({}),
  alerting: alerting.prefault({}),
  enterprise: enterprise.prefault({}),
});

/** The validated configuration with every default filled in. */
export type DaemonEyeConfig = z.output<typeof configSchema>;
/** What a config file may contain: every key optional. */
export type DaemonEyeConfigInput = z.input<typeof configSchema>;

/** A fresh copy of the defaults (callers may mutate it). */
export function defaultConfig(): DaemonEyeConfig {
  return configSchema.parse({});
}
