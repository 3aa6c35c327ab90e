// The rule sandbox's child process. Rules run here, on a read-only connection, so that a runaway
// query can be stopped for sure: better-sqlite3 cannot interrupt a statement, and a worker thread
// stuck in SQLite ignores terminate(), but a process can always be killed (docs/adr/0002).
import Database from 'better-sqlite3';
import { createRuleContext } from './rule-context.ts';
import type { SandboxReply, SandboxRequest, WireJob } from './sandbox-protocol.ts';
import type { RuleCursor } from '../detector.ts';

let db: Database.Database | null = null;
let setCursor: ((cursor: RuleCursor, heads?: RuleCursor) => void) | null = null;
let lastCursor: RuleCursor | null = null;
/** Prepared statements by the key the agent gave them (WireJob). */
const statements = new Map<number, Database.Statement>();

function reply(message: SandboxReply): void {
  // The agent may be gone (it stopped mid-pass): a reply with nobody to read it ends this process
  // quietly instead of surfacing an EPIPE.
  if (!process.connected) process.exit(0);
  process.send!(message, undefined, undefined, (e: Error | null) => {
    if (e !== null) process.exit(0);
  });
}

function open(path: string): void {
  db?.close();
  statements.clear();
  lastCursor = null;
  db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  setCursor = createRuleContext(db);
}

const sameCursor = (a: RuleCursor, b: RuleCursor) => (Object.keys(a) as (keyof RuleCursor)[]).every((k) => a[k] === b[k]);

function runOne(job: WireJob, maxRows: number, heads: RuleCursor | undefined): { rows: Record<string, unknown>[]; truncated: boolean; durationMs: number } {
  if (db === null || setCursor === null) throw new Error('sandbox has no database open');
  let stmt = statements.get(job.key);
  if (job.sql !== undefined) {
    statements.delete(job.key);
    stmt = db.prepare(job.sql);
    // Defence in depth: the parent validated the rule, and the connection is read-only anyway.
    if (!stmt.readonly || !stmt.reader) throw new Error('statement is not a read-only SELECT');
    statements.set(job.key, stmt);
  }
  if (stmt === undefined) throw new Error(`no statement ${job.key} prepared in this sandbox`);
  // Rules of one pass mostly share a cursor: rewriting the cursor row for each would be wasted work.
  if (lastCursor === null || !sameCursor(lastCursor, job.cursor)) {
    setCursor(job.cursor, heads);
    lastCursor = job.cursor;
  }
  const started = performance.now();
  const rows: Record<string, unknown>[] = [];
  let truncated = false;
  for (const row of stmt.iterate() as Iterable<Record<string, unknown>>) {
    if (rows.length >= maxRows) {
      truncated = true;
      break;
    }
    rows.push(row);
  }
  return { rows, truncated, durationMs: performance.now() - started };
}

process.on('message', (req: SandboxRequest) => {
  if (req.type === 'open') {
    try {
      open(req.path);
      reply({ type: 'opened' });
    } catch (e) {
      reply({ type: 'error', id: null, index: null, message: (e as Error).message });
    }
    return;
  }
  // The pass reads one snapshot: every rule sees the same rows, and the pages it reads stay cached
  // from rule to rule (a new read transaction after another connection committed drops them).
  lastCursor = null; // this request's heads go into the cursor row
  // A transaction left open would pin an old snapshot, and rules would miss rows for good.
  if (db?.inTransaction) db.exec('ROLLBACK');
  db?.exec('BEGIN');
  // One failing rule is its own error; the rules after it still run.
  req.jobs.forEach((job, index) => {
    try {
      reply({ type: 'result', id: req.id, index, ...runOne(job, req.maxRows, req.heads) });
    } catch (e) {
      reply({ type: 'error', id: req.id, index, message: (e as Error).message });
    }
  });
  if (db?.inTransaction) db.exec('COMMIT');
});
process.on('disconnect', () => process.exit(0));
reply({ type: 'ready' });
