import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { checkConfigFile } from './load-config.ts';
import { configSchema } from './schema.ts';
import { Secret, SINK_TYPES } from './sinks-schema.ts';
import { expectError, load, tempDir, writeFile } from './test-helpers.ts';

const sinks = (list: unknown[]) => configSchema.safeParse({ alerting: { sinks: list } });
const ok = (list: unknown[]) => {
  const r = sinks(list);
  assert.ok(r.success, JSON.stringify(r.error?.issues));
  return r.data.alerting.sinks;
};
const bad = (list: unknown[]) => {
  const r = sinks(list);
  assert.equal(r.success, false, `accepted ${JSON.stringify(list)}`);
  return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
};

test("the issue's example validates, with ${WEBHOOK_SECRET} expanded and kept secret", () => {
  const file = writeFile(tempDir(), 'c.yaml', [
    'alerting:',
    '  sinks:',
    '    - type: webhook',
    '      url: https://soc.example.com/hooks/daemoneye',
    '      secret: ${WEBHOOK_SECRET}',
    '      min_severity: medium',
    '    - type: syslog',
    '      address: tcp+tls://siem.example.com:6514',
    '      format: cef',
  ].join('\n'));
  const { config } = checkConfigFile(file, { WEBHOOK_SECRET: '0123456789' });
  const [hook, syslog] = config.alerting.sinks;
  assert.ok(hook?.type === 'webhook' && syslog?.type === 'syslog');
  assert.equal(hook.secret?.reveal(), '0123456789', 'a numeric-looking secret stays a string');
  assert.equal(hook.min_severity, 'medium');
  assert.deepEqual([syslog.format, syslog.facility, syslog.name], ['cef', 'local0', 'syslog']);
  const shown = JSON.stringify(config) + inspect(config, { depth: 9 }) + String(hook.secret);
  assert.ok(!shown.includes('0123456789'), shown);
});

test('every type with its required keys only, and the common defaults', () => {
  const list = ok([
    { type: 'stdout' }, { type: 'jsonl_file', path: 'x.jsonl' }, { type: 'webhook', url: 'https://h/x' },
    { type: 'syslog', address: 'udp://10.0.0.1:514' }, { type: 'cef', path: 'a.cef' },
    { type: 'email', host: 'smtp.example.com', from: 'a@example.com', to: ['b@example.com'] },
    { type: 'splunk_hec', url: 'https://splunk:8088', token: 't' }, { type: 'elasticsearch', url: 'https://es:9200' },
  ]);
  assert.deepEqual(list.map((s) => s.type), [...SINK_TYPES]);
  for (const s of list) {
    assert.deepEqual(
      [s.name, s.enabled, s.min_severity, s.tags, s.tactics, s.batch_size, s.max_attempts, s.timeout_ms, s.rate_limit_per_minute],
      [s.type, true, 'low', [], [], 100, 12, 10_000, 600]);
  }
});

test('strict objects: a typo or a key of another sink type is refused', () => {
  assert.match(bad([{ type: 'webhook', url: 'https://h', secrett: 'x' }]), /Unrecognized key: "secrett"/);
  assert.match(bad([{ type: 'syslog', address: 'tcp://h:1', token: 'x' }]), /Unrecognized key: "token"/);
  assert.match(bad([{ type: 'pager' }]), /type/);
  assert.match(bad([{ url: 'https://h' }]), /0\.type/);
});

test('names are unique (the default name is the type)', () => {
  assert.match(bad([{ type: 'syslog', address: 'udp://a:1' }, { type: 'syslog', address: 'udp://b:1' }]), /1\.name: sink name "syslog" is already used by sinks\[0\]/);
  const list = ok([{ type: 'syslog', address: 'udp://a:1' }, { type: 'syslog', name: 'siem-2', address: 'udp://b:1' }]);
  assert.deepEqual(list.map((s) => s.name), ['syslog', 'siem-2']);
});

test('values are checked: addresses, URLs, enums, pairs', () => {
  for (const address of ['tcp://h', 'http://h:1', 'tcp+tls://h:1x', 'unix://relative']) assert.match(bad([{ type: 'syslog', address }]), /address/, address);
  ok([{ type: 'syslog', address: 'tcp+tls://[::1]:6514' }, { type: 'cef', address: 'unix:///dev/log' }]);
  assert.match(bad([{ type: 'webhook', url: 'ftp://h/x' }]), /url/);
  assert.match(bad([{ type: 'webhook', url: 'https://user:pw@h/x' }]), /without user:password/);
  assert.match(bad([{ type: 'webhook', url: 'https://h', headers: { 'Content-Type': 'text/plain' } }]), /headers/);
  assert.match(bad([{ type: 'webhook', url: 'https://h', cert_file: '/c.pem' }]), /cert_file and key_file go together/);
  assert.match(bad([{ type: 'cef' }]), /exactly one of path/);
  assert.match(bad([{ type: 'cef', path: 'a', address: 'udp://h:1' }]), /exactly one of path/);
  assert.match(bad([{ type: 'stdout', min_severity: 'severe' }]), /min_severity/);
  assert.match(bad([{ type: 'stdout', tactics: ['evasion'] }]), /tactics/);
  assert.match(bad([{ type: 'elasticsearch', url: 'https://h', index: 'Alerts' }]), /index/);
  assert.match(bad([{ type: 'elasticsearch', url: 'https://h', api_key: 'k', username: 'u', password: 'p' }]), /not both/);
  assert.match(bad([{ type: 'email', host: 'h', from: 'a@b.c', to: [], password: 'p' }]), /to|username/);
  assert.match(bad([{ type: 'splunk_hec', url: 'https://h' }]), /token/);
});

test('secrets are Secret objects: redacted in JSON, String and inspect', () => {
  const [hook] = ok([{ type: 'webhook', url: 'https://h', secret: 's3cr3t-value', headers: { Authorization: 'Bearer tok-abcdef' } }]);
  assert.ok(hook?.type === 'webhook' && hook.secret instanceof Secret);
  assert.equal(hook.headers['Authorization']?.reveal(), 'Bearer tok-abcdef');
  const shown = JSON.stringify(hook) + String(hook.secret) + `${hook.secret}` + inspect(hook, { depth: 9, showHidden: true });
  assert.doesNotMatch(shown, /s3cr3t|tok-abcdef/);
});

test('config errors in a file name the line, the key and what it accepts', () => {
  const file = writeFile(tempDir(), 'c.yaml', [
    'alerting:',
    '  sinks:',
    '    - type: webhok',
    '      url: https://h',
    '    - type: syslog',
    '      adress: tcp://h:514',
    '      facility: local9',
  ].join('\n'));
  const err = expectError('DE_CONFIG_INVALID', () => load({ userFile: file }));
  assert.match(err.message, /:3:7: alerting\.sinks\[0\]\.type: expected one of: stdout, jsonl_file, webhook, syslog, cef, email, splunk_hec, elasticsearch; got "webhok"/);
  assert.match(err.message, /:6:7: alerting\.sinks\[1\]\.adress: unknown key; did you mean `address`\?/);
  assert.match(err.message, /:7:7: alerting\.sinks\[1\]\.facility: expected one of: kern, .*local7/);
});

test('sinks can be given in the environment', () => {
  const { config } = load({ env: { DAEMONEYE_ALERTING__SINKS: '[{type: splunk_hec, url: "https://s:8088", token: "12345678", tactics: [execution]}]' } });
  const [hec] = config.alerting.sinks;
  assert.ok(hec?.type === 'splunk_hec');
  assert.equal(hec.token.reveal(), '12345678');
  assert.deepEqual(hec.tactics, ['execution']);
});
