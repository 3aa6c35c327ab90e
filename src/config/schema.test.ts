import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema, defaultConfig, DEFAULT_ENV_ALLOWLIST } from './schema.ts';

test('defaults match the documented values', () => {
  const c = defaultConfig();
  assert.deepEqual(c.agent, { host_name: null, scan_interval: 30, data_dir: null });
  assert.equal(c.logging.level, 'info');
  assert.deepEqual(c.collection.env_allowlist, DEFAULT_ENV_ALLOWLIST);
  for (const v of ['LD_PRELOAD', 'LD_AUDIT', 'HISTFILE', 'HISTSIZE']) assert.ok(c.collection.env_allowlist.includes(v), v);
  assert.ok(!c.collection.env_allowlist.some((v) => /TOKEN|SECRET|PASSWORD|KEY/.test(v)), 'no secret-bearing names');
  assert.deepEqual(c.store, { retention_days: 7, max_size_mb: 1024 });
  assert.deepEqual(c.alerting, {
    stdout: { enabled: true, format: 'auto' }, jsonl_file: { enabled: true, path: 'alerts.jsonl', max_size_mb: 100, max_files: 5 }, fail_on: null, sinks: [],
  });
  assert.equal(c.enterprise.kernel_monitoring.etw_session_name, 'DaemonEye');
  assert.equal(c.enterprise.federation.conflict_resolution, 'primary_wins');
  assert.equal(c.enterprise.analytics.anomaly_threshold, 0.8);
});

test('defaultConfig returns a fresh copy each time', () => {
  const a = defaultConfig();
  a.collection.env_allowlist.push('X');
  a.detection.rule_dirs.push('/x');
  assert.equal(defaultConfig().collection.env_allowlist.length, DEFAULT_ENV_ALLOWLIST.length);
  assert.deepEqual(defaultConfig().detection.rule_dirs, []);
});

test('objects are strict and a partial section keeps the other defaults', () => {
  assert.equal(configSchema.safeParse({ agent: { nope: 1 } }).success, false);
  assert.equal(configSchema.safeParse({ enterprise: { federation: { enable: true } } }).success, false);
  const c = configSchema.parse({ enterprise: { analytics: { anomaly_threshold: 0.5 } } });
  assert.equal(c.enterprise.analytics.anomaly_threshold, 0.5);
  assert.equal(c.enterprise.analytics.model_update_interval, 86400);
});

test('endpoints must be http(s) URLs; sinks need a type and are strict', () => {
  assert.equal(configSchema.safeParse({ enterprise: { federation: { primary_endpoint: 'file:///etc/passwd' } } }).success, false);
  assert.equal(configSchema.safeParse({ alerting: { sinks: [{ url: 'x' }] } }).success, false);
  assert.equal(configSchema.safeParse({ alerting: { sinks: [{ type: 'webhook', url: 'https://h', retries: 3 }] } }).success, false);
  const c = configSchema.parse({ alerting: { sinks: [{ type: 'webhook', url: 'https://h' }] } });
  assert.deepEqual([c.alerting.sinks[0]?.type, c.alerting.sinks[0]?.name], ['webhook', 'webhook']);
});
