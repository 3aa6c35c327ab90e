import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitWindowsCommandLine } from './windows-command-line.ts';

// The examples of Microsoft's "Parsing C command-line arguments" page, plus argv[0] rules.
test('splits like the Microsoft C runtime', () => {
  const cases: [string, string[]][] = [
    ['prog "a b c" d e', ['prog', 'a b c', 'd', 'e']],
    ['prog "ab\\"c" "\\\\" d', ['prog', 'ab"c', '\\', 'd']],
    ['prog a\\\\\\b d"e f"g h', ['prog', 'a\\\\\\b', 'de fg', 'h']],
    ['prog a\\\\\\"b c d', ['prog', 'a\\"b', 'c', 'd']],
    ['prog a\\\\\\\\"b c" d e', ['prog', 'a\\\\b c', 'd', 'e']],
    ['prog a"b"" c d', ['prog', 'ab" c d']],
    ['"C:\\Program Files\\App\\app.exe" --flag', ['C:\\Program Files\\App\\app.exe', '--flag']],
    ['C:\\Windows\\system32\\cmd.exe /c "echo hi"', ['C:\\Windows\\system32\\cmd.exe', '/c', 'echo hi']],
    ['  \t ', []],
    ['', []],
    ['prog ""', ['prog', '']],
  ];
  for (const [line, argv] of cases) assert.deepEqual(splitWindowsCommandLine(line), argv, line);
});

test('hostile input: unbalanced quotes and long runs of backslashes end cleanly', () => {
  assert.deepEqual(splitWindowsCommandLine('"unterminated'), ['unterminated']);
  assert.deepEqual(splitWindowsCommandLine('p "open to the end'), ['p', 'open to the end']);
  const long = 'p ' + '\\'.repeat(100_000) + '"';
  const argv = splitWindowsCommandLine(long);
  assert.equal(argv.length, 2);
  assert.equal(argv[1]!.length, 50_000);
});
