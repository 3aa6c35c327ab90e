// `daemoneye alerts list|show|ack`: what fired, the evidence, and its triage state.
import type { Command } from 'commander';
import { toAlert, type AlertRow } from '../../alerts/alert.ts';
import { SEVERITIES, severityRank, type Severity } from '../../detect/sql/rule.ts';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import { openStoreForWriting, openStoreReadOnly, storePath } from '../../store/open-store.ts';
import { formatAlertHuman } from '../../sinks/format-alert.ts';
import { buildContext, type GlobalOptions } from '../context.ts';
import { formatRows, parseFormat } from '../output.ts';
import { OutboxStore } from '../../outbox/outbox-store.ts';
import { Ledger } from '../../ledger/index.ts';
import { userInfo } from 'node:os';
import { listRemoteAlerts } from '../../center-client/remote-alerts.ts';

/** "30m", "24h", "7d" before now, or an ISO date/time. */
export function parseSince(v: string, now = Date.now()): number {
  const m = /^(\d+)\s*(s|m|h|d|w)$/.exec(v.trim());
  if (m) {
    const unit = { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return now - Number(m[1]) * unit;
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new DaemonEyeError('DE_USAGE', `--since takes a duration (30m, 24h, 7d) or an ISO date, not "${v}"`);
  return t;
}

export function registerAlerts(program: Command): void {
  const alerts = program.command('alerts').description('list, show and acknowledge alerts');

  alerts
    .command('list')
    .description('alerts, newest first')
    .option('--since <when>', 'only alerts first seen after this: 30m, 24h, 7d or an ISO date')
    .option('--severity <level>', `only this severity and above (${SEVERITIES.join('|')})`)
    .option('--rule <id>', 'only this rule')
    .option('--status <status>', 'open | acknowledged | resolved | false_positive')
    .option('--limit <n>', 'at most this many', '200')
    .option('-f, --format <format>', 'table | json | csv')
    .option('--center <url>', "the fleet's alerts at this security center (with the analyst identity in --data-dir)")
    .option('--search <text>', 'with --center: text in the summary, rule or host')
    .addHelpText('after', `
Examples:
  daemoneye alerts list --since 24h --severity high
  daemoneye alerts list --rule DE-LNX-0001 --format json
  daemoneye alerts list --status open --format csv > open-alerts.csv
  daemoneye alerts list --center https://center:8443 --data-dir /var/lib/daemoneye-center --severity high`)
    .action(async (opts: { since?: string; severity?: string; rule?: string; status?: string; limit: string; format?: string; center?: string; search?: string }, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      const format = parseFormat(opts.format ?? global.format ?? 'table');
      if (opts.center !== undefined) {
        const rows = await listRemoteAlerts(buildContext(global).dataDir, opts.center, {
          since: opts.since === undefined ? undefined : parseSince(opts.since), severity: opts.severity, rule: opts.rule,
          status: opts.status, q: opts.search, limit: Number(opts.limit),
        });
        const brief = format === 'table' ? rows.map((a) => ({ id: a['id'], first_seen: a['first_seen'], severity: a['severity'], rule: a['rule_id'], host: a['host'], summary: a['summary'], status: a['status'], assignee: a['assignee'] })) : rows;
        process.stdout.write(formatRows(brief, format));
        return;
      }
      const where: string[] = [];
      const args: unknown[] = [];
      if (opts.since !== undefined) {
        where.push('first_seen >= ?');
        args.push(parseSince(opts.since));
      }
      if (opts.severity !== undefined) {
        if (!(SEVERITIES as readonly string[]).includes(opts.severity)) {
          throw new DaemonEyeError('DE_USAGE', `--severity must be one of ${SEVERITIES.join(', ')}`);
        }
        const allowed = SEVERITIES.filter((s) => severityRank(s) >= severityRank(opts.severity as Severity));
        where.push(`severity IN (${allowed.map(() => '?').join(', ')})`);
        args.push(...allowed);
      }
      if (opts.rule !== undefined) {
        where.push('rule_id = ?');
        args.push(opts.rule);
      }
      if (opts.status !== undefined) {
        where.push('triage_status = ?');
        args.push(opts.status);
      }
      const ctx = buildContext(global);
      const db = openStoreReadOnly(storePath(ctx.dataDir));
      try {
        const sql = `SELECT * FROM alerts ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY alert_id DESC LIMIT ?`;
        const rows = (db.prepare(sql).all(...args, Number(opts.limit)) as AlertRow[]).map(toAlert);
        if (format === 'table') {
          const brief = rows.map((a) => ({
            id: a.alert_id, first_seen: a.first_seen, severity: a.severity, rule: a.rule_id, pid: a.pid,
            process: a.process_name, summary: a.summary, status: a.cleared_at ? `${a.triage_status} (cleared)` : a.triage_status,
          }));
          process.stdout.write(formatRows(brief, 'table'));
        } else {
          process.stdout.write(formatRows(rows as unknown as Record<string, unknown>[], format));
        }
      } finally {
        db.close();
      }
    });

  alerts
    .command('show')
    .description('one alert with its full evidence')
    .argument('<id>', 'alert id (from alerts list) or uuid')
    .addHelpText('after', `
Example:
  daemoneye alerts show 12`)
    .action((id: string, _opts: unknown, cmd: Command) => {
      const ctx = buildContext(cmd.optsWithGlobals<GlobalOptions>());
      const db = openStoreReadOnly(storePath(ctx.dataDir));
      try {
        const row = db.prepare('SELECT * FROM alerts WHERE alert_id = ? OR alert_uuid = ?').get(Number(id) || -1, id) as AlertRow | undefined;
        if (row === undefined) throw new DaemonEyeError('DE_USAGE', `no alert ${id}`, { hint: 'list them with `daemoneye alerts list`' });
        const a = toAlert(row);
        process.stdout.write(`${formatAlertHuman(a, false)}\n\n${JSON.stringify(a, null, 2)}\n`);
      } finally {
        db.close();
      }
    });

  alerts
    .command('ack')
    .description('acknowledge alerts (triage state), with an optional note')
    .argument('<ids...>', 'alert ids')
    .option('--note <text>', 'a note kept with the alert')
    .option('--status <status>', 'acknowledged | resolved | false_positive | open', 'acknowledged')
    .addHelpText('after', `
Examples:
  daemoneye alerts ack 12 13 --note "admin's maintenance script"
  daemoneye alerts ack 14 --status false_positive`)
    .action((ids: string[], opts: { note?: string; status: string }, cmd: Command) => {
      const statuses = ['open', 'acknowledged', 'resolved', 'false_positive'];
      if (!statuses.includes(opts.status)) throw new DaemonEyeError('DE_USAGE', `--status must be one of ${statuses.join(', ')}`);
      const ctx = buildContext(cmd.optsWithGlobals<GlobalOptions>());
      const db = openStoreForWriting(storePath(ctx.dataDir));
      try {
        const update = db.prepare('UPDATE alerts SET triage_status = ?, triage_note = coalesce(?, triage_note) WHERE alert_id = ?');
        const ledger = new Ledger(db);
        const user = userInfo().username;
        for (const id of ids) {
          // The triage change and its audit entry commit together.
          const n = db.transaction(() => {
            const changed = update.run(opts.status, opts.note ?? null, Number(id)).changes;
            if (changed === 1) ledger.append('alert_triage', { alert_id: Number(id), status: opts.status, note: opts.note ?? null, by: user });
            return changed;
          })();
          process.stdout.write(n === 1 ? `alert ${id}: ${opts.status}\n` : `alert ${id}: not found\n`);
          if (n !== 1) process.exitCode = 1;
        }
      } finally {
        db.close();
      }
    });

  alerts
    .command('deliveries')
    .description('delivery state per sink: pending in the outbox, dead letters, breaker, counters')
    .option('--dead', 'list the dead-lettered alerts instead')
    .option('-f, --format <format>', 'table | json | csv')
    .addHelpText('after', `
Every alert enters a durable outbox for each sink that takes it, and leaves it only when the
receiver acknowledged it; after max_attempts it becomes a dead letter.

Examples:
  daemoneye alerts deliveries
  daemoneye alerts deliveries --dead --format json
  daemoneye alerts redrive --sink webhook        # retry that sink's dead letters`)
    .action((opts: { dead?: boolean; format?: string }, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      const format = parseFormat(opts.format ?? global.format ?? 'table');
      const ctx = buildContext(global);
      const db = openStoreReadOnly(storePath(ctx.dataDir));
      try {
        const rows = opts.dead
          ? db.prepare(`SELECT d.sink, d.alert_id, a.rule_id, a.severity, d.attempts, d.last_error,
              datetime(d.dead_at / 1000, 'unixepoch') AS dead_at FROM alert_dead_letters d JOIN alerts a USING (alert_id)
              ORDER BY d.dead_at DESC`).all()
          : db.prepare(`SELECT s.sink, s.type, s.circuit,
              (SELECT count(*) FROM alert_outbox o WHERE o.sink = s.sink) AS pending,
              (SELECT count(*) FROM alert_dead_letters d WHERE d.sink = s.sink) AS dead_letters,
              s.delivered, s.suppressed, s.failures, s.last_error,
              datetime(s.last_success_at / 1000, 'unixepoch') AS last_success
            FROM (SELECT sink FROM sink_status UNION SELECT sink FROM alert_outbox UNION SELECT sink FROM alert_dead_letters) AS n
            LEFT JOIN sink_status s USING (sink) ORDER BY sink`).all();
        process.stdout.write(formatRows(rows as Record<string, unknown>[], format));
      } finally {
        db.close();
      }
    });

  alerts
    .command('redrive')
    .description('put dead-lettered alerts back in the outbox for another round of delivery')
    .argument('[ids...]', 'alert ids (default: all dead letters of the selected sinks)')
    .option('--sink <name>', 'only this sink')
    .addHelpText('after', `
The running agent picks them up within a few seconds; otherwise the next \`daemoneye run\` does.

Examples:
  daemoneye alerts redrive --sink webhook
  daemoneye alerts redrive 41 42`)
    .action((ids: string[], opts: { sink?: string }, cmd: Command) => {
      const ctx = buildContext(cmd.optsWithGlobals<GlobalOptions>());
      const db = openStoreForWriting(storePath(ctx.dataDir));
      try {
        const n = new OutboxStore(db).redrive(opts.sink ?? null, ids.length > 0 ? ids.map(Number) : null, Date.now());
        process.stdout.write(`${n} alert(s) back in the outbox\n`);
      } finally {
        db.close();
      }
    });
}
