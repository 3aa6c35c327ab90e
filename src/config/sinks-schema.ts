// `alerting.sinks`: a list of sinks, one zod object per sink type, told apart by `type`. Every
// object is strict (a typo is an error naming the key) and shares the routing and delivery keys in
// COMMON. Secrets (webhook secret, HEC token, SMTP password, ES API key, header values) become
// Secret objects at parse time, so printing a config (`config check --print`, a log line, an error)
// shows `[redacted]`; only the sink factory calls reveal().
//
// The JSON Schema of a discriminated union is a `oneOf` that schema-info.ts cannot walk by path
// (it does not know which branch a path is in). The union therefore carries, as metadata, the
// merged view of all branches (every key any sink type accepts, `type` as an enum): a true but
// looser description that gives the error messages, `${VAR}` typing and env parsing a node per key.

import { z } from 'zod';
import { SEVERITIES } from '../detect/sql/rule.ts';

/** A configured secret. Never serialised: JSON, String() and util.inspect show `[redacted]`. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[redacted]';
  }
}

/** Keys whose values are secrets wherever they appear in a sink (and every value under `headers`). */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['secret', 'token', 'password', 'api_key', 'headers']);

export const SINK_TYPES = ['stdout', 'jsonl_file', 'webhook', 'syslog', 'cef', 'email', 'splunk_hec', 'elasticsearch'] as const;
export type SinkType = (typeof SINK_TYPES)[number];

/** MITRE ATT&CK Enterprise tactics, snake_case as rule tags spell them. */
export const ATTACK_TACTICS = [
  'reconnaissance', 'resource_development', 'initial_access', 'execution', 'persistence',
  'privilege_escalation', 'defense_evasion', 'credential_access', 'discovery', 'lateral_movement',
  'collection', 'command_and_control', 'exfiltration', 'impact',
] as const;

/** RFC 5424 section 6.2.1 facility codes, by the names syslog.conf uses. */
export const SYSLOG_FACILITIES = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9,
  authpriv: 10, ftp: 11, ntp: 12, security: 13, console: 14, clock: 15,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
} as const;
type Facility = keyof typeof SYSLOG_FACILITIES;
const FACILITY_NAMES = Object.keys(SYSLOG_FACILITIES) as [Facility, ...Facility[]];

const int = (min: number, max: number, dflt: number) => z.number().int().min(min).max(max).default(dflt);
const text = () => z.string().min(1);
const secret = () => text().transform((s) => new Secret(s));
/** Credentials belong in their own keys (which are redacted), not in a URL that error messages show. */
const endpoint = () => z.url({ protocol: /^https?$/ }).refine((u) => { const p = new URL(u); return p.username === '' && p.password === ''; },
  'a URL without user:password@ (use the credential keys)');
/** udp://host:port, tcp://host:port, tcp+tls://host:port, unix:///path. */
export const SYSLOG_ADDRESS = /^(?:(?:udp|tcp|tcp\+tls):\/\/(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}|unix:\/\/\/.+)$/;
const syslogAddress = () => z.string().regex(SYSLOG_ADDRESS, 'udp://HOST:PORT, tcp://HOST:PORT, tcp+tls://HOST:PORT or unix:///PATH');

const COMMON = {
  /** Unique among sinks; outbox rows and log lines name it. Defaults to the type. */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, _ . - (at most 64)').optional(),
  enabled: z.boolean().default(true),
  min_severity: z.enum(SEVERITIES).default('low'),
  tags: z.array(text()).default(() => []),
  tactics: z.array(z.enum(ATTACK_TACTICS)).default(() => []),
  batch_size: int(1, 10_000, 100),
  max_attempts: int(1, 1_000, 12),
  timeout_ms: int(100, 600_000, 10_000),
  rate_limit_per_minute: int(1, 1_000_000, 600),
};

const TLS = {
  /** PEM bundle of CAs to trust instead of the system store. */
  ca_file: text().optional(),
  /** Client certificate and key (PEM) for receivers that require mutual TLS. */
  cert_file: text().optional(),
  key_file: text().optional(),
};
const pairedClientCert = (s: { cert_file?: string | undefined; key_file?: string | undefined }) =>
  (s.cert_file === undefined) === (s.key_file === undefined);
const PAIRED = { message: 'cert_file and key_file go together', path: ['key_file'] };

/** Header names a sink sets itself; config may not override them. */
export const RESERVED_HEADERS = ['content-type', 'content-length', 'content-encoding', 'host', 'idempotency-key', 'x-daemoneye-signature', 'transfer-encoding', 'connection'];

const stdout = z.strictObject({
  type: z.literal('stdout'), ...COMMON,
  format: z.enum(['auto', 'human', 'json']).default('auto'),
});

const jsonlFile = z.strictObject({
  type: z.literal('jsonl_file'), ...COMMON,
  /** Relative to agent.data_dir. */
  path: text(),
  /** Size-based rotation: rotate past max_size_mb (0: never), keep max_files rotated files. */
  max_size_mb: z.number().int().min(0).max(1_048_576).default(100),
  max_files: z.number().int().min(0).max(1000).default(5),
});

const webhook = z.strictObject({
  type: z.literal('webhook'), ...COMMON, ...TLS,
  url: endpoint(),
  /** HMAC-SHA256 key: the body's signature goes in X-DaemonEye-Signature. */
  secret: secret().optional(),
  /** Extra request headers; values are treated as secrets (Authorization: Bearer ...). */
  headers: z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'an HTTP header name'), secret())
    .refine((h) => !Object.keys(h).some((k) => RESERVED_HEADERS.includes(k.toLowerCase())), `none of ${RESERVED_HEADERS.join(', ')}`)
    .default(() => ({})),
}).refine(pairedClientCert, PAIRED);

const SYSLOG = {
  address: syslogAddress(),
  facility: z.enum(FACILITY_NAMES).default('local0'),
  /** RFC 5424 SD-ID; 32473 is the documentation enterprise number (RFC 5612): use your own if you have one. */
  sd_id: z.string().regex(/^[!#-<>-\\^-~]{1,23}@\d+(?:\.\d+)*$/, 'NAME@ENTERPRISE_NUMBER, e.g. daemoneye@32473').default('daemoneye@32473'),
  /** TLS server name to verify when the address is an IP. */
  server_name: text().optional(),
  /** Longest message written; longer ones have their command line, then summary, cut. null: 8192 on datagram sockets, no limit on streams. */
  max_message_bytes: z.number().int().min(480).max(16_777_216).nullable().default(null),
  ...TLS,
};

const syslog = z.strictObject({
  type: z.literal('syslog'), ...COMMON, ...SYSLOG,
  format: z.enum(['rfc5424', 'cef']).default('rfc5424'),
}).refine(pairedClientCert, PAIRED);

const cef = z.strictObject({
  type: z.literal('cef'), ...COMMON,
  /** A file CEF lines are appended to (relative to agent.data_dir) ... */
  path: text().optional(),
  ...SYSLOG,
  /** ... or a syslog address CEF is sent to (exactly one of the two). */
  address: syslogAddress().optional(),
}).refine((s) => (s.path === undefined) !== (s.address === undefined), { message: 'exactly one of path (a file) or address (syslog)', path: ['address'] })
  .refine(pairedClientCert, PAIRED);

const email = z.strictObject({
  type: z.literal('email'), ...COMMON,
  host: text(),
  port: int(1, 65_535, 587),
  /** starttls: plain connect, then STARTTLS, required. tls: TLS from the first byte (port 465). none: cleartext. */
  security: z.enum(['starttls', 'tls', 'none']).default('starttls'),
  username: text().optional(),
  password: secret().optional(),
  from: z.email(),
  to: z.array(z.email()).min(1),
  subject_prefix: z.string().default('[DaemonEye]'),
  ca_file: text().optional(),
}).refine((s) => s.password === undefined || s.username !== undefined, { message: 'password needs username', path: ['username'] });

const splunkHec = z.strictObject({
  type: z.literal('splunk_hec'), ...COMMON, ...TLS,
  /** Base URL of the collector, e.g. https://splunk.example.com:8088 (paths are appended). */
  url: endpoint(),
  token: secret(),
  index: text().optional(),
  source: text().default('daemoneye'),
  sourcetype: text().default('daemoneye:alert'),
  gzip: z.boolean().default(true),
  /** Indexer acknowledgement: resolve only once Splunk says the events are indexed. */
  use_ack: z.boolean().default(false),
  ack_timeout_ms: int(100, 3_600_000, 60_000),
  ack_poll_ms: int(10, 60_000, 1_000),
}).refine(pairedClientCert, PAIRED);

/** Lower case, none of Elasticsearch's forbidden characters; {yyyy}, {MM}, {dd} are dates. */
const INDEX = /^(?![-_+.])(?:[a-z0-9_+.-]|\{[yMd.-]+\})+$/;

const elasticsearch = z.strictObject({
  type: z.literal('elasticsearch'), ...COMMON, ...TLS,
  url: endpoint(),
  index: z.string().regex(INDEX, 'a lower-case index name; {yyyy}, {MM}, {dd} insert the alert date').default('daemoneye-alerts'),
  api_key: secret().optional(),
  username: text().optional(),
  password: secret().optional(),
  gzip: z.boolean().default(true),
}).refine((s) => s.api_key === undefined || s.username === undefined, { message: 'api_key or username/password, not both', path: ['api_key'] })
  .refine((s) => (s.username === undefined) === (s.password === undefined), { message: 'username and password go together', path: ['password'] })
  .refine(pairedClientCert, PAIRED);

/**
 * `center`: the agent's security center (src/center-client/). Added by the agent on its own once
 * the data dir is enrolled (`daemoneye enroll`); configure it only to tune it. Not in SINK_TYPES,
 * the list of destinations a user adds by hand.
 */
export const CENTER_SINK_TYPE = 'center';
/** Store tables whose rows the center sink can push as events (src/center-client/event-push.ts). */
export const CENTER_EVENT_TABLES = ['process_exec', 'network_connections', 'process_security_events', 'dns_queries', 'tls_handshakes'] as const;
const center = z.strictObject({
  type: z.literal(CENTER_SINK_TYPE), ...COMMON,
  batch_size: int(1, 10_000, 1000),
  rate_limit_per_minute: int(1, 10_000_000, 1_000_000),
  /** The identity written by `daemoneye enroll` (relative to agent.data_dir). */
  identity_dir: text().default('identity'),
  /** Overrides the center URL recorded at enrolment (a load balancer in front of several centers). */
  url: endpoint().optional(),
  heartbeat_interval: int(5, 3600, 30),
  /** Alerts waiting for the center beyond this are shed (oldest, lowest severity first) and counted. */
  max_outbox: int(100, 100_000_000, 1_000_000),
  /**
   * Detection-relevant events pushed after each heartbeat (docs/center.md "Events"): new rows of
   * these store tables, at most max_rows_per_beat per table per heartbeat. argv and DNS names leave
   * the host: narrow `tables` or turn it off where that is not wanted.
   */
  events: z.strictObject({
    enabled: z.boolean().default(true),
    tables: z.array(z.enum(CENTER_EVENT_TABLES)).max(CENTER_EVENT_TABLES.length).default(() => [...CENTER_EVENT_TABLES]),
    max_rows_per_beat: int(1, 100_000, 2000),
  }).prefault({}),
});

const VARIANTS = [stdout, jsonlFile, webhook, syslog, cef, email, splunkHec, elasticsearch, center] as const;

/** Every key any sink type accepts, for schema-info.ts (see the top of this file). */
function mergedView(): Record<string, unknown> {
  const props = new Map<string, Map<string, unknown>>();
  for (const v of VARIANTS) {
    const js = z.toJSONSchema(v, { io: 'input' }) as { properties?: Record<string, unknown> };
    for (const [key, node] of Object.entries(js.properties ?? {})) {
      const seen = props.get(key) ?? new Map<string, unknown>();
      seen.set(JSON.stringify(node), node);
      props.set(key, seen);
    }
  }
  const properties: Record<string, unknown> = {};
  for (const [key, nodes] of props) {
    const list = [...nodes.values()];
    properties[key] = list.length === 1 ? list[0] : { anyOf: list };
  }
  properties['type'] = { type: 'string', enum: [...SINK_TYPES] };
  return { type: 'object', properties, required: ['type'], additionalProperties: false };
}

export const sinkSchema = z.discriminatedUnion('type', VARIANTS).meta(mergedView());

export const sinksSchema = z.array(sinkSchema)
  .superRefine((list, ctx) => {
    const seen = new Map<string, number>();
    list.forEach((s, i) => {
      const name = s.name ?? s.type;
      const first = seen.get(name);
      if (first === undefined) seen.set(name, i);
      else ctx.addIssue({ code: 'custom', path: [i, 'name'], input: s.name, message: `sink name "${name}" is already used by sinks[${first}]: give each sink of the same type a distinct name` });
    });
  })
  .transform((list) => list.map((s) => ({ ...s, name: s.name ?? s.type })))
  .default(() => []);

/** One validated sink: every default filled in, `name` set. */
export type SinkConfig = z.output<typeof sinksSchema>[number];
export type SinkConfigOf<T extends SinkType> = Extract<SinkConfig, { type: T }>;
export type SinkConfigInput = z.input<typeof sinkSchema>;
export type SyslogFacility = Facility;
