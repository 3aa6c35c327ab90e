// What a rule sees besides the store's tables: `new_lifecycle`, `new_process_exec` and
// `new_process_exit`, the events since this rule last ran. It lives in the connection's TEMP schema, which SQLite lets a read-only connection write,
// so the store itself stays untouched; the cursor is set before each rule runs.
import type { Db } from '../../store/open-store.ts';
import type { RuleCursor } from '../detector.ts';

export function createRuleContext(db: Db): (cursor: RuleCursor) => void {
  db.exec(`
    CREATE TEMP TABLE IF NOT EXISTS rule_cursor (lifecycle INTEGER NOT NULL, exec INTEGER NOT NULL, exit INTEGER NOT NULL,
      connection INTEGER NOT NULL, security INTEGER NOT NULL, flow INTEGER NOT NULL, dns INTEGER NOT NULL, tls INTEGER NOT NULL,
      http INTEGER NOT NULL);
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
    CREATE TEMP VIEW IF NOT EXISTS new_network_flows AS
      SELECT * FROM main.network_flows WHERE id > (SELECT coalesce(max(flow), 0) FROM temp.rule_cursor);
    CREATE TEMP VIEW IF NOT EXISTS new_dns_queries AS
      SELECT * FROM main.dns_queries WHERE id > (SELECT coalesce(max(dns), 0) FROM temp.rule_cursor);
    CREATE TEMP VIEW IF NOT EXISTS new_tls_handshakes AS
      SELECT * FROM main.tls_handshakes WHERE id > (SELECT coalesce(max(tls), 0) FROM temp.rule_cursor);
    CREATE TEMP VIEW IF NOT EXISTS new_http_requests AS
      SELECT * FROM main.http_requests WHERE id > (SELECT coalesce(max(http), 0) FROM temp.rule_cursor);
  `);
  const clear = db.prepare('DELETE FROM temp.rule_cursor');
  const set = db.prepare('INSERT INTO temp.rule_cursor VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  return (cursor: RuleCursor) => {
    clear.run();
    // `?? 0`: a cursor from an older caller without the network fields reads from the start.
    set.run(cursor.lifecycle, cursor.exec, cursor.exit, cursor.connection, cursor.security,
      cursor.flow ?? 0, cursor.dns ?? 0, cursor.tls ?? 0, cursor.http ?? 0);
  };
}

const VIEW_CURSORS: Readonly<Record<string, keyof RuleCursor>> = {
  lifecycle: 'lifecycle', process_exec: 'exec', process_exit: 'exit', network_connections: 'connection',
  process_security_events: 'security', network_flows: 'flow', dns_queries: 'dns', tls_handshakes: 'tls', http_requests: 'http',
};

/** The cursor fields behind the `new_*` views a rule reads (a rule with none returns []). */
export function cursorFieldsRead(sql: string): (keyof RuleCursor)[] {
  const fields = new Set<keyof RuleCursor>();
  for (const m of sql.matchAll(/\bnew_(\w+)\b/gi)) {
    const field = VIEW_CURSORS[m[1]!.toLowerCase()];
    if (field !== undefined) fields.add(field);
  }
  return [...fields];
}

/** Rules that read the kernel event views run on every kernel batch instead of after each scan. */
export function readsKernelEvents(sql: string): boolean {
  return /\bnew_(process_exec|process_exit|network_connections|process_security_events)\b/i.test(sql);
}

/** Rules that read the decoded-packet views run after each stored batch of packets. */
export function readsNetworkEvents(sql: string): boolean {
  return /\bnew_(network_flows|dns_queries|tls_handshakes|http_requests)\b/i.test(sql);
}

/** Which trigger runs a rule: kernel views win (they are the most time-critical), then network views. */
export function ruleTrigger(sql: string): 'scan' | 'kernel' | 'network' {
  return readsKernelEvents(sql) ? 'kernel' : readsNetworkEvents(sql) ? 'network' : 'scan';
}
