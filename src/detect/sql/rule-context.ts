// What a rule sees besides the store's tables: `new_lifecycle`, the lifecycle events since this rule
// last ran. It lives in the connection's TEMP schema, which SQLite lets a read-only connection write,
// so the store itself stays untouched; the cursor is set before each rule runs.
import type { Db } from '../../store/open-store.ts';

export function createRuleContext(db: Db): (lastLifecycleId: number) => void {
  db.exec(`
    CREATE TEMP TABLE IF NOT EXISTS rule_cursor (last_lifecycle_id INTEGER NOT NULL);
    CREATE TEMP VIEW IF NOT EXISTS new_lifecycle AS
      SELECT * FROM main.process_lifecycle
      WHERE id > (SELECT coalesce(max(last_lifecycle_id), 0) FROM temp.rule_cursor);
  `);
  const clear = db.prepare('DELETE FROM temp.rule_cursor');
  const set = db.prepare('INSERT INTO temp.rule_cursor VALUES (?)');
  return (lastLifecycleId: number) => {
    clear.run();
    set.run(lastLifecycleId);
  };
}
