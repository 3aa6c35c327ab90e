// `daemoneye query SQL`: read-only SQL over the store, with the same guard rails as rules.
import type { Command } from 'commander';
import { validateSelect } from '../../detect/sql/validate-sql.ts';
import { createRuleContext } from '../../detect/sql/rule-context.ts';
import { CURSOR_START } from '../../detect/detector.ts';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import { openStoreReadOnly, storePath } from '../../store/open-store.ts';
import { buildContext, type GlobalOptions } from '../context.ts';
import { formatRows, parseFormat } from '../output.ts';

export function registerQuery(program: Command): void {
  program
    .command('query')
    .description('run a read-only SQL query over the store (tables: docs/schema.md)')
    .argument('<sql>', 'one SELECT statement (WITH allowed)')
    .option('-f, --format <format>', 'table | json | csv')
    .option('--limit <n>', 'stop after this many rows', '10000')
    .addHelpText('after', `
The store is opened read-only: queries can never change it, and write
statements, PRAGMA, ATTACH and file functions are refused.

Examples:
  daemoneye query "SELECT pid, name, executable_path FROM processes WHERE file_exists = 0"
  daemoneye query "SELECT name, count(*) n FROM processes GROUP BY name ORDER BY n DESC LIMIT 10"
  daemoneye query --format csv "SELECT * FROM alerts" > alerts.csv
  daemoneye query --format json "SELECT * FROM process_lifecycle WHERE event = 'start'"`)
    .action((sql: string, opts: { format?: string; limit: string }, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      const format = parseFormat(opts.format ?? global.format ?? 'table');
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new DaemonEyeError('DE_USAGE', `--limit must be a positive integer`);
      const ctx = buildContext(global);
      const db = openStoreReadOnly(storePath(ctx.dataDir));
      try {
        createRuleContext(db)(CURSOR_START);
        validateSelect(db, sql, 'DE_QUERY_INVALID');
        const rows: Record<string, unknown>[] = [];
        try {
          for (const row of db.prepare(sql).iterate() as Iterable<Record<string, unknown>>) {
            rows.push(row);
            if (rows.length >= limit) break;
          }
        } catch (cause) {
          throw new DaemonEyeError('DE_QUERY_INVALID', (cause as Error).message, { cause });
        }
        process.stdout.write(formatRows(rows, format));
      } finally {
        db.close();
      }
    });
}
