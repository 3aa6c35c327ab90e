// A detection rule is data: a YAML file with metadata, one SELECT and fixtures (docs/rules.md).
// This schema is the contract between rule authors and the engine; ids are never reused.
import { z } from 'zod';

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

const row = z.record(z.string(), z.unknown());

export const fixtureSchema = z.strictObject({
  name: z.string().min(1),
  processes: z.array(row).default([]),
  lifecycle: z.array(row).default([]),
  process_exec: z.array(row).default([]),
  process_exit: z.array(row).default([]),
  network_connections: z.array(row).default([]),
  process_security_events: z.array(row).default([]),
  network_flows: z.array(row).default([]),
  dns_queries: z.array(row).default([]),
  tls_handshakes: z.array(row).default([]),
  http_requests: z.array(row).default([]),
  expect: z.array(row),
});

export const ruleSchema = z.strictObject({
  id: z.string().regex(/^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$/, 'an id like DE-LNX-0001 (upper case, dash separated)'),
  name: z.string().min(1),
  version: z.number().int().min(1),
  description: z.string().min(1),
  severity: z.enum(SEVERITIES),
  attack: z.array(z.string().regex(/^T\d{4}(\.\d{3})?$/, 'a MITRE ATT&CK technique id like T1059 or T1059.004')).min(1),
  tags: z.array(z.string()).default([]),
  kind: z.enum(['state', 'event']).default('state'),
  enabled: z.boolean().default(true),
  rationale: z.string().default(''),
  sql: z.string().min(1),
  fixtures: z.array(fixtureSchema).default([]),
});

export type Fixture = z.output<typeof fixtureSchema>;

export interface Rule extends z.output<typeof ruleSchema> {
  /** The file the rule came from, or 'builtin:<file>' for shipped rules. */
  readonly source: string;
}

/** The identity of a rule as alerts and the rules table record it. */
export type RuleMeta = Pick<Rule, 'id' | 'name' | 'version' | 'severity' | 'attack' | 'tags' | 'kind'>;
