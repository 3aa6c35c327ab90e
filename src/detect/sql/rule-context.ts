// What a rule sees besides the store's tables: the `new_*` views (NEW_VIEWS), the events since this
// rule last ran, up to the heads the pass started from (rows committed while it runs belong to the
// next pass: without that bound they were seen twice, here and again from the advanced cursor).
// They live in the connection's TEMP schema, which SQLite lets a read-only connection write, so the
// store itself stays untouched; the cursor is set before each rule runs.
import type { Db } from '../../store/open-store.ts';
import type { RuleCursor } from '../detector.ts';

/**
 * Every `new_*` view: the table it reads, the cursor field that bounds it, and which detection pass
 * a rule reading it belongs to. The temp views, the cursor table, the agent's heads query and the
 * rule triggers are all derived from this one list, so a new event table is one line here.
 */
export const NEW_VIEWS: readonly { readonly table: string; readonly field: keyof RuleCursor; readonly trigger: 'scan' | 'kernel' | 'network' }[] = [
  { table: 'process_lifecycle', field: 'lifecycle', trigger: 'scan' },
  { table: 'process_exec', field: 'exec', trigger: 'kernel' },
  { table: 'process_exit', field: 'exit', trigger: 'kernel' },
  { table: 'network_connections', field: 'connection', trigger: 'kernel' },
  { table: 'process_security_events', field: 'security', trigger: 'kernel' },
  { table: 'network_flows', field: 'flow', trigger: 'network' },
  { table: 'dns_queries', field: 'dns', trigger: 'network' },
  { table: 'tls_handshakes', field: 'tls', trigger: 'network' },
  { table: 'http_requests', field: 'http', trigger: 'network' },
];

/** The view's name: `new_` + the table, except process_lifecycle, published as `new_lifecycle`. */
const viewName = (table: string) => `new_${table === 'process_lifecycle' ? 'lifecycle' : table}`;

/** SELECT the highest id of every event table, as columns named after the cursor fields (RuleCursor). */
export const HEADS_SQL = `SELECT ${NEW_VIEWS.map((v) => `(SELECT coalesce(max(id), 0) FROM ${v.table}) AS ${v.field}`).join(', ')}`;

/** No upper bound: `rules test`, `daemoneye query` and fixtures read everything after the cursor. */
const NO_HEAD = Number.MAX_SAFE_INTEGER;

export function createRuleContext(db: Db): (cursor: RuleCursor, heads?: RuleCursor) => void {
  db.exec(`CREATE TEMP TABLE IF NOT EXISTS rule_cursor (${NEW_VIEWS.map((v) => `${v.field} INTEGER NOT NULL, ${v.field}_head INTEGER NOT NULL`).join(', ')});\n`
    + NEW_VIEWS.map((v) => `CREATE TEMP VIEW IF NOT EXISTS ${viewName(v.table)} AS
      SELECT * FROM main.${v.table} WHERE id > (SELECT coalesce(max(${v.field}), 0) FROM temp.rule_cursor)
        AND id <= (SELECT coalesce(max(${v.field}_head), ${NO_HEAD}) FROM temp.rule_cursor);`).join('\n'));
  const clear = db.prepare('DELETE FROM temp.rule_cursor');
  const set = db.prepare(`INSERT INTO temp.rule_cursor VALUES (${NEW_VIEWS.map(() => '?, ?').join(', ')})`);
  return (cursor: RuleCursor, heads?: RuleCursor) => {
    clear.run();
    // `?? 0`: a cursor from an older caller without the newer fields reads from the start.
    set.run(...NEW_VIEWS.flatMap((v) => [cursor[v.field] ?? 0, heads?.[v.field] ?? NO_HEAD]));
  };
}

const VIEW_CURSORS: ReadonlyMap<string, keyof RuleCursor> = new Map(NEW_VIEWS.map((v) => [viewName(v.table), v.field]));
const VIEW_TRIGGERS: ReadonlyMap<string, 'scan' | 'kernel' | 'network'> = new Map(NEW_VIEWS.map((v) => [viewName(v.table), v.trigger]));
const viewsRead = (sql: string) => [...sql.matchAll(/\bnew_\w+\b/gi)].map((m) => m[0].toLowerCase());

/** The cursor fields behind the `new_*` views a rule reads (a rule with none returns []). */
export function cursorFieldsRead(sql: string): (keyof RuleCursor)[] {
  const fields = new Set<keyof RuleCursor>();
  for (const view of viewsRead(sql)) {
    const field = VIEW_CURSORS.get(view);
    if (field !== undefined) fields.add(field);
  }
  return [...fields];
}

/** Rules that read the kernel event views run on every kernel batch instead of after each scan. */
export function readsKernelEvents(sql: string): boolean {
  return viewsRead(sql).some((v) => VIEW_TRIGGERS.get(v) === 'kernel');
}

/** Rules that read the decoded-packet views run after each stored batch of packets. */
export function readsNetworkEvents(sql: string): boolean {
  return viewsRead(sql).some((v) => VIEW_TRIGGERS.get(v) === 'network');
}

/** Which trigger runs a rule: kernel views win (they are the most time-critical), then network views. */
export function ruleTrigger(sql: string): 'scan' | 'kernel' | 'network' {
  return readsKernelEvents(sql) ? 'kernel' : readsNetworkEvents(sql) ? 'network' : 'scan';
}
