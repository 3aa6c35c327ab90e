// The rule sandbox's child process. Rules run here, on a read-only connection, so that a runaway
// query can be stopped for sure: better-sqlite3 cannot interrupt a statement, and a worker thread
// stuck in SQLite ignores terminate(), but a process can always be killed (docs/adr/0002).
import Database from 'better-sqlite3';
import { createRuleContext } from './rule-context.ts';
import type { SandboxReply, SandboxRequest } from './sandbox-protocol.ts';
import type { RuleCursor } from '../detector.ts';

let db: Database.Database | null = null;
let setCursor: ((cursor: RuleCursor) => void) | null = null;
const statements = new Map<string, Database.Statement>();

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
  db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  setCursor = createRuleContext(db);
}

function run(req: Extract<SandboxRequest, { type: 'run' }>): void {
  if (db === null || setCursor === null) throw new Error('sandbox has no database open');
  let stmt = statements.get(req.sql);
  if (stmt === undefined) {
    stmt = db.prepare(req.sql);
    // Defence in depth: the parent validated the rule, and the connection is read-only anyway.
    if (!stmt.readonly || !stmt.reader) throw new Error('statement is not a read-only SELECT');
    statements.set(req.sql, stmt);
  }
  setCursor(req.cursor);
  const started = performance.now();
  const rows: Record<string, unknown>[] = [];
  let truncated = false;
  for (const row of stmt.iterate() as Iterable<Record<string, unknown>>) {
    if (rows.length >= req.maxRows) {
      truncated = true;
      break;
    }
    rows.push(row);
  }
  reply({ type: 'result', id: req.id, rows, truncated, durationMs: performance.now() - started });
}

process.on('message', (req: SandboxRequest) => {
  try {
    if (req.type === 'open') {
      open(req.path);
      reply({ type: 'opened' });
    } else if (req.type === 'run') {
      run(req);
    }
  } catch (e) {
    reply({ type: 'error', id: req.type === 'run' ? req.id : null, message: (e as Error).message });
  }
});
process.on('disconnect', () => process.exit(0));
reply({ type: 'ready' });
