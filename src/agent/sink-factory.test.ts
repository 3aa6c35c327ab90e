import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../config/schema.ts';
import type { SinkConfigInput } from '../config/sinks-schema.ts';
import { isDaemonEyeError } from '../errors/catalogue.ts';
import { sampleAlert } from '../sinks/testing/alerts.ts';
import type { Logger } from './logger.ts';
import { createSink, createSinks, sinkRoute } from './sink-factory.ts';

const parse = (...list: SinkConfigInput[]) => configSchema.parse({ alerting: { sinks: list } }).alerting.sinks;

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (level: string) => (msg: string, fields?: Record<string, unknown>) => { lines.push(`${level} ${msg} ${JSON.stringify(fields)}`); };
  return { lines, error: add('error'), warn: add('warn'), info: add('info'), debug: add('debug') };
}

test('every sink type is built, named and typed as configured', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'daemoneye-factory-'));
  const configs = parse(
    { type: 'stdout', name: 'console' }, { type: 'jsonl_file', path: 'copy.jsonl' },
    { type: 'webhook', url: 'https://h/x', secret: 'hmac-key-123' }, { type: 'syslog', address: 'tcp+tls://siem:6514' },
    { type: 'cef', name: 'cef-file', path: 'alerts.cef' }, { type: 'cef', name: 'cef-net', address: 'udp://127.0.0.1:514' },
    { type: 'email', host: 'smtp', from: 'a@example.com', to: ['d@example.com'] }, { type: 'splunk_hec', url: 'https://s:8088', token: 'hec-tok-123' },
    { type: 'elasticsearch', url: 'https://es:9200' },
  );
  const log = recordingLogger();
  const sinks = configs.map((c) => createSink(c, { dataDir, log, version: '1' }));
  assert.deepEqual(sinks.map((s) => [s.name, s.type]), [
    ['console', 'stdout'], ['jsonl_file', 'jsonl_file'], ['webhook', 'webhook'], ['syslog', 'syslog'], ['cef-file', 'cef'],
    ['cef-net', 'cef'], ['email', 'email'], ['splunk_hec', 'splunk_hec'], ['elasticsearch', 'elasticsearch'],
  ]);
  await sinks[1]!.deliver([sampleAlert()]);
  assert.match(readFileSync(join(dataDir, 'copy.jsonl'), 'utf8'), /"rule_id":"DE-LNX-0001"/, 'relative paths are under the data dir');
  for (const s of sinks) await s.close();
  assert.ok(!log.lines.join('\n').includes('hmac-key-123'));
});

test('cleartext transports are built with a warning', () => {
  const log = recordingLogger();
  for (const c of parse({ type: 'webhook', url: 'http://h/x' }, { type: 'syslog', name: 's', address: 'udp://h:514' }, { type: 'email', host: 'h', security: 'none', from: 'a@example.com', to: ['d@example.com'] })) {
    createSink(c, { dataDir: '/tmp', log, version: '1' });
  }
  assert.equal(log.lines.filter((l) => l.startsWith('warn alert sink sends in cleartext')).length, 3, log.lines.join('\n'));
});

test('an unreadable TLS file is DE_SINK_CONFIG at build time', () => {
  const [c] = parse({ type: 'webhook', url: 'https://h', ca_file: '/nonexistent/ca.pem' });
  assert.throws(() => createSink(c!, { dataDir: '/tmp', log: recordingLogger(), version: '1' }),
    (e: unknown) => isDaemonEyeError(e, 'DE_SINK_CONFIG') && /ca_file \/nonexistent\/ca\.pem: ENOENT/.test(e.message));
});

test('createSinks skips disabled sinks', () => {
  const built = createSinks(parse({ type: 'stdout' }, { type: 'jsonl_file', path: 'x', enabled: false }), { dataDir: '/tmp', log: recordingLogger(), version: '1' });
  assert.deepEqual(built.map((b) => b.sink.name), ['stdout']);
});

test('routing: min_severity, then tags, then ATT&CK tactics (matched against rule tags)', () => {
  const route = (c: Partial<Parameters<typeof sinkRoute>[0]>) => sinkRoute({ min_severity: 'low', tags: [], tactics: [], ...c });
  const high = sampleAlert({ severity: 'high', tags: ['execution', 'command_and_control', 'linux'] });
  const low = sampleAlert({ severity: 'low', tags: ['defense-evasion'] });
  assert.deepEqual([route({})(high), route({})(low)], [true, true]);
  assert.deepEqual([route({ min_severity: 'medium' })(high), route({ min_severity: 'medium' })(low)], [true, false]);
  assert.deepEqual([route({ min_severity: 'critical' })(high)], [false]);
  assert.deepEqual([route({ tags: ['linux'] })(high), route({ tags: ['linux'] })(low)], [true, false]);
  assert.deepEqual([route({ tactics: ['defense_evasion'] })(high), route({ tactics: ['defense_evasion'] })(low)], [false, true], 'defense-evasion is defense_evasion');
  assert.deepEqual([route({ tactics: ['execution', 'impact'] })(high)], [true]);
  assert.deepEqual([route({ tags: ['linux'], tactics: ['impact'] })(high)], [false], 'tags and tactics must both match');
});
