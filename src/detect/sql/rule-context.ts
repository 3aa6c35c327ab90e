// What a rule sees besides the store's tables: `new_lifecycle`, `new_process_exec` and
// `new_process_exit`, the events since this rule last ran. It lives in the connection's TEMP schema, which SQLite lets a read-only connection write,
// so the store itself stays untouched; the cursor is set before each rule runs.
import type { Db } from '../../store/open-store.ts';
import type { RuleCursor } from '../detector.ts';

export function createRuleContext(db: Db): (cursor: RuleCursor) => void {
  db.exec(`
    CREATE TEMP TABLE IF NOT EXISTS rule_cursor (lifecycle INTEGER NOT NULL, exec INTEGER NOT NULL, exit INTEGER NOT NULL,
      connection INTEGER NOT NULL, security INTEGER NOT NULL);
    CREATE TEMP VIEW IF NOT EXISTS new_lifecycle AS
      SELECT * FROM main.process_lifecycle WHERE id > (SELECT coalesce(max(lifecycle), 0) FROM temp.rule_cursor);
    CREATE TEMP VIEW IF NOT EXISTS new_process_exec AS
      SELECT * FROM main.process_exec WHERE id > (SELECT coalesce(max(exec), 0) FROM temp.rule_cursor);
    CREATE TEMP VIEW IF NOT EXISTS new_process_exit AS
      SELECT * FROM main.process_exit WHERE id > (SELECT coalesce(max(exit), 0) FROM temp.rule_cursor);
    CREATE TEMP VIEW IF NOT EXISTS new_network_connections AS
      SELECT * FROM main.network_connections WHERE id > (SELECT coalesce(max(connection), 0) FROM temp.rule_cursor);
    CREATE TEMP VIEW IF NOT EXISTS new_process_security_events AS
      SELECT * FROM main.process_security_events WHERE id > (SELECT coalesce(max(security), 0) FROM temp.rule_cursor);
  `);
  const clear = db.prepare('DELETE FROM temp.rule_cursor');
  const set = db.prepare('INSERT INTO temp.rule_cursor VALUES (?, ?, ?, ?, ?)');
  return (cursor: RuleCursor) => {
    clear.run();
    set.run(cursor.lifecycle, cursor.exec, cursor.exit, cursor.connection, cursor.security);
  };
}

/** Rules that read the kernel event views run on every kernel batch instead of after each scan. */
export function readsKernelEvents(sql: string): boolean {
  return /\bnew_(process_exec|process_exit|network_connections|process_security_events)\b/i.test(sql);
}
