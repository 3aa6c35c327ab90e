// Rules and ad-hoc queries must be a single read-only SELECT. We do not trust a text check alone: the
// SQL is also prepared by SQLite, which must report the statement read-only (sqlite3_stmt_readonly)
// and returning rows, and at run time it executes on a connection opened read-only. The text check
// exists to give a clear reason (which function, which keyword) before SQLite's terser messages.
import { DaemonEyeError, type ErrorCode } from '../../errors/catalogue.ts';
import type { Db } from '../../store/open-store.ts';

/** Functions a rule must never call: file access, extension loading, and storage internals. */
export const BANNED_FUNCTIONS = [
  'load_extension', 'readfile', 'writefile', 'edit', 'fts3_tokenizer', 'fsdir', 'lsmode', 'zipfile',
  'sqlar_compress', 'sqlar_uncompress', 'sqlite_dbpage', 'dbstat', 'sqlite_offset', 'shell_exec',
] as const;

const BANNED_KEYWORDS = [
  'ATTACH', 'DETACH', 'PRAGMA', 'VACUUM', 'INSERT', 'UPDATE', 'DELETE', 'REPLACE', 'UPSERT', 'CREATE',
  'DROP', 'ALTER', 'REINDEX', 'ANALYZE', 'BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'RELEASE',
] as const;

interface Token {
  readonly kind: 'word' | 'punct';
  readonly text: string;
  readonly offset: number;
}

/** Splits SQL into words and punctuation, skipping comments and string literals (where a banned name is harmless). */
export function tokenizeSql(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (c === "'") {
      i = skipQuoted(sql, i, "'");
    } else if (c === '"' || c === '`' || c === '[') {
      // Quoted identifiers: keep them as words so "load_extension"(...) is still caught.
      const close = c === '[' ? ']' : c;
      const end = skipQuoted(sql, i, close);
      tokens.push({ kind: 'word', text: sql.slice(i + 1, end - 1), offset: i });
      i = end;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < sql.length && /[A-Za-z0-9_$]/.test(sql[j]!)) j++;
      tokens.push({ kind: 'word', text: sql.slice(i, j), offset: i });
      i = j;
    } else if (/\s/.test(c)) {
      i++;
    } else {
      tokens.push({ kind: 'punct', text: c, offset: i });
      i++;
    }
  }
  return tokens;
}

function skipQuoted(sql: string, start: number, close: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === close) {
      if (sql[i + 1] === close && close !== ']') {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return sql.length;
}

/** The text checks: first word SELECT or WITH, no banned keyword or function. Throws with the reason. */
export function checkSqlText(sql: string, code: ErrorCode = 'DE_RULE_SQL'): void {
  const tokens = tokenizeSql(sql);
  const first = tokens.find((t) => t.kind === 'word');
  if (first === undefined) throw new DaemonEyeError(code, 'the SQL is empty');
  const head = first.text.toUpperCase();
  if (head !== 'SELECT' && head !== 'WITH') {
    throw new DaemonEyeError(code, `the SQL must be a SELECT (WITH allowed), not ${head}`);
  }
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.kind !== 'word') continue;
    const upper = t.text.toUpperCase();
    // replace(x, y, z) is a harmless string function; REPLACE as a statement is a write.
    const isCall = tokens[k + 1]?.text === '(';
    if ((BANNED_KEYWORDS as readonly string[]).includes(upper) && !(isCall && upper === 'REPLACE')) {
      throw new DaemonEyeError(code, `${upper} is not allowed (at offset ${t.offset}): rules and queries only read`);
    }
    const lower = t.text.toLowerCase();
    if ((BANNED_FUNCTIONS as readonly string[]).includes(lower)) {
      throw new DaemonEyeError(code, `the function ${lower}() is banned (at offset ${t.offset})`);
    }
  }
}

/**
 * Full validation: the text checks, then SQLite must compile it as exactly one statement that
 * returns rows and is read-only. `db` holds the schema (the store, or an in-memory copy).
 */
export function validateSelect(db: Db, sql: string, code: ErrorCode = 'DE_RULE_SQL'): void {
  checkSqlText(sql, code);
  let stmt;
  try {
    stmt = db.prepare(sql);
  } catch (cause) {
    throw new DaemonEyeError(code, `SQLite rejected the SQL: ${(cause as Error).message}`, { cause });
  }
  if (!stmt.reader) throw new DaemonEyeError(code, 'the SQL returns no rows: it must be a SELECT');
  if (!stmt.readonly) throw new DaemonEyeError(code, 'SQLite reports that the SQL would write: rules only read');
}
