// `daemoneye center ...`: run a security center (docs/center.md).
import type { Command } from 'commander';
import { join } from 'node:path';
import { initCenter } from '../../center/center-init.ts';
import { issueToken, revokeIdentity } from '../../center/issue-token.ts';
import { ROLES, type Role } from '../../center/pki/x509.ts';
import { runCenter } from '../../center/run-center.ts';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import { buildContext, type GlobalOptions } from '../context.ts';
import { formatRows, parseFormat } from '../output.ts';
import { CenterHttp } from '../../center-client/center-http.ts';
import { identityFor } from '../../center-client/remote-alerts.ts';
import { hasIdentity, loadIdentity } from '../../center-client/identity.ts';

/** The center's directory: --data-dir, or CENTER under the default data directory. */
function centerDir(cmd: Command): { dir: string; ctx: ReturnType<typeof buildContext> } {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const ctx = buildContext(g);
  return { dir: g.dataDir ?? join(ctx.dataDir, 'center'), ctx };
}

export function registerCenter(program: Command): void {
  const center = program.command('center').description('run a security center that agents and regional centers report to');

  center
    .command('serve', { isDefault: true })
    .description('serve the center API over HTTPS with mutual TLS (the default when no subcommand is given)')
    .option('--listen <host:port>', 'address to listen on (default: what `center init` recorded, 0.0.0.0:8443)')
    .addHelpText('after', `
Examples:
  daemoneye center --data-dir /var/lib/daemoneye-center
  daemoneye center --data-dir ./c1 --listen 127.0.0.1:8443
With enterprise.federation.enable_federation and primary_endpoint set, and the center enrolled
with the primary (daemoneye enroll --center PRIMARY --token T --data-dir CENTER_DIR), it runs as
a regional center and syncs every sync_interval seconds.`)
    .action(async (opts: { listen?: string }, cmd: Command) => {
      const { dir, ctx } = centerDir(cmd);
      await runCenter({ dataDir: dir, listen: opts.listen, log: ctx.log, config: ctx.config });
    });

  center
    .command('init')
    .description("create the center's CA, server certificate, database and admin identity")
    .option('--listen <host:port>', 'where the center will listen', '0.0.0.0:8443')
    .option('--database <url>', 'sqlite (DATA_DIR/center.db, default) or postgres://USER@HOST/DB')
    .option('--server-name <name...>', 'DNS names or IPs agents use to reach the center (localhost and this host name are always included)')
    .addHelpText('after', `
Examples:
  daemoneye center init --data-dir /var/lib/daemoneye-center --server-name center.example.com
  daemoneye center init --data-dir ./c1 --listen 127.0.0.1:8443
  daemoneye center init --database postgres://daemoneye@db.example.com/center --server-name center.example.com`)
    .action(async (opts: { listen: string; database?: string; serverName?: string[] }, cmd: Command) => {
      const { dir, ctx } = centerDir(cmd);
      const r = await initCenter({ dataDir: dir, listen: opts.listen, database: opts.database, serverNames: opts.serverName });
      ctx.log.info('center initialised', { data_dir: dir, center_id: r.centerId, database: r.settings.database === 'sqlite' ? 'sqlite' : 'postgres' });
      process.stdout.write(`center ${r.centerId} initialised in ${dir}\nCA public key sha256:${r.caSha256}\nnext: daemoneye center --data-dir ${dir}; then \`daemoneye center token --data-dir ${dir}\` for each agent\n`);
    });

  center
    .command('token')
    .description('print a short-lived, single-use enrolment token (alone on stdout)')
    .option('--role <role>', `what the token enrols: ${ROLES.join(' | ')}`, 'agent')
    .option('--ttl <seconds>', 'lifetime in seconds (default 900)')
    .addHelpText('after', `
Examples:
  daemoneye center token --data-dir /var/lib/daemoneye-center
  T=$(daemoneye center token --data-dir ./c1) && daemoneye enroll --center https://center:8443 --token "$T"
  daemoneye center token --role center      # for a regional center joining this (primary) center
  daemoneye center token --role analyst     # for an analyst's CLI on another machine`)
    .action(async (opts: { role: string; ttl?: string }, cmd: Command) => {
      if (!(ROLES as readonly string[]).includes(opts.role)) throw new DaemonEyeError('DE_USAGE', `--role must be one of ${ROLES.join(', ')}`);
      const ttl = opts.ttl === undefined ? undefined : Number(opts.ttl);
      if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 30 || ttl > 7 * 86_400)) throw new DaemonEyeError('DE_USAGE', '--ttl takes whole seconds from 30 to 604800');
      const { dir, ctx } = centerDir(cmd);
      const t = await issueToken(dir, opts.role as Role, ttl);
      ctx.log.info('enrolment token issued', { token: t.id, role: opts.role, expires: t.expiresAt.toISOString() });
      process.stdout.write(`${t.text}\n`);
    });

  /** Calls this center's API with its admin identity (or the analyst identity in --data-dir). */
  const callCenter = async <T>(cmd: Command, url: string | undefined, method: string, path: string, body?: unknown): Promise<T> => {
    const { dir } = centerDir(cmd);
    const admin = join(dir, 'admin');
    const target = url ?? (hasIdentity(admin) ? loadIdentity(admin).center_url : undefined);
    if (target === undefined) throw new DaemonEyeError('DE_USAGE', 'pass --center URL', { hint: 'or --data-dir of the center (its admin identity knows the URL)' });
    const http = CenterHttp.forIdentity(identityFor(dir, target), target);
    try {
      return await http.json<T>(method, path, body);
    } finally {
      http.close();
    }
  };

  center
    .command('status')
    .description('federation status of a running center: role, peers, cursors, last sync, open conflicts')
    .option('--center <url>', "the center's URL (default: the one the admin identity in --data-dir names)")
    .addHelpText('after', `
Example:
  daemoneye center status --data-dir /var/lib/daemoneye-center`)
    .action(async (opts: { center?: string }, cmd: Command) => {
      process.stdout.write(JSON.stringify(await callCenter(cmd, opts.center, 'GET', '/api/v1/federation/status'), null, 2) + '\n');
    });

  center
    .command('sync')
    .description('run a federation sync round now (regional centers)')
    .option('--center <url>', "the center's URL")
    .addHelpText('after', `
Example:
  daemoneye center sync --data-dir /var/lib/daemoneye-region-eu`)
    .action(async (opts: { center?: string }, cmd: Command) => {
      const r = await callCenter<{ ok: boolean; error?: string }>(cmd, opts.center, 'POST', '/api/v1/federation/sync', {});
      process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      if (!r.ok) process.exitCode = 4;
    });

  center
    .command('conflicts')
    .description('triage conflicts parked for review (conflict_resolution: manual_review, or a closed alert a sync would have reopened)')
    .option('--center <url>', "the center's URL")
    .option('--all', 'resolved ones too')
    .option('-f, --format <format>', 'table | json | csv')
    .addHelpText('after', `
Examples:
  daemoneye center conflicts --data-dir /var/lib/daemoneye-center
  daemoneye center resolve 3 --keep remote --data-dir /var/lib/daemoneye-center`)
    .action(async (opts: { center?: string; all?: boolean; format?: string }, cmd: Command) => {
      const r = await callCenter<{ conflicts: Record<string, unknown>[] }>(cmd, opts.center, 'GET', `/api/v1/federation/conflicts${opts.all ? '?all=true' : ''}`);
      const format = parseFormat(opts.format ?? cmd.optsWithGlobals<GlobalOptions>().format ?? 'table');
      const rows = format === 'table'
        ? r.conflicts.map((c) => {
          const local = c['local'] as { status: string; assignee: string | null };
          const remote = c['remote'] as { status: string | null; assignee: string | null; origin_center: string };
          return { id: c['id'], alert: c['alert_uuid'], local: `${local.status} ${local.assignee ?? ''}`.trim(), remote: `${remote.status ?? '-'} ${remote.assignee ?? ''}`.trim(), from: remote.origin_center, resolution: c['resolution'] ?? '' };
        })
        : r.conflicts;
      process.stdout.write(formatRows(rows, format));
    });

  center
    .command('resolve')
    .description('resolve a parked triage conflict by keeping one version (it then wins on every center)')
    .argument('<id>', 'conflict id (from `center conflicts`)')
    .requiredOption('--keep <side>', 'local | remote')
    .option('--center <url>', "the center's URL")
    .addHelpText('after', `
Example:
  daemoneye center resolve 3 --keep remote --data-dir /var/lib/daemoneye-center`)
    .action(async (id: string, opts: { keep: string; center?: string }, cmd: Command) => {
      if (opts.keep !== 'local' && opts.keep !== 'remote') throw new DaemonEyeError('DE_USAGE', '--keep takes local or remote');
      await callCenter(cmd, opts.center, 'POST', `/api/v1/federation/conflicts/${encodeURIComponent(id)}/resolve`, { keep: opts.keep });
      process.stdout.write(`conflict ${id} resolved: kept ${opts.keep}\n`);
    });

  center
    .command('query')
    .description('ask every live agent a read-only SQL question over its store and print the merged answer')
    .argument('<sql>', 'one SELECT over the tables of docs/schema.md')
    .option('--center <url>', "the center's URL")
    .option('--timeout <seconds>', 'how long agents have to answer', '120')
    .option('-f, --format <format>', 'table | json | csv')
    .addHelpText('after', `
Agents take the query with their next heartbeat (every 30 s); the command waits until every agent
alive at asking time answered, or the timeout (the answer is then marked partial).

Examples:
  daemoneye center query "SELECT name, count(*) AS n FROM processes GROUP BY name ORDER BY n DESC LIMIT 5" --data-dir /var/lib/daemoneye-center
  daemoneye center query "SELECT pid, command_line FROM processes WHERE file_exists = 0" --timeout 300 --format json`)
    .action(async (sql: string, opts: { center?: string; timeout: string; format?: string }, cmd: Command) => {
      const timeout = Number(opts.timeout);
      if (!Number.isInteger(timeout) || timeout < 5 || timeout > 3600) throw new DaemonEyeError('DE_USAGE', '--timeout takes whole seconds from 5 to 3600');
      const format = parseFormat(opts.format ?? cmd.optsWithGlobals<GlobalOptions>().format ?? 'table');
      const asked = await callCenter<{ query_id: string; expected_agents: number }>(cmd, opts.center, 'POST', '/api/v1/queries', { sql, timeout_s: timeout });
      process.stderr.write(`query ${asked.query_id}: waiting for ${asked.expected_agents} agent(s), up to ${timeout} s\n`);
      type Answer = { state: string; missing_agents: string[]; answers: { agent_id: string; host: string; error: string | null; rows: Record<string, unknown>[] }[] };
      let a: Answer;
      for (;;) {
        a = await callCenter<Answer>(cmd, opts.center, 'GET', `/api/v1/queries/${asked.query_id}`);
        if (a.state !== 'running') break;
        await new Promise((r) => setTimeout(r, 2000));
      }
      const rows = a.answers.flatMap((x) => (x.error !== null ? [{ host: x.host, agent: x.agent_id, error: x.error }] : x.rows.map((r) => ({ host: x.host, agent: x.agent_id, ...r }))));
      process.stdout.write(formatRows(rows, format));
      if (a.state === 'partial') {
        process.stderr.write(`partial: ${a.missing_agents.length} agent(s) did not answer in time: ${a.missing_agents.join(', ')}\n`);
        process.exitCode = 1;
      }
    });

  center
    .command('revoke')
    .description('revoke every certificate of an agent, regional center or analyst')
    .argument('<id>', 'the identity id (GET /api/v1/hosts lists them)')
    .option('--reason <text>', 'kept with the revocation', 'revoked by operator')
    .addHelpText('after', `
Example:
  daemoneye center revoke 3f0c9a52-... --reason "host decommissioned" --data-dir /var/lib/daemoneye-center`)
    .action(async (id: string, opts: { reason: string }, cmd: Command) => {
      const { dir } = centerDir(cmd);
      const n = await revokeIdentity(dir, id, opts.reason);
      if (n === 0) throw new DaemonEyeError('DE_USAGE', `no valid certificate of ${id}`, { hint: 'check the id with GET /api/v1/hosts' });
      process.stdout.write(`revoked ${n} certificate(s) of ${id}\n`);
    });
}
