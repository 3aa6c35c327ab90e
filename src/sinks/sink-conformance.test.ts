// The one test every sink passes, each against a real receiver on loopback (HTTPS server with a
// test CA, TCP/TLS/UDP/unix syslog collectors, an SMTP server with STARTTLS):
//   - a batch (plain alerts, hostile text, a 64 KiB command line) arrives and reads back field by field;
//   - refusals: "busy" (HTTP 503 + Retry-After: 7, SMTP 451) is retryable with the delay; "bad
//     request" and "unauthorized" (400/401, SMTP 550/535) are not;
//   - a receiver that is down is retryable; one that hangs times out, retryable;
//   - no secret appears in an error (message, inspect) or a sink (JSON, inspect), even when the
//     receiver echoes it back.
// One file on purpose: the table of cases is the contract, and a new sink adds a row here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { inspect } from 'node:util';
import type { Alert } from '../alerts/alert.ts';
import { configSchema } from '../config/schema.ts';
import type { SinkConfigInput } from '../config/sinks-schema.ts';
import { createSink } from '../agent/sink-factory.ts';
import { silentLogger } from '../agent/logger.ts';
import { SinkDeliveryError } from './sink-error.ts';
import { loadUnixDgram } from './datagram-transport.ts';
import type { Sink } from './sink.ts';
import { StdoutSink } from './stdout-sink.ts';
import { hostileAlert, rng, sampleAlert } from './testing/alerts.ts';
import { HttpsReceiver, type RecordedRequest } from './testing/https-receiver.ts';
import { closedPort, silentServer } from './testing/loopback.ts';
import { parseCef } from './testing/parse-cef.ts';
import { parseRfc5424 } from './testing/parse-rfc5424.ts';
import { SmtpReceiver } from './testing/smtp-receiver.ts';
import { StreamSyslogReceiver, UdpSyslogReceiver, UnixDgramSyslogReceiver, type SyslogReceiver } from './testing/syslog-receiver.ts';
import { testPki } from './testing/test-cert.ts';

const VERSION = '9.9.9-test';
const WEBHOOK_SECRET = 'whsec-6f1d2c9e8b7a5d4c';
const BEARER = 'Bearer hdr-0a9b8c7d6e5f4a3b';
const HEC_TOKEN = '8a6f3c2e-hec-token-4d1b9e7f';
const ES_API_KEY = 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==';
const SMTP_USER = 'daemoneye';
const SMTP_PASS = 'smtp-pass-8c7b6a5d4e3f';
const SECRETS = [WEBHOOK_SECRET, BEARER, HEC_TOKEN, ES_API_KEY, SMTP_PASS];
const SHORT_TIMEOUT = 400;
const TRUNCATED = ' [truncated]';
const SD_ID = 'daemoneye@32473';

const tmp = mkdtempSync(join(tmpdir(), 'daemoneye-sinks-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** A sink as the agent builds it: config through the real schema (secrets become Secret), then the factory. */
function build(input: SinkConfigInput): Sink {
  const config = configSchema.parse({ alerting: { sinks: [input] } }).alerting.sinks[0]!;
  assert.doesNotMatch(JSON.stringify(config) + inspect(config, { depth: 9 }), new RegExp(SECRETS.map(escapeRe).join('|')), 'a parsed config shows no secret');
  return createSink(config, { dataDir: tmp, log: silentLogger, version: VERSION });
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function batch(): Alert[] {
  const next = rng(7);
  return [
    sampleAlert({ severity: 'critical' }),
    sampleAlert({ severity: 'low', pid: null, process_name: null, executable_path: null, command_line: null, attack_ids: [], tags: [] }),
    hostileAlert(next),
    hostileAlert(next),
    hostileAlert(next, true),
  ];
}

// ---- reading back ---------------------------------------------------------------------------

/** A field the transport omits when it is null or empty (CEF drops empty extensions). */
const ABSENT = Symbol('absent');
type Fields = Partial<Record<keyof Alert, unknown>>;

const norm = (v: unknown): unknown =>
  typeof v === 'string' ? v.toWellFormed()
    : Array.isArray(v) ? v.map(norm)
      : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)])) : v;

function assertCarried(label: string, got: Fields[], sent: readonly Alert[]): void {
  assert.equal(got.length, sent.length, `${label}: every alert arrived, once`);
  const byUuid = new Map(sent.map((a) => [a.alert_uuid, a]));
  for (const g of got) {
    const a = byUuid.get(g.alert_uuid as string);
    assert.ok(a, `${label}: unknown alert_uuid ${String(g.alert_uuid)}`);
    for (const [k, v] of Object.entries(g) as [keyof Alert, unknown][]) {
      const want = norm(a[k]);
      if (v === ABSENT) {
        assert.ok(want === null || want === '' || (Array.isArray(want) && want.length === 0), `${label}: ${k} missing but was ${JSON.stringify(want)}`);
      } else if (typeof v === 'string' && v.endsWith(TRUNCATED) && typeof want === 'string' && !want.endsWith(TRUNCATED)) {
        assert.ok(want.startsWith(v.slice(0, -TRUNCATED.length)), `${label}: ${k} truncated to something that is not a prefix`);
      } else {
        assert.deepEqual(norm(v), want, `${label}: field ${k}`);
      }
    }
  }
}

const CEF_SEVERITIES: Record<string, string> = { 3: 'low', 5: 'medium', 7: 'high', 10: 'critical' };
const list = (s: string | undefined) => (s === undefined || s === '' ? ABSENT : s.split(','));

function fromCef(line: string): Fields {
  const c = parseCef(line);
  const e = c.extensions;
  assert.deepEqual([c.version, c.vendor, c.product, c.productVersion], ['0', 'DaemonEye', 'DaemonEye', VERSION]);
  for (const [k, label] of [['cs1', 'mitreAttackIds'], ['cs2', 'ruleTags'], ['cs3', 'commandLine']]) {
    if (e[k!] !== undefined) assert.equal(e[`${k}Label`], label);
  }
  return {
    alert_uuid: e['externalId'], rule_id: c.signatureId, rule_name: c.name, severity: CEF_SEVERITIES[c.severity],
    host: e['dvchost'] ?? ABSENT, summary: e['msg'] ?? ABSENT,
    pid: e['dpid'] === undefined ? ABSENT : Number(e['dpid']),
    process_name: e['dproc'] ?? ABSENT, executable_path: e['filePath'] ?? ABSENT, command_line: e['cs3'] ?? ABSENT,
    attack_ids: list(e['cs1']), tags: list(e['cs2']),
    occurrences: Number(e['cn1']), rule_version: Number(e['cn2']),
    first_seen: new Date(Number(e['start'])).toISOString(), last_seen: new Date(Number(e['end'])).toISOString(),
  };
}

const SYSLOG_SEVERITY: Record<string, number> = { low: 5, medium: 4, high: 3, critical: 2 };

/** RFC 5424 back to fields: the header, the SD params, and MSG (rule name: summary, or CEF). */
function fromSyslog(text: string, sent: readonly Alert[], format: 'rfc5424' | 'cef'): Fields {
  const m = parseRfc5424(text);
  const p = m.sd[SD_ID];
  assert.ok(p, 'SD element present');
  const a = sent.find((x) => x.alert_uuid === p['alert_uuid']);
  assert.ok(a, 'alert_uuid matches a sent alert');
  assert.equal(m.pri, 16 * 8 + SYSLOG_SEVERITY[a.severity]!, 'PRI = local0 * 8 + severity');
  assert.deepEqual([m.version, m.timestamp, m.appName, m.procId, m.msgId], [1, a.first_seen, 'daemoneye', '-', a.rule_id]);
  if (format === 'cef') return { ...fromCef(m.msg), alert_uuid: p['alert_uuid'] };
  const prefix = `${a.rule_name.toWellFormed()}: `;
  const fields: Fields = {
    alert_uuid: p['alert_uuid'], rule_id: p['rule_id'], rule_version: Number(p['rule_version']), severity: p['severity'],
    attack_ids: list(p['attack_ids']), tags: list(p['tags']), host: p['host'],
    pid: p['pid'] === undefined ? ABSENT : Number(p['pid']),
    process_name: p['process_name'] ?? ABSENT, executable_path: p['executable_path'] ?? ABSENT, command_line: p['command_line'] ?? ABSENT,
    occurrences: Number(p['occurrences']), first_seen: p['first_seen'], last_seen: p['last_seen'],
  };
  // MSG is "rule name: summary"; a datagram may have had its summary cut.
  if (m.msg.startsWith(prefix)) fields.summary = m.msg.slice(prefix.length);
  else assert.ok(m.msg.endsWith(TRUNCATED), `MSG ${JSON.stringify(m.msg.slice(0, 60))} starts with the rule name`);
  return fields;
}

// ---- the cases ------------------------------------------------------------------------------

interface Running {
  readonly sink: Sink;
  /** What the receiver got, reduced to the fields this transport carries; also checks transport details. */
  readBack(sent: readonly Alert[]): Promise<Fields[]>;
  /** Makes the live receiver refuse; returns the Retry-After it sent (ms), if any. */
  refuse?(kind: 'busy' | 'bad_request' | 'unauthorized'): number | undefined;
  stop(): Promise<void>;
}

interface Hung { readonly sink: Sink; readonly batch?: Alert[]; stop(): Promise<void> }

interface SinkCase {
  readonly label: string;
  start(): Promise<Running>;
  /** The sink aimed at a receiver that is not there. */
  down?(): Promise<Sink>;
  /** The receiver can refuse (Running.refuse): HTTP statuses, SMTP replies. */
  readonly refuses?: boolean;
  /** Datagrams: "delivered" means sent; a receiver that is down may not be noticed. */
  readonly datagram?: boolean;
  /** The sink aimed at a receiver that accepts and then never answers (or never reads). */
  hang?(): Promise<Hung>;
}

/** HTTP receivers refuse like real ones, and echo the request headers back (to test redaction). */
function httpRefusal(r: HttpsReceiver, kind: 'busy' | 'bad_request' | 'unauthorized', bodies: Record<typeof kind, (req: RecordedRequest) => string>): number | undefined {
  const status = { busy: 503, bad_request: 400, unauthorized: 401 }[kind];
  const headers: Record<string, string> = kind === 'busy' ? { 'retry-after': '7' } : {};
  r.reply = (req) => ({ status, headers, body: bodies[kind](req) });
  return kind === 'busy' ? 7000 : undefined;
}

const echo = (req: RecordedRequest) => `refused; you sent ${JSON.stringify(req.headers)}`;

async function hangingHttp(make: (url: string) => Sink): Promise<Hung> {
  const r = await HttpsReceiver.start();
  r.reply = () => 'hang';
  return { sink: make(r.url()), stop: () => r.close() };
}

const webhookConfig = (url: string, timeout_ms = 10_000): SinkConfigInput => ({
  type: 'webhook', url, secret: WEBHOOK_SECRET, headers: { Authorization: BEARER, 'X-Team': 'soc' }, ca_file: testPki().caFile, timeout_ms,
});
const hecConfig = (url: string, timeout_ms = 10_000): SinkConfigInput => ({
  type: 'splunk_hec', url, token: HEC_TOKEN, index: 'security', ca_file: testPki().caFile, timeout_ms,
});
const esConfig = (url: string, timeout_ms = 10_000): SinkConfigInput => ({
  type: 'elasticsearch', url, api_key: ES_API_KEY, index: 'daemoneye-{yyyy.MM.dd}', ca_file: testPki().caFile, timeout_ms,
});
const emailConfig = (port: number, timeout_ms = 10_000): SinkConfigInput => ({
  type: 'email', host: '127.0.0.1', port, username: SMTP_USER, password: SMTP_PASS, from: 'daemoneye@example.com',
  to: ['soc@example.com', 'oncall@example.com'], ca_file: testPki().caFile, timeout_ms,
});

function syslogCase(label: string, kind: 'udp' | 'tcp' | 'tls' | 'unix-dgram', format: 'rfc5424' | 'cef', type: 'syslog' | 'cef' = 'syslog'): SinkCase {
  const config = (address: string, timeout_ms = 10_000): SinkConfigInput => ({
    type, address, ...(type === 'syslog' ? { format } : {}), ca_file: testPki().caFile, timeout_ms,
  } as SinkConfigInput);
  const receiver = async (): Promise<SyslogReceiver> => {
    switch (kind) {
      case 'udp': return UdpSyslogReceiver.start();
      case 'tcp': return StreamSyslogReceiver.start('tcp');
      case 'tls': return StreamSyslogReceiver.start('tls');
      case 'unix-dgram': return UnixDgramSyslogReceiver.start(join(mkdtempSync(join(tmp, 'u')), 'log'));
    }
  };
  const scheme = kind === 'tls' ? 'tcp+tls' : kind;
  return {
    label,
    datagram: kind === 'udp' || kind === 'unix-dgram',
    async start() {
      const r = await receiver();
      const sink = build(config(r.address));
      return {
        sink,
        async readBack(sent) {
          const messages = await r.waitFor(sent.length);
          return messages.map((m) => fromSyslog(m, sent, format));
        },
        stop: async () => {
          await sink.close();
          await r.close();
        },
      };
    },
    async down() {
      if (kind === 'unix-dgram') return build(config(`unix://${join(tmp, 'nobody-listens-here')}`));
      return build(config(`${scheme}://127.0.0.1:${await closedPort()}`));
    },
    ...(kind === 'tcp' || kind === 'tls' ? {
      async hang(): Promise<Hung> {
        const s = await silentServer();
        // TLS: the handshake never completes. TCP: connecting works, so send more than the
        // kernel buffers hold to a receiver that never reads.
        const big = kind === 'tcp' ? Array.from({ length: 400 }, () => sampleAlert({ command_line: 'x'.repeat(64 * 1024) })) : undefined;
        return { sink: build(config(`${scheme}://127.0.0.1:${s.port}`, SHORT_TIMEOUT)), ...(big ? { batch: big } : {}), stop: () => s.close() };
      },
    } : {}),
  };
}

const CASES: SinkCase[] = [
  {
    label: 'stdout (json)',
    async start() {
      const out = new PassThrough();
      let text = '';
      out.on('data', (c: Buffer) => { text += c.toString('utf8'); });
      const sink = new StdoutSink('json', out);
      return {
        sink,
        readBack: async () => text.trimEnd().split('\n').map((l) => JSON.parse(l) as Fields),
        stop: () => sink.close(),
      };
    },
  },
  {
    label: 'jsonl_file',
    async start() {
      const path = join(mkdtempSync(join(tmp, 'j')), 'alerts.jsonl');
      const sink = build({ type: 'jsonl_file', name: 'jsonl-copy', path });
      assert.equal(sink.name, 'jsonl-copy');
      return {
        sink,
        readBack: async () => readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Fields),
        stop: () => sink.close(),
      };
    },
  },
  {
    label: 'webhook',
    refuses: true,
    async start() {
      const r = await HttpsReceiver.start();
      const sink = build(webhookConfig(r.url('/hooks/daemoneye?team=soc')));
      return {
        sink,
        async readBack() {
          return r.requests.map((req) => {
            assert.equal(req.method, 'POST');
            assert.equal(req.url, '/hooks/daemoneye?team=soc');
            assert.equal(req.headers['content-type'], 'application/json');
            assert.equal(req.headers['authorization'], BEARER, 'custom headers are sent');
            assert.equal(req.headers['x-team'], 'soc');
            assert.equal(req.headers['user-agent'], `DaemonEye/${VERSION}`);
            const expected = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(req.raw).digest('hex')}`;
            assert.equal(req.headers['x-daemoneye-signature'], expected, 'HMAC-SHA256 of the exact body');
            const alert = JSON.parse(req.body.toString('utf8')) as Alert;
            assert.equal(req.headers['idempotency-key'], alert.alert_uuid, 'Idempotency-Key = alert_uuid');
            return alert as Fields;
          });
        },
        refuse: (kind) => httpRefusal(r, kind, { busy: echo, bad_request: (req) => `${echo(req)} and ${WEBHOOK_SECRET}`, unauthorized: echo }),
        stop: async () => {
          await sink.close();
          await r.close();
        },
      };
    },
    down: async () => build(webhookConfig(`https://127.0.0.1:${await closedPort()}/x`)),
    hang: () => hangingHttp((url) => build(webhookConfig(url, SHORT_TIMEOUT))),
  },
  {
    label: 'splunk_hec',
    refuses: true,
    async start() {
      const r = await HttpsReceiver.start();
      r.reply = () => ({ status: 200, body: '{"text":"Success","code":0}' });
      const sink = build(hecConfig(r.url()));
      return {
        sink,
        async readBack() {
          return r.requests.flatMap((req) => {
            assert.equal(req.url, '/services/collector/event');
            assert.equal(req.headers['authorization'], `Splunk ${HEC_TOKEN}`);
            assert.equal(req.headers['content-encoding'], 'gzip');
            assert.equal(req.raw[0], 0x1f, 'gzip magic');
            const lines = req.body.toString('utf8').split('\n');
            return lines.map((l) => {
              const ev = JSON.parse(l) as { time: number; host: string; source: string; sourcetype: string; index: string; fields: Record<string, string>; event: Alert };
              assert.deepEqual([ev.source, ev.sourcetype, ev.index, ev.host], ['daemoneye', 'daemoneye:alert', 'security', ev.event.host]);
              assert.equal(ev.time, Date.parse(ev.event.first_seen) / 1000);
              assert.deepEqual(ev.fields, { alert_uuid: ev.event.alert_uuid, rule_id: ev.event.rule_id, severity: ev.event.severity });
              return ev.event as Fields;
            });
          });
        },
        refuse: (kind) => httpRefusal(r, kind, {
          busy: () => '{"text":"Server is busy","code":9}',
          bad_request: () => '{"text":"Invalid data format","code":6}',
          unauthorized: (req) => JSON.stringify({ text: `Invalid authorization ${String(req.headers['authorization'])}`, code: 3 }),
        }),
        stop: async () => {
          await sink.close();
          await r.close();
        },
      };
    },
    down: async () => build(hecConfig(`https://127.0.0.1:${await closedPort()}`)),
    hang: () => hangingHttp((url) => build(hecConfig(url, SHORT_TIMEOUT))),
  },
  {
    label: 'elasticsearch',
    refuses: true,
    async start() {
      const r = await HttpsReceiver.start();
      r.reply = (req) => {
        const n = req.body.toString('utf8').trimEnd().split('\n').length / 2;
        return { status: 200, body: JSON.stringify({ errors: false, items: Array.from({ length: n }, () => ({ create: { status: 201 } })) }) };
      };
      const sink = build(esConfig(r.url('/es/')));
      return {
        sink,
        async readBack() {
          return r.requests.flatMap((req) => {
            assert.match(req.url, /^\/es\/_bulk\?/);
            assert.equal(req.headers['authorization'], `ApiKey ${ES_API_KEY}`);
            assert.equal(req.headers['content-type'], 'application/x-ndjson');
            assert.equal(req.headers['content-encoding'], 'gzip');
            const text = req.body.toString('utf8');
            assert.ok(text.endsWith('\n'), 'NDJSON ends with a newline');
            const lines = text.trimEnd().split('\n');
            const docs: Fields[] = [];
            for (let i = 0; i < lines.length; i += 2) {
              const action = JSON.parse(lines[i]!) as { create: { _index: string; _id: string } };
              const { '@timestamp': ts, ...doc } = JSON.parse(lines[i + 1]!) as Alert & { '@timestamp': string };
              assert.equal(action.create._id, doc.alert_uuid, '_id = alert_uuid');
              assert.equal(action.create._index, `daemoneye-${doc.first_seen.slice(0, 10).replace(/-/g, '.')}`);
              assert.equal(ts, doc.first_seen);
              docs.push(doc as Fields);
            }
            return docs;
          });
        },
        refuse: (kind) => httpRefusal(r, kind, {
          busy: () => '{"error":{"type":"es_rejected_execution_exception","reason":"rejected"},"status":503}',
          bad_request: () => '{"error":{"type":"parse_exception","reason":"request body is required"},"status":400}',
          unauthorized: (req) => JSON.stringify({ error: { type: 'security_exception', reason: `unable to authenticate with ${String(req.headers['authorization'])}` }, status: 401 }),
        }),
        stop: async () => {
          await sink.close();
          await r.close();
        },
      };
    },
    down: async () => build(esConfig(`https://127.0.0.1:${await closedPort()}`)),
    hang: () => hangingHttp((url) => build(esConfig(url, SHORT_TIMEOUT))),
  },
  syslogCase('syslog udp rfc5424', 'udp', 'rfc5424'),
  syslogCase('syslog tcp rfc5424', 'tcp', 'rfc5424'),
  syslogCase('syslog tcp+tls rfc5424', 'tls', 'rfc5424'),
  syslogCase('syslog tcp+tls cef', 'tls', 'cef'),
  // unix-dgram is an optional dependency: where it did not build, the next test checks the error.
  ...(loadUnixDgram() ? [syslogCase('syslog unix datagram (/dev/log)', 'unix-dgram', 'rfc5424')] : []),
  syslogCase('cef over syslog udp', 'udp', 'cef', 'cef'),
  {
    label: 'cef file',
    async start() {
      const path = join(mkdtempSync(join(tmp, 'c')), 'alerts.cef');
      const sink = build({ type: 'cef', path });
      return {
        sink,
        readBack: async () => readFileSync(path, 'utf8').trimEnd().split('\n').map(fromCef),
        stop: () => sink.close(),
      };
    },
  },
  {
    label: 'email',
    refuses: true,
    async start() {
      const r = await SmtpReceiver.start({ user: SMTP_USER, pass: SMTP_PASS });
      const sink = build(emailConfig(r.port));
      return {
        sink,
        async readBack(sent) {
          assert.equal(r.mails.length, 1, 'one digest per batch');
          const { mail, secure, user } = r.mails[0]!;
          assert.equal(secure, true, 'STARTTLS before the message');
          assert.equal(user, SMTP_USER, 'authenticated');
          assert.equal(mail.subject, `[DaemonEye] ${sent.length} alerts on ${new Set(sent.map((a) => a.host)).size} hosts: 1 critical, 3 high, 1 low`);
          assert.equal(mail.headers.get('x-daemoneye-alert-uuids'), sent.map((a) => a.alert_uuid).join(', '));
          for (const a of sent) assert.ok(mail.text?.includes(a.alert_uuid));
          const json = mail.attachments.find((x) => x.filename === 'daemoneye-alerts.json');
          assert.ok(json, 'alerts attached as JSON');
          return JSON.parse(json.content.toString('utf8')) as Fields[];
        },
        refuse(kind) {
          if (kind === 'busy') r.refuseData = { code: 451, text: 'Try again later' };
          if (kind === 'bad_request') r.refuseRcpt = { code: 550, text: 'No such user here' };
          // A wrong password (535) is this receiver's "unauthorized": tested below with a fresh sink.
          if (kind === 'unauthorized') r.refuseRcpt = { code: 554, text: `Relay access denied for ${SMTP_PASS}` };
          return undefined;
        },
        stop: async () => {
          await sink.close();
          await r.close();
        },
      };
    },
    down: async () => build(emailConfig(await closedPort())),
    async hang() {
      const s = await silentServer();
      return { sink: build(emailConfig(s.port, SHORT_TIMEOUT)), stop: () => s.close() };
    },
  },
];

// ---- the checks ---------------------------------------------------------------------------

/** Runs deliver, expecting a SinkDeliveryError; checks it (and the sink) for secrets. */
async function expectFailure(sink: Sink, alerts: readonly Alert[]): Promise<SinkDeliveryError> {
  let caught: unknown;
  try {
    await sink.deliver(alerts);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SinkDeliveryError, `expected SinkDeliveryError, got ${inspect(caught)}`);
  assertNoSecrets(caught, sink);
  return caught;
}

function assertNoSecrets(err: Error, sink: Sink): void {
  const seen = [err.message, inspect(err, { depth: 6 }), JSON.stringify(sink), inspect(sink, { depth: 6, showHidden: true }), String(sink)].join('\n');
  for (const s of SECRETS) {
    assert.ok(!seen.includes(s), `secret ${s.slice(0, 6)}... leaked: ${err.message}`);
    assert.ok(!seen.includes(Buffer.from(s).toString('base64')), `base64 of secret ${s.slice(0, 6)}... leaked`);
  }
}

for (const c of CASES) {
  test(`${c.label}: a batch arrives and reads back field by field`, { timeout: 30_000 }, async () => {
    const run = await c.start();
    try {
      const sent = batch();
      await run.sink.deliver(sent);
      await run.sink.deliver([]);
      assertCarried(c.label, await run.readBack(sent), sent);
      assertNoSecrets(new Error('none'), run.sink);
    } finally {
      await run.stop();
    }
  });

  if (c.refuses) {
    test(`${c.label}: refusals are retryable only when the receiver is busy`, { timeout: 30_000 }, async () => {
      const run = await c.start();
      try {
        for (const kind of ['busy', 'bad_request', 'unauthorized'] as const) {
          const retryAfterMs = run.refuse!(kind);
          const err = await expectFailure(run.sink, [sampleAlert()]);
          assert.equal(err.code, 'DE_SINK_DELIVERY');
          assert.equal(err.retryable, kind === 'busy', `${kind}: ${err.message}`);
          assert.equal(err.retryAfterMs, retryAfterMs, `${kind}: Retry-After`);
        }
      } finally {
        await run.stop();
      }
    });
  }

  if (c.down) {
    const down = c.down;
    test(`${c.label}: a receiver that is down is a retryable failure`, { timeout: 30_000 }, async () => {
      const sink = await down();
      try {
        if (c.datagram) {
          // Datagrams are fire-and-forget: a first send may "succeed"; a refusal, when the kernel
          // reports one, must be retryable.
          for (let i = 0; i < 3; i++) {
            try {
              await sink.deliver([sampleAlert(), sampleAlert()]);
            } catch (e) {
              assert.ok(e instanceof SinkDeliveryError && e.retryable, String(e));
              assertNoSecrets(e, sink);
            }
          }
          return;
        }
        const err = await expectFailure(sink, [sampleAlert()]);
        assert.equal(err.retryable, true, err.message);
      } finally {
        await sink.close();
      }
    });
  }

  if (c.hang) {
    const hang = c.hang;
    test(`${c.label}: a receiver that hangs times out, retryable`, { timeout: 30_000 }, async () => {
      const h = await hang();
      try {
        const started = Date.now();
        const err = await expectFailure(h.sink, h.batch ?? [sampleAlert()]);
        const took = Date.now() - started;
        assert.equal(err.retryable, true, err.message);
        assert.match(err.message, /within|timeout|timed out|never/i, err.message);
        assert.ok(took >= SHORT_TIMEOUT * 0.8 && took < SHORT_TIMEOUT * 10, `gave up after ${took} ms`);
      } finally {
        await h.sink.close();
        await h.stop();
      }
    });
  }
}

test('email: a wrong password is not retryable and is not echoed', { timeout: 30_000 }, async () => {
  const r = await SmtpReceiver.start({ user: SMTP_USER, pass: 'the-right-one-123' });
  const sink = build(emailConfig(r.port));
  try {
    const err = await expectFailure(sink, [sampleAlert()]);
    assert.equal(err.retryable, false, err.message);
    assert.match(err.message, /535/);
  } finally {
    await sink.close();
    await r.close();
  }
});

test('syslog tcp: a collector that restarts between batches gets the next batch on a new connection', { timeout: 30_000 }, async () => {
  const r = await StreamSyslogReceiver.start('tcp');
  const sink = build({ type: 'syslog', address: r.address });
  try {
    await sink.deliver([sampleAlert()]);
    await r.waitFor(1);
    r.dropConnections();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await sink.deliver([sampleAlert()]);
    await r.waitFor(2);
  } finally {
    await sink.close();
    await r.close();
  }
});

test('syslog unix stream socket: LF framing, line breaks written as #012', { timeout: 30_000 }, async () => {
  const r = await StreamSyslogReceiver.start('unix', { path: join(mkdtempSync(join(tmp, 'us')), 'log') });
  const sink = build({ type: 'syslog', address: r.address });
  try {
    const a = sampleAlert({ summary: 'two\nlines' });
    await sink.deliver([a]);
    const [line] = await r.waitFor(1);
    const m = parseRfc5424(line!);
    assert.equal(m.sd[SD_ID]?.['alert_uuid'], a.alert_uuid);
    assert.equal(m.msg, `${a.rule_name}: two#012lines`);
  } finally {
    await sink.close();
    await r.close();
  }
});

test('webhook: a client certificate is presented when configured (mutual TLS)', { timeout: 30_000 }, async () => {
  const r = await HttpsReceiver.start({ requireClientCert: true });
  const pki = testPki();
  const without = build(webhookConfig(r.url()));
  const withCert = build({ ...webhookConfig(r.url()), cert_file: pki.clientCertFile, key_file: pki.clientKeyFile } as SinkConfigInput);
  try {
    const err = await expectFailure(without, [sampleAlert()]);
    assert.equal(err.retryable, true, 'a TLS refusal may be fixed on the other side');
    await withCert.deliver([sampleAlert()]);
    assert.equal(r.requests.length, 1);
    assert.equal(r.requests[0]!.clientAuthorized, true);
  } finally {
    await without.close();
    await withCert.close();
    await r.close();
  }
});

test('https sinks refuse a server certificate the configured CA did not sign', { timeout: 30_000 }, async () => {
  const r = await HttpsReceiver.start();
  const sink = build({ type: 'webhook', url: r.url() });
  try {
    const err = await expectFailure(sink, [sampleAlert()]);
    assert.match(err.message, /cannot reach https:\/\/127\.0\.0\.1:\d+: /);
    assert.equal(r.requests.length, 0);
  } finally {
    await sink.close();
    await r.close();
  }
});

test('syslog to a unix datagram socket without unix-dgram installed says how to fix it', { skip: loadUnixDgram() !== null && 'unix-dgram is installed' }, async () => {
  const sink = build({ type: 'syslog', address: 'unix:///dev/log' });
  const err = await expectFailure(sink, [sampleAlert()]).catch((e: unknown) => e);
  // Without /dev/log on this machine the connect fails first (retryable); with it, the message names the package.
  assert.ok(err instanceof SinkDeliveryError);
  if (!err.retryable) assert.match(err.message, /npm install unix-dgram/);
});
