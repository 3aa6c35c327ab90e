// An agent's answer to a fleet query. The query is checked with the rules' guard rails (one
// read-only SELECT over docs/schema.md tables) on a read-only connection, then run in the rule
// sandbox: a child process killed at the time budget, because SQLite cannot be interrupted from
// JavaScript and a worker thread stuck in it ignores terminate() (docs/adr/0002). Errors (a bad
// query, a timeout) are answers too: the center shows them per agent.
import { CURSOR_START } from '../detect/detector.ts';
import { createRuleContext } from '../detect/sql/rule-context.ts';
import { RuleSandbox } from '../detect/sql/rule-sandbox.ts';
import { validateSelect } from '../detect/sql/validate-sql.ts';
import { openStoreReadOnly } from '../store/open-store.ts';

export interface FleetQueryAnswer {
  readonly rows: Record<string, unknown>[];
  readonly truncated: boolean;
  readonly error: string | null;
}

/** JSON cannot carry Buffers or BigInts as they are: hex and decimal text. */
const plain = (v: unknown): unknown => (Buffer.isBuffer(v) ? v.toString('hex') : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'bigint' ? v.toString() : v);

export async function runFleetQuery(dbPath: string, sql: string, timeoutMs: number, maxRows: number): Promise<FleetQueryAnswer> {
  try {
    const db = openStoreReadOnly(dbPath);
    try {
      createRuleContext(db)(CURSOR_START);
      validateSelect(db, sql, 'DE_QUERY_INVALID');
    } finally {
      db.close();
    }
  } catch (e) {
    return { rows: [], truncated: false, error: (e as Error).message.slice(0, 4000) };
  }
  const sandbox = new RuleSandbox(dbPath);
  try {
    const r = await sandbox.run(sql, { timeoutMs, cursor: CURSOR_START, maxRows });
    return { rows: r.rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plain(v)]))), truncated: r.truncated, error: null };
  } catch (e) {
    const code = (e as { code?: string }).code;
    return { rows: [], truncated: false, error: code === 'DE_RULE_TIMEOUT' ? `the query ran longer than its budget of ${timeoutMs} ms and was stopped` : (e as Error).message.slice(0, 4000) };
  } finally {
    await sandbox.close();
  }
}
