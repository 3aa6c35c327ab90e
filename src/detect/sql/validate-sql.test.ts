import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDaemonEyeError } from '../../errors/catalogue.ts';
import { openRuleSchemaDb } from './load-rules.ts';
import { BANNED_FUNCTIONS, tokenizeSql, validateSelect } from './validate-sql.ts';

const db = openRuleSchemaDb();
const rejects = (sql: string, pattern: RegExp) =>
  assert.throws(() => validateSelect(db, sql), (e) => isDaemonEyeError(e, 'DE_RULE_SQL') && pattern.test(e.message), sql);

test('accepts SELECT and WITH over the schema, including new_lifecycle', () => {
  validateSelect(db, 'SELECT pid FROM processes WHERE file_exists = 0');
  validateSelect(db, 'WITH p AS (SELECT * FROM processes) SELECT count(*) FROM p');
  validateSelect(db, "SELECT * FROM new_lifecycle WHERE event = 'start'");
  validateSelect(db, "SELECT 'load_extension(x)' AS harmless_string -- readfile() in a comment");
  validateSelect(db, "SELECT replace(command_line, ' ', '') AS squeezed FROM processes");
});

test('rejects writes, schema changes and transaction control', () => {
  rejects('DELETE FROM alerts', /not DELETE|DELETE is not allowed/);
  rejects("UPDATE alerts SET severity = 'low'", /UPDATE/);
  rejects('INSERT INTO rules VALUES (1)', /INSERT/);
  rejects('DROP TABLE alerts', /DROP/);
  rejects("REPLACE INTO rules (rule_id) VALUES ('x')", /REPLACE/);
  rejects('WITH x AS (SELECT 1) DELETE FROM alerts', /DELETE is not allowed/);
  rejects('BEGIN', /BEGIN/);
});

test('rejects ATTACH and PRAGMA even when disguised', () => {
  rejects("ATTACH DATABASE '/tmp/x.db' AS x", /ATTACH/);
  rejects('PRAGMA writable_schema = 1', /PRAGMA/);
  rejects('SELECT * FROM pragma_table_info(\'alerts\') WHERE 0; PRAGMA x', /PRAGMA/);
});

test('rejects every banned function, also quoted or in odd case', () => {
  for (const f of BANNED_FUNCTIONS) rejects(`SELECT ${f}('x')`, new RegExp(f));
  rejects('SELECT "load_extension"(\'/tmp/evil.so\')', /load_extension/);
  rejects('SELECT LoAd_ExTeNsIoN(\'/tmp/evil.so\')', /load_extension/);
  rejects('SELECT [readfile](\'/etc/shadow\')', /readfile/);
});

test('rejects more than one statement and non-queries', () => {
  rejects('SELECT 1; SELECT 2', /more than one statement/);
  rejects('SELECT 1; DELETE FROM alerts', /DELETE/);
  rejects('', /empty/);
  rejects('-- only a comment', /empty/);
  rejects('VALUES (1)', /must be a SELECT/);
  rejects('SELECT * FROM no_such_table', /no such table/);
});

test('the tokenizer handles unterminated strings and comments without hanging', () => {
  assert.deepEqual(tokenizeSql("SELECT 'unterminated").map((t) => t.text), ['SELECT']);
  assert.deepEqual(tokenizeSql('SELECT /* unterminated').map((t) => t.text), ['SELECT']);
  assert.deepEqual(tokenizeSql("SELECT 'it''s' AS x").map((t) => t.text), ['SELECT', 'AS', 'x']);
});

test('fuzz: random byte strings and mutations of valid rules never crash the validator', () => {
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const base = "SELECT pid, name FROM processes WHERE name LIKE '%x%' AND file_exists = 0";
  const alphabet = "SELECT();'\"`[]-*/ \n\tDELETEPRAGMAload_extension,0123456789processes";
  for (let i = 0; i < 2000; i++) {
    let sql: string;
    if (i % 2 === 0) {
      sql = Array.from({ length: Math.floor(rand() * 60) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
    } else {
      const chars = [...base];
      for (let k = 0; k < 3; k++) chars[Math.floor(rand() * chars.length)] = alphabet[Math.floor(rand() * alphabet.length)]!;
      sql = chars.join('');
    }
    try {
      validateSelect(db, sql);
    } catch (e) {
      assert.ok(isDaemonEyeError(e, 'DE_RULE_SQL'), `unexpected ${String(e)} for ${JSON.stringify(sql)}`);
    }
  }
});
