import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACTIVE_FEATURES, describeConfig, FEATURES, NOT_ACTIVE_NOTE } from './config-report.ts';
import { checkConfigFile } from './load-config.ts';
import { configSchema, defaultConfig } from './schema.ts';
import { schemaAt } from './schema-info.ts';

test('by default every Enterprise feature is listed, disabled', () => {
  const report = describeConfig(defaultConfig());
  assert.equal(report.length, FEATURES.length);
  for (const f of report) assert.deepEqual([f.enabled, f.active, f.note], [false, false, 'disabled']);
});

test('the Enterprise example enables every feature, none active in this build yet', () => {
  const { config } = checkConfigFile(new URL('../../examples/enterprise.yaml', import.meta.url).pathname, {});
  const report = describeConfig(config);
  assert.equal(report.length, 8);
  for (const f of report) {
    assert.equal(f.enabled, true, f.key);
    assert.equal(f.active, ACTIVE_FEATURES.has(f.key), f.key);
    if (!f.active) assert.equal(f.note, NOT_ACTIVE_NOTE);
  }
  assert.ok(report.some((f) => f.key === 'enterprise.federation.enable_federation'));
});

test('configured sinks are reported, active in this build; a disabled one as disabled', () => {
  const config = configSchema.parse({ alerting: { sinks: [
    { type: 'syslog', address: 'udp://h:514' }, { type: 'webhook', url: 'https://x' },
    { type: 'webhook', name: 'spare', url: 'https://y', enabled: false },
  ] } });
  const sinks = describeConfig(config).filter((f) => f.key.startsWith('alerting.sinks'));
  assert.deepEqual(sinks.map((s) => [s.feature, s.key, s.enabled, s.active, s.note]), [
    ['syslog alert sink', 'alerting.sinks[0]', true, true, 'active'],
    ['webhook alert sink', 'alerting.sinks[1]', true, true, 'active'],
    ['webhook alert sink "spare"', 'alerting.sinks[2]', false, false, 'disabled'],
  ]);
});

test('every feature key is a boolean key of the schema', () => {
  for (const f of FEATURES) assert.equal(schemaAt(f.key.split('.'))?.type, 'boolean', f.key);
});
