// How an enrolled agent reports to its center with no configuration: when DATA_DIR/identity holds
// an agent identity, a `center` sink is added to alerting.sinks (unless one is configured) and a
// CenterReporter runs beside it. Called by the composition root (src/agent/agent.ts).
import { isAbsolute, join } from 'node:path';
import type { Logger } from '../agent/logger.ts';
import type { DaemonEyeConfig } from '../config/schema.ts';
import { CENTER_SINK_TYPE, sinkSchema, type SinkConfig } from '../config/sinks-schema.ts';
import type { Db } from '../store/open-store.ts';
import { CenterReporter, centerRulesDir } from './center-reporter.ts';
import { hasIdentity, identityFileSchema } from './identity.ts';
import { existsSync, readFileSync } from 'node:fs';

type CenterSinkConfig = Extract<SinkConfig, { type: 'center' }>;

function centerSink(config: DaemonEyeConfig): CenterSinkConfig | undefined {
  return config.alerting.sinks.find((s): s is CenterSinkConfig => s.type === CENTER_SINK_TYPE);
}

function enrolledAsAgent(dir: string): boolean {
  if (!hasIdentity(dir)) return false;
  try {
    return identityFileSchema.parse(JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8'))).role === 'agent';
  } catch {
    return false;
  }
}

/**
 * The config as an enrolled agent runs it: a `center` sink unless one is configured, and the rules
 * pulled from the center (DATA_DIR/center-rules) among the rule directories.
 */
export function withCenterSink(config: DaemonEyeConfig, dataDir: string): DaemonEyeConfig {
  if (!enrolledAsAgent(join(dataDir, 'identity'))) return config;
  let out = config;
  if (centerSink(config) === undefined) {
    const sink = { ...(sinkSchema.parse({ type: CENTER_SINK_TYPE }) as CenterSinkConfig), name: 'center' };
    out = { ...out, alerting: { ...out.alerting, sinks: [...out.alerting.sinks, sink] } };
  }
  const rules = centerRulesDir(dataDir);
  if (existsSync(rules) && !out.detection.rule_dirs.includes(rules)) out = { ...out, detection: { ...out.detection, rule_dirs: [...out.detection.rule_dirs, rules] } };
  return out;
}

export function centerReporter(config: DaemonEyeConfig, dataDir: string, db: Db, log: Logger, host: string, counters: () => Record<string, number>,
  onRulesPulled?: () => void): CenterReporter | null {
  const sink = centerSink(config);
  if (sink === undefined || !sink.enabled) return null;
  const identityDir = isAbsolute(sink.identity_dir) ? sink.identity_dir : join(dataDir, sink.identity_dir);
  return new CenterReporter({
    dataDir, identityDir, sinkName: sink.name, heartbeatSeconds: sink.heartbeat_interval, maxOutbox: sink.max_outbox, host, counters,
    events: sink.events.enabled ? { tables: sink.events.tables, maxRowsPerBeat: sink.events.max_rows_per_beat } : null,
    ...(onRulesPulled === undefined ? {} : { onRulesPulled }),
  }, db, log);
}
