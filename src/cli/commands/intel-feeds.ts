// `daemoneye intel sync|list|feeds|collections|share`: TAXII 2.1 feeds (docs/taxii.md).
import type { Command } from 'commander';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import { openStoreForWriting, openStoreReadOnly, storePath, type Db } from '../../store/open-store.ts';
import type { DaemonEyeConfig } from '../../config/schema.ts';
import { buildContext, type GlobalOptions } from '../context.ts';
import { formatRows, parseFormat } from '../output.ts';
import { selectFeeds, transportFor } from '../../intel/feeds/feed-spec.ts';
import { shareConfigured, syncFeeds } from '../../intel/feeds/intel-feed-service.ts';
import type { SyncProgress, SyncReport } from '../../intel/feeds/feed-sync.ts';
import { TaxiiClient } from '../../intel/taxii/taxii-client.ts';

/** Non-interactive progress: pages 1-10, then every 10th to 100, then every 100th (bounded, predictable). */
function worthALine(pages: number): boolean {
  return pages <= 10 || (pages <= 100 && pages % 10 === 0) || pages % 100 === 0;
}

function progressPrinter(): { update: (p: SyncProgress) => void; done: () => void } {
  const tty = process.stderr.isTTY === true;
  let shown = false;
  const text = (p: SyncProgress) => `${p.feed}: page ${p.pages}, ${p.objects} objects, ${p.stored} stored, cursor ${p.cursor ?? '(start)'}`;
  return {
    update: (p) => {
      if (tty) {
        process.stderr.write(`\r\x1b[K${text(p)}`);
        shown = true;
      } else if (worthALine(p.pages)) process.stderr.write(`${text(p)}\n`);
    },
    done: () => {
      if (shown) process.stderr.write('\n');
      shown = false;
    },
  };
}

function summary(r: SyncReport): string {
  const parts = [`${r.objects} objects in ${r.pages} page(s)`, `${r.added} new`, `${r.replaced} updated`];
  if (r.revoked) parts.push(`${r.revoked} revoked`);
  if (r.older) parts.push(`${r.older} older versions ignored`);
  if (r.ignored) parts.push(`${r.ignored} non-indicators ignored`);
  if (r.rejected.length || r.malformed) parts.push(`${r.rejected.length + r.malformed} rejected`);
  let out = `${r.feed}: ${parts.join(', ')}; cursor ${r.cursor ?? '(none)'}${r.interrupted ? ' (interrupted: the next sync resumes here)' : ''}\n`;
  for (const x of r.rejected.slice(0, 10)) out += `  rejected ${x.id}: ${x.code} ${x.reason}\n`;
  return out;
}

/** Shares, prints one line per kind, and returns the errors (DE_INTEL_NO_SHARE when no share block). */
async function shareAndReport(db: Db, c: DaemonEyeConfig['enterprise']['stix_taxii']): Promise<DaemonEyeError[]> {
  const s = await shareConfigured(db, c);
  if (s === null) throw new DaemonEyeError('DE_INTEL_NO_SHARE');
  const errors: DaemonEyeError[] = [];
  for (const [what, r] of [['sightings', s.sightings], ['alerts', s.alerts]] as const) {
    if (r === null) continue;
    process.stdout.write(`${what}: ${r.shared} shared, ${r.failed} refused, ${r.pending} pending\n`);
    if (r.error !== null) errors.push(r.error);
  }
  return errors;
}

export function registerIntelFeeds(intel: Command): void {
  intel
    .command('sync')
    .description('pull new and updated indicators from the configured TAXII 2.1 feeds into the store')
    .option('--feed <name>', 'only this feed (the single-feed form is named "default")')
    .option('--share', 'then post unshared sightings to the share collection')
    .addHelpText('after', `
Each feed resumes from its stored cursor (X-TAXII-Date-Added-Last of the last page stored), so
a sync fetches only what was added since the last one; an interrupted sync resumes where it
stopped. Progress goes to stderr, the summary to stdout. Exit 4 when a feed failed (what it
stored before failing is kept).

Examples:
  daemoneye intel sync
  daemoneye intel sync --feed partner-isac
  daemoneye intel sync --share`)
    .action(async (opts: { feed?: string; share?: boolean }, cmd: Command) => {
      const ctx = buildContext(cmd.optsWithGlobals<GlobalOptions>());
      const c = ctx.config.enterprise.stix_taxii;
      const feeds = selectFeeds(c, opts.feed);
      const db = openStoreForWriting(storePath(ctx.dataDir));
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      try {
        const progress = progressPrinter();
        const reports = await syncFeeds(db, feeds, (p) => progress.update(p), stop.signal);
        progress.done();
        for (const r of reports) process.stdout.write(summary(r));
        const errors = reports.flatMap((r) => (r.error === null ? [] : [r.error]));
        if (opts.share === true) errors.push(...await shareAndReport(db, c));
        if (errors.length === 1) throw errors[0]!;
        for (const e of errors) process.stderr.write(e.describe() + '\n');
        if (errors.length > 1) process.exitCode = 4;
        else if (stop.signal.aborted) process.exitCode = 130;
      } finally {
        process.off('SIGINT', onSignal);
        db.close();
      }
    });

  intel
    .command('list')
    .description('indicators in the store (newest version of each)')
    .option('--active', 'only those in force now: not revoked, valid_from passed, valid_until not reached')
    .option('--feed <name>', 'only indicators from this feed')
    .option('--limit <n>', 'at most this many', '500')
    .option('-f, --format <format>', 'table | json | csv')
    .addHelpText('after', `
Examples:
  daemoneye intel list --active
  daemoneye intel list --feed default --format json > indicators.json
  daemoneye query "SELECT name, compile_error FROM intel_indicators WHERE compile_error IS NOT NULL"`)
    .action((opts: { active?: boolean; feed?: string; limit: string; format?: string }, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      const format = parseFormat(opts.format ?? global.format ?? 'table');
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new DaemonEyeError('DE_USAGE', `--limit must be a positive integer, not "${opts.limit}"`);
      const ctx = buildContext(global);
      const db = openStoreReadOnly(storePath(ctx.dataDir));
      try {
        const where: string[] = [];
        const args: unknown[] = [];
        if (opts.active === true) {
          where.push('revoked = 0 AND valid_from <= ? AND (valid_until IS NULL OR valid_until > ?)');
          const now = Date.now();
          args.push(now, now);
        }
        if (opts.feed !== undefined) { where.push('feed_id = ?'); args.push(opts.feed); }
        const rows = db.prepare(`SELECT * FROM intel_indicators ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
          ORDER BY modified DESC, indicator_id LIMIT ?`).all(...args, limit) as Record<string, unknown>[];
        const iso = (v: unknown) => (typeof v === 'number' ? new Date(v).toISOString() : null);
        if (format === 'table') {
          process.stdout.write(formatRows(rows.map((r) => ({
            id: r.indicator_id, name: r.name, feed: r.feed_id, valid_from: iso(r.valid_from), valid_until: iso(r.valid_until),
            revoked: r.revoked === 1 ? 'yes' : '', labels: (JSON.parse(r.labels as string) as string[]).join(','),
            pattern: r.pattern, compile_error: r.compile_error,
          })), 'table'));
        } else {
          process.stdout.write(formatRows(rows.map((r) => ({
            ...r, valid_from: iso(r.valid_from), valid_until: iso(r.valid_until), revoked: r.revoked === 1,
            labels: JSON.parse(r.labels as string) as unknown, kill_chain_phases: JSON.parse(r.kill_chain_phases as string) as unknown,
            object: format === 'json' ? JSON.parse(r.object as string) as unknown : r.object,
          })), format));
        }
      } finally {
        db.close();
      }
    });

  intel
    .command('feeds')
    .description('each feed\'s sync state: cursor, last sync, last error, objects stored')
    .option('-f, --format <format>', 'table | json | csv')
    .addHelpText('after', `
Example:
  daemoneye intel feeds`)
    .action((opts: { format?: string }, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      const format = parseFormat(opts.format ?? global.format ?? 'table');
      const db = openStoreReadOnly(storePath(buildContext(global).dataDir));
      try {
        const rows = db.prepare('SELECT * FROM intel_feeds ORDER BY feed_id').all() as Record<string, unknown>[];
        process.stdout.write(formatRows(rows.map((r) => ({ ...r, last_sync_at: typeof r.last_sync_at === 'number' ? new Date(r.last_sync_at).toISOString() : null })), format));
      } finally {
        db.close();
      }
    });

  intel
    .command('collections')
    .description('the collections a feed\'s TAXII API root offers (to find a collection_id)')
    .option('--feed <name>', 'the feed whose url and credentials to use', 'default')
    .option('-f, --format <format>', 'table | json | csv')
    .addHelpText('after', `
Example:
  daemoneye intel collections --feed partner-isac`)
    .action(async (opts: { feed: string; format?: string }, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      const format = parseFormat(opts.format ?? global.format ?? 'table');
      const [feed] = selectFeeds(buildContext(global).config.enterprise.stix_taxii, opts.feed);
      const transport = transportFor(feed!);
      try {
        const cols = await new TaxiiClient(transport).collections(feed!.url);
        process.stdout.write(formatRows(cols.map((c) => ({ id: c.id, title: c.title, can_read: c.can_read, can_write: c.can_write, description: c.description ?? '' })), format));
      } finally {
        transport.close();
      }
    });

  intel
    .command('share')
    .description('post sightings (and, with share.include_alerts, alerts) not yet shared to the configured writable TAXII collection')
    .addHelpText('after', `
Sightings the server confirms are marked shared (intel_sightings.shared_at); refused or still
pending ones keep share_error and are posted again next time (TAXII servers keep one copy).

Example:
  daemoneye intel share`)
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = buildContext(cmd.optsWithGlobals<GlobalOptions>());
      const db = openStoreForWriting(storePath(ctx.dataDir));
      try {
        const errors = await shareAndReport(db, ctx.config.enterprise.stix_taxii);
        if (errors.length > 0) throw errors[0]!;
      } finally {
        db.close();
      }
    });
}
