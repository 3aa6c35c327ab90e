// Alerts mailed as a digest: one message per batch, through SMTP with STARTTLS (nodemailer). The
// subject counts the batch by severity; the text lists each alert; the full alerts ride along as
// daemoneye-alerts.json. Acknowledged = the server's 250 after DATA (sendMail resolving).
//
// Idempotency: the X-DaemonEye-Alert-Uuids header lists the batch's alert_uuids, and the
// Message-ID is derived from them, so a resent batch carries the same Message-ID (which many mail
// stores use to drop duplicates).
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { Alert } from '../alerts/alert.ts';
import { SEVERITIES, type Severity } from '../detect/sql/rule.ts';
import { clip, deliveryError } from './redact.ts';
import { SinkDeliveryError } from './sink-error.ts';
import type { Sink } from './sink.ts';

export interface EmailSinkOptions {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** starttls: STARTTLS required; tls: TLS from the first byte (465); none: cleartext. */
  readonly security: 'starttls' | 'tls' | 'none';
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly from: string;
  readonly to: readonly string[];
  readonly subjectPrefix: string;
  readonly timeoutMs: number;
  readonly ca?: string | Buffer | undefined;
  readonly version: string;
}

const ORDER: readonly Severity[] = [...SEVERITIES].reverse();

/** "3 alerts on web-01: 1 critical, 2 high" */
export function digestSubject(alerts: readonly Alert[], prefix: string): string {
  const counts = ORDER.map((s) => [s, alerts.filter((a) => a.severity === s).length] as const).filter(([, n]) => n > 0);
  const hosts = [...new Set(alerts.map((a) => a.host))];
  const where = hosts.length === 1 ? hosts[0]! : `${hosts.length} hosts`;
  const text = `${alerts.length} alert${alerts.length === 1 ? '' : 's'} on ${where}: ${counts.map(([s, n]) => `${n} ${s}`).join(', ')}`;
  // A subject is one line: host names and the like cannot break it.
  return `${prefix ? `${prefix} ` : ''}${text}`.replace(/[\r\n]+/g, ' ');
}

function digestText(alerts: readonly Alert[]): string {
  const sorted = [...alerts].sort((a, b) => ORDER.indexOf(a.severity) - ORDER.indexOf(b.severity));
  return sorted.map((a) => [
    `[${a.severity.toUpperCase()}] ${a.rule_id} ${a.rule_name}`,
    `  ${a.summary}`,
    `  host ${a.host}${a.pid === null ? '' : `, pid ${a.pid}`}${a.executable_path ? `, ${a.executable_path}` : ''}`,
    ...(a.command_line ? [`  command line: ${clip(a.command_line, 500)}`] : []),
    `  ATT&CK ${a.attack_ids.join(', ') || '-'}; first seen ${a.first_seen}; seen ${a.occurrences} time(s)`,
    `  alert ${a.alert_uuid}`,
  ].join('\n')).join('\n\n') + '\n\nThe alerts in full are attached as daemoneye-alerts.json.\n';
}

export function digestMessageId(alerts: readonly Alert[]): string {
  const digest = createHash('sha256').update(alerts.map((a) => a.alert_uuid).sort().join(',')).digest('hex').slice(0, 40);
  return `<${digest}@daemoneye>`;
}

interface SmtpError extends Error { code?: string; responseCode?: number; response?: string }

/** 4xx replies and network trouble are worth retrying; 5xx replies and bad credentials are not. */
function retryable(e: SmtpError): boolean {
  if (typeof e.responseCode === 'number') return e.responseCode < 500;
  return !['EAUTH', 'ENOAUTH', 'EENVELOPE', 'EMESSAGE', 'EOAUTH2'].includes(e.code ?? '');
}

export class EmailSink implements Sink {
  readonly type = 'email';
  readonly name: string;
  readonly #o: Omit<EmailSinkOptions, 'password'>;
  readonly #secrets: string[];
  readonly #transport: Transporter<SMTPTransport.SentMessageInfo>;

  constructor(o: EmailSinkOptions) {
    const { password, ...rest } = o;
    this.name = o.name;
    this.#o = rest;
    this.#secrets = password === undefined ? [] : [password, `\u0000${o.username ?? ''}\u0000${password}`];
    this.#transport = nodemailer.createTransport({
      host: o.host,
      port: o.port,
      secure: o.security === 'tls',
      requireTLS: o.security === 'starttls',
      ignoreTLS: o.security === 'none',
      ...(o.username !== undefined && password !== undefined ? { auth: { user: o.username, pass: password } } : {}),
      tls: { minVersion: 'TLSv1.2', ...(o.ca === undefined ? {} : { ca: o.ca }) },
      connectionTimeout: o.timeoutMs,
      greetingTimeout: o.timeoutMs,
      socketTimeout: o.timeoutMs,
      name: hostname(),
      logger: false,
      debug: false,
    });
  }

  async deliver(alerts: readonly Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    const what = `email sink ${this.name}`;
    let info: SMTPTransport.SentMessageInfo;
    try {
      info = await this.#transport.sendMail({
        from: this.#o.from,
        to: [...this.#o.to],
        subject: digestSubject(alerts, this.#o.subjectPrefix),
        text: digestText(alerts),
        messageId: digestMessageId(alerts),
        headers: { 'X-DaemonEye-Alert-Uuids': alerts.map((a) => a.alert_uuid).join(', ') },
        attachments: [{ filename: 'daemoneye-alerts.json', contentType: 'application/json', content: JSON.stringify(alerts, null, 2) }],
      });
    } catch (e) {
      const err = e as SmtpError;
      const said = err.response ? clip(err.response) : clip(err.message);
      throw deliveryError(new SinkDeliveryError(`${what}: ${this.#o.host}:${this.#o.port}: ${said}`, { retryable: retryable(err) }), this.#secrets, what);
    }
    // Some recipients refused, others took it: resending would duplicate for the latter, not
    // resending loses the former. Fail, visibly; retry only if every refusal was temporary.
    if (info.rejected.length > 0) {
      const errors = ((info as { rejectedErrors?: SmtpError[] }).rejectedErrors ?? []);
      throw deliveryError(new SinkDeliveryError(
        `${what}: ${info.rejected.length} of ${this.#o.to.length} recipients refused the digest (${clip(errors[0]?.response ?? '', 120)})`,
        { retryable: errors.length > 0 && errors.every(retryable) }), this.#secrets, what);
    }
  }

  async close(): Promise<void> {
    this.#transport.close();
  }
}
