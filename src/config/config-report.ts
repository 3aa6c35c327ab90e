// Which optional features a config turns on, and which of those this build actually runs, for
// `daemoneye config check` and `doctor`. The Enterprise keys are accepted and validated before
// the features behind them exist, so an operator must be told plainly that enabling one does
// nothing yet. When a feature lands, add its key to ACTIVE_FEATURES (or its sink type to
// ACTIVE_SINK_TYPES): nothing else changes.

import type { DaemonEyeConfig } from './schema.ts';
import { SINK_TYPES } from './sinks-schema.ts';

export interface FeatureStatus {
  readonly feature: string;
  /** The config key that turns it on, e.g. `enterprise.federation.enable_federation`. */
  readonly key: string;
  readonly enabled: boolean;
  /** Implemented and running in this build when enabled. */
  readonly active: boolean;
  readonly note: string;
}

/** Keys of FEATURES whose feature is implemented in this build. */
export const ACTIVE_FEATURES: ReadonlySet<string> = new Set<string>(['enterprise.kernel_monitoring.enable_ebpf', 'enterprise.stix_taxii.enable_integration',
  'enterprise.kernel_monitoring.enable_etw', 'enterprise.kernel_monitoring.enable_endpoint_security',
  'enterprise.analytics.enable_behavioral_analysis', 'enterprise.analytics.enable_machine_learning',
  'enterprise.network_monitoring.enable_packet_capture', 'enterprise.federation.enable_federation']);
/** Sink `type`s implemented in this build (src/agent/sink-factory.ts builds each). */
export const ACTIVE_SINK_TYPES: ReadonlySet<string> = new Set<string>([...SINK_TYPES, 'center']);

export const NOT_ACTIVE_NOTE = 'not active in this build yet (accepted and validated)';

type Enterprise = DaemonEyeConfig['enterprise'];
interface FeatureSpec {
  readonly feature: string;
  readonly key: string;
  readonly enabled: (e: Enterprise) => boolean;
}

export const FEATURES: readonly FeatureSpec[] = [
  { feature: 'eBPF kernel monitoring (Linux)', key: 'enterprise.kernel_monitoring.enable_ebpf', enabled: (e) => e.kernel_monitoring.enable_ebpf },
  { feature: 'ETW kernel monitoring (Windows)', key: 'enterprise.kernel_monitoring.enable_etw', enabled: (e) => e.kernel_monitoring.enable_etw },
  { feature: 'Endpoint Security monitoring (macOS)', key: 'enterprise.kernel_monitoring.enable_endpoint_security', enabled: (e) => e.kernel_monitoring.enable_endpoint_security },
  { feature: 'packet capture', key: 'enterprise.network_monitoring.enable_packet_capture', enabled: (e) => e.network_monitoring.enable_packet_capture },
  { feature: 'federation with security centers', key: 'enterprise.federation.enable_federation', enabled: (e) => e.federation.enable_federation },
  { feature: 'STIX/TAXII threat intelligence', key: 'enterprise.stix_taxii.enable_integration', enabled: (e) => e.stix_taxii.enable_integration },
  { feature: 'behavioural analysis', key: 'enterprise.analytics.enable_behavioral_analysis', enabled: (e) => e.analytics.enable_behavioral_analysis },
  { feature: 'machine-learning models', key: 'enterprise.analytics.enable_machine_learning', enabled: (e) => e.analytics.enable_machine_learning },
];

function status(feature: string, key: string, enabled: boolean, implemented: boolean): FeatureStatus {
  const note = !enabled ? 'disabled' : implemented ? 'active' : NOT_ACTIVE_NOTE;
  return { feature, key, enabled, active: enabled && implemented, note };
}

export function describeConfig(config: DaemonEyeConfig): FeatureStatus[] {
  const features = FEATURES.map((f) => status(f.feature, f.key, f.enabled(config.enterprise), ACTIVE_FEATURES.has(f.key)));
  const sinks = config.alerting.sinks.map((s, i) =>
    status(`${s.type} alert sink${s.name === s.type ? '' : ` "${s.name}"`}`, `alerting.sinks[${i}]`, s.enabled, ACTIVE_SINK_TYPES.has(s.type)));
  return [...features, ...sinks];
}
