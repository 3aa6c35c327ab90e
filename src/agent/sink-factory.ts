// Builds the sinks listed in `alerting.sinks`: the one place that maps a sink config to a concrete
// class (the composition root picks; src/sinks/ only implements). Also the routing rule of each
// sink: which alerts it gets (min_severity, tags, tactics).
import { isAbsolute, resolve } from 'node:path';
import type { Alert } from '../alerts/alert.ts';
import { SYSLOG_FACILITIES, type SinkConfig, type SinkConfigOf } from '../config/sinks-schema.ts';
import { severityRank } from '../detect/sql/rule.ts';
import { CefFileSink } from '../sinks/cef-file-sink.ts';
import { ElasticsearchSink } from '../sinks/elasticsearch-sink.ts';
import { EmailSink } from '../sinks/email-sink.ts';
import { JsonlFileSink } from '../sinks/jsonl-file-sink.ts';
import type { Sink } from '../sinks/sink.ts';
import { SplunkHecSink } from '../sinks/splunk-hec-sink.ts';
import { StdoutSink } from '../sinks/stdout-sink.ts';
import { SyslogSink } from '../sinks/syslog-sink.ts';
import { readTlsFiles } from '../sinks/tls-files.ts';
import { WebhookSink } from '../sinks/webhook-sink.ts';
import { CenterSink } from '../center-client/center-sink.ts';
import type { Logger } from './logger.ts';

export interface SinkContext {
  /** Relative paths in sink config (path, ca_file, ...) are relative to it. */
  readonly dataDir: string;
  readonly log: Logger;
  /** DaemonEye's version (User-Agent, CEF header). */
  readonly version: string;
}

/**
 * StdoutSink and JsonlFileSink name themselves after their type; a configured sink has its own
 * name (two jsonl_file sinks must differ), so they are wrapped.
 */
function named(name: string, inner: Sink): Sink {
  if (inner.name === name) return inner;
  return {
    name,
    type: inner.type,
    deliver: (alerts) => inner.deliver(alerts),
    close: () => inner.close(),
  };
}

function warnCleartext(ctx: SinkContext, c: SinkConfig, what: string): void {
  ctx.log.warn('alert sink sends in cleartext', { sink: c.name, type: c.type, detail: what });
}

function httpUrlCheck(ctx: SinkContext, c: SinkConfig & { url: string }): void {
  if (new URL(c.url).protocol === 'http:') warnCleartext(ctx, c, 'http:// URL: alerts (and credentials) can be read and changed on the way; use https://');
}

export function createSink(config: SinkConfig, context: SinkContext): Sink {
  const file = (p: string) => (isAbsolute(p) ? p : resolve(context.dataDir, p));
  const tlsOf = (c: { ca_file?: string | undefined; cert_file?: string | undefined; key_file?: string | undefined }, servername?: string) =>
    readTlsFiles(config.name, {
      ca_file: c.ca_file === undefined ? undefined : file(c.ca_file),
      cert_file: c.cert_file === undefined ? undefined : file(c.cert_file),
      key_file: c.key_file === undefined ? undefined : file(c.key_file),
    }, servername);
  const common = { name: config.name, timeoutMs: config.timeout_ms, version: context.version };

  const syslog = (c: SinkConfigOf<'syslog'> | SinkConfigOf<'cef'>, address: string, format: 'rfc5424' | 'cef') => {
    if (/^(udp|tcp):/.test(address)) warnCleartext(context, c, `${address.split(':')[0]}:// address: use tcp+tls:// across a network`);
    const tls = tlsOf(c, c.server_name);
    return new SyslogSink({
      ...common, type: c.type, address, format,
      facility: SYSLOG_FACILITIES[c.facility], sdId: c.sd_id, maxMessageBytes: c.max_message_bytes,
      ...(tls ? { tls } : {}),
    });
  };

  switch (config.type) {
    case 'stdout':
      return named(config.name, new StdoutSink(config.format));
    case 'jsonl_file':
      return named(config.name, new JsonlFileSink(file(config.path), { maxBytes: config.max_size_mb * 1024 * 1024, keep: config.max_files }));
    case 'webhook': {
      httpUrlCheck(context, config);
      const tls = tlsOf(config);
      return new WebhookSink({
        ...common, url: config.url, secret: config.secret?.reveal(),
        headers: Object.fromEntries(Object.entries(config.headers).map(([k, v]) => [k, v.reveal()])),
        ...(tls ? { tls } : {}),
      });
    }
    case 'syslog':
      return syslog(config, config.address, config.format);
    case 'cef':
      if (config.address !== undefined) return syslog(config, config.address, 'cef');
      return new CefFileSink({ name: config.name, path: file(config.path!), version: context.version });
    case 'email': {
      if (config.security === 'none') warnCleartext(context, config, 'security: none: mail (and the SMTP password) cross the network unencrypted');
      const ca = tlsOf(config)?.ca;
      return new EmailSink({
        ...common, host: config.host, port: config.port, security: config.security,
        username: config.username, password: config.password?.reveal(),
        from: config.from, to: config.to, subjectPrefix: config.subject_prefix, ca,
      });
    }
    case 'splunk_hec': {
      httpUrlCheck(context, config);
      const tls = tlsOf(config);
      return new SplunkHecSink({
        ...common, url: config.url, token: config.token.reveal(), index: config.index,
        source: config.source, sourcetype: config.sourcetype, gzip: config.gzip,
        useAck: config.use_ack, ackTimeoutMs: config.ack_timeout_ms, ackPollMs: config.ack_poll_ms,
        ...(tls ? { tls } : {}),
      });
    }
    case 'elasticsearch': {
      httpUrlCheck(context, config);
      const tls = tlsOf(config);
      return new ElasticsearchSink({
        ...common, url: config.url, index: config.index, gzip: config.gzip,
        apiKey: config.api_key?.reveal(), username: config.username, password: config.password?.reveal(),
        ...(tls ? { tls } : {}),
      });
    }
    case 'center':
      return new CenterSink({ name: config.name, identityDir: file(config.identity_dir), dataDir: context.dataDir, timeoutMs: config.timeout_ms, url: config.url });
  }
}

/** `defense-evasion`, `Defense Evasion` and `defense_evasion` are one tactic. */
const normalTag = (t: string) => t.trim().toLowerCase().replace(/[\s-]+/g, '_');

/**
 * Which alerts a sink gets: severity at least min_severity, and, when set, at least one of `tags`
 * among the rule's tags, and at least one of `tactics` among them (ATT&CK tactics are rule tags).
 */
export function sinkRoute(config: Pick<SinkConfig, 'min_severity' | 'tags' | 'tactics'>): (alert: Alert) => boolean {
  const min = severityRank(config.min_severity);
  const tags = new Set(config.tags.map(normalTag));
  const tactics = new Set(config.tactics.map(normalTag));
  return (alert) => {
    if (severityRank(alert.severity) < min) return false;
    const have = alert.tags.map(normalTag);
    if (tags.size > 0 && !have.some((t) => tags.has(t))) return false;
    if (tactics.size > 0 && !have.some((t) => tactics.has(t))) return false;
    return true;
  };
}

export interface ConfiguredSink {
  readonly config: SinkConfig;
  readonly sink: Sink;
  readonly route: (alert: Alert) => boolean;
}

/** Every enabled sink of the list, built, with its route. A sink that cannot be built throws DE_SINK_CONFIG. */
export function createSinks(configs: readonly SinkConfig[], context: SinkContext): ConfiguredSink[] {
  return configs.filter((c) => c.enabled).map((config) => ({ config, sink: createSink(config, context), route: sinkRoute(config) }));
}
