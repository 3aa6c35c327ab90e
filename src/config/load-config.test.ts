import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkConfigFile } from './load-config.ts';
import { defaultConfig } from './schema.ts';
import { expectError, load, tempDir, writeFile } from './test-helpers.ts';

const enterpriseExample = new URL('../../examples/enterprise.yaml', import.meta.url);

test('the Enterprise example loads verbatim and keeps every value', () => {
  const { config, sources } = checkConfigFile(enterpriseExample.pathname, {});
  assert.deepEqual(sources, [enterpriseExample.pathname]);
  assert.deepEqual(config.enterprise, {
    kernel_monitoring: {
      enable_ebpf: true, ebpf_program_path: '/etc/daemoneye/ebpf/monitor.o', enable_etw: true,
      etw_session_name: 'DaemonEye', enable_endpoint_security: true, es_client_name: 'com.daemoneye.monitor',
      ring_buffer_mb: 8, batch_window_ms: 10, max_args_bytes: 1024, // defaults of keys the product block does not set
      sensor: 'auto', filters: { ignore_comms: [], ignore_uids: [], only_uids: [], ignore_cgroups: [] }, // defaults (docs/kernel-monitoring.md)
    },
    network_monitoring: {
      enable_packet_capture: true, capture_interface: 'eth0', capture_filter: 'tcp port 80 or tcp port 443',
      max_packet_size: 1500, buffer_size_mb: 100,
      flow_accounting: 'off', // default (docs/network-capture.md)
    },
    federation: {
      enable_federation: true, primary_endpoint: 'https://primary.daemoneye.com',
      regional_endpoints: ['https://region1.daemoneye.com', 'https://region2.daemoneye.com'],
      sync_interval: 300, conflict_resolution: 'primary_wins',
      batch_size: 1000, max_batches_per_sync: 1000, // defaults (docs/center.md)
    },
    stix_taxii: {
      enable_integration: true, taxii_endpoint: 'https://taxii.example.com', collection_id: 'daemoneye-indicators', sync_interval: 3600,
      auth: null, tls: null, page_size: 1000, timeout_ms: 30000, max_response_mb: 64, feeds: [], share: null, // defaults (docs/taxii.md)
    },
    analytics: { enable_behavioral_analysis: true, anomaly_threshold: 0.8, model_update_interval: 86400, enable_machine_learning: true,
      training_window_days: 14 }, // default (docs/analytics.md)
  });
  // The same block pasted into a user file, under loadConfig, gives the same result.
  const dir = tempDir();
  const file = writeFile(dir, 'config.yaml', readFileSync(enterpriseExample, 'utf8'));
  assert.deepEqual(load({ userFile: file }).config.enterprise, config.enterprise);
});

test('with no file, no environment and no flags, the config is the defaults resolved for the host', () => {
  const { config, sources } = load({ userFile: join(tempDir(), 'absent.yaml'), systemFile: '/nonexistent/daemoneye.yaml' });
  assert.deepEqual(sources, []);
  const expected = defaultConfig();
  assert.deepEqual({ ...config, agent: undefined, alerting: undefined }, { ...expected, agent: undefined, alerting: undefined });
  assert.equal(config.agent.host_name, 'testhost');
  assert.equal(config.agent.data_dir, '/home/tester/.local/share/daemoneye');
  assert.equal(config.alerting.jsonl_file.path, '/home/tester/.local/share/daemoneye/alerts.jsonl');
  assert.equal(load({ isRoot: true }).config.agent.data_dir, '/var/lib/daemoneye');
  assert.equal(load({ env: { XDG_DATA_HOME: '/xdg' } }).config.agent.data_dir, '/xdg/daemoneye');
});

test('precedence: system < user < environment < flags, objects merge and lists replace', () => {
  const dir = tempDir();
  const systemFile = writeFile(dir, 'system.yaml', [
    'agent: {scan_interval: 10, host_name: from-system, data_dir: /sys-data}',
    'logging: {level: debug}',
    'detection: {rule_dirs: [/a, /b]}',
  ].join('\n'));
  const userFile = writeFile(dir, 'user.yaml', 'agent: {scan_interval: 20, host_name: from-user}\ndetection: {rule_dirs: [/c]}\n');
  const env = { DAEMONEYE_AGENT__SCAN_INTERVAL: '40', PATH: '/bin' };
  const overrides = { agent: { scan_interval: 50, data_dir: undefined } };

  const only = (o: object) => load({ systemFile, userFile, ...o }).config;
  assert.equal(load({ systemFile }).config.agent.scan_interval, 10);
  assert.equal(only({}).agent.scan_interval, 20);
  assert.equal(only({}).agent.host_name, 'from-user');
  assert.equal(only({}).agent.data_dir, '/sys-data', 'keys the user file does not set come from the system file');
  assert.equal(only({}).logging.level, 'debug');
  assert.deepEqual(only({}).detection.rule_dirs, ['/c'], 'lists replace, they do not append');
  assert.equal(only({ env }).agent.scan_interval, 40);
  const top = load({ systemFile, userFile, env, overrides });
  assert.equal(top.config.agent.scan_interval, 50);
  assert.equal(top.config.agent.data_dir, '/sys-data', 'an undefined flag does not override');
  assert.deepEqual(top.sources, [systemFile, userFile, 'DAEMONEYE_AGENT__SCAN_INTERVAL', 'command-line flags']);
});

test('--config replaces the user file, not the system file; a missing --config is DE_CONFIG_NOT_FOUND', () => {
  const dir = tempDir();
  const systemFile = writeFile(dir, 'system.yaml', 'logging: {level: warn}\n');
  const userFile = writeFile(dir, 'user.yaml', 'agent: {scan_interval: 20}\n');
  const configFile = writeFile(dir, 'explicit.yaml', 'agent: {host_name: explicit}\n');
  const r = load({ systemFile, userFile, configFile });
  assert.deepEqual(r.sources, [systemFile, configFile]);
  assert.equal(r.config.agent.scan_interval, 30);
  assert.equal(r.config.logging.level, 'warn');
  assert.equal(load({ env: { DAEMONEYE_CONFIG: configFile } }).config.agent.host_name, 'explicit');
  assert.deepEqual(load({ systemFile, configFile: systemFile }).sources, [systemFile], 'the same file is not applied twice');
  const err = expectError('DE_CONFIG_NOT_FOUND', () => load({ configFile: join(dir, 'nope.yaml') }));
  assert.match(err.message, /nope\.yaml/);
});

test('environment overrides a nested number, a list and a string, and supports the CLI aliases', () => {
  const { config, sources } = load({
    env: {
      DAEMONEYE_ENTERPRISE__ANALYTICS__ANOMALY_THRESHOLD: '0.9',
      DAEMONEYE_COLLECTION__ENV_ALLOWLIST: '[LD_PRELOAD, PATH]',
      DAEMONEYE_ENTERPRISE__FEDERATION__REGIONAL_ENDPOINTS: '[https://r1.example, https://r2.example]',
      DAEMONEYE_COLLECTION__HASH_EXECUTABLES: 'false',
      DAEMONEYE_AGENT__HOST_NAME: '007',
      DAEMONEYE_DATA_DIR: '/alias/data',
      DAEMONEYE_LOG_LEVEL: 'debug',
      DAEMONEYE_EMPTY_IS_UNSET: '',
    },
  });
  assert.equal(config.enterprise.analytics.anomaly_threshold, 0.9);
  assert.deepEqual(config.collection.env_allowlist, ['LD_PRELOAD', 'PATH']);
  assert.deepEqual(config.enterprise.federation.regional_endpoints, ['https://r1.example', 'https://r2.example']);
  assert.equal(config.collection.hash_executables, false);
  assert.equal(config.agent.host_name, '007', 'a string key keeps the value verbatim');
  assert.equal(config.agent.data_dir, '/alias/data');
  assert.equal(config.logging.level, 'debug');
  assert.ok(sources.includes('DAEMONEYE_DATA_DIR'));
  // The canonical name wins over the alias, whatever the order in the environment.
  const both = load({ env: { DAEMONEYE_LOGGING__LEVEL: 'warn', DAEMONEYE_LOG_LEVEL: 'debug' } });
  assert.equal(both.config.logging.level, 'warn');
  assert.equal(load({ env: { daemoneye_agent__scan_interval: '7' } }).config.agent.scan_interval, 30, 'the prefix is upper case');
  assert.equal(load({ env: { DAEMONEYE_Agent__Scan_Interval: '7' } }).config.agent.scan_interval, 7, 'names are case-insensitive');
  // A deeper variable wins over a shallower one that sets the same key.
  const nested = load({ env: { DAEMONEYE_AGENT: '{scan_interval: 5, host_name: h}', DAEMONEYE_AGENT__SCAN_INTERVAL: '6' } });
  assert.deepEqual([nested.config.agent.scan_interval, nested.config.agent.host_name], [6, 'h']);
});

test('an unknown DAEMONEYE_ variable is DE_ENV_INVALID naming it and the nearest valid variable', () => {
  const err = expectError('DE_ENV_INVALID', () => load({ env: { DAEMONEYE_AGENT__SCAN_INTERVALL: '5' } }));
  assert.match(err.message, /DAEMONEYE_AGENT__SCAN_INTERVALL/);
  assert.match(err.message, /DAEMONEYE_AGENT__SCAN_INTERVAL \(agent\.scan_interval\)/);
  const single = expectError('DE_ENV_INVALID', () => load({ env: { DAEMONEYE_ENTERPRISE_ANALYTICS_ANOMALY_THRESHOLD: '1' } }));
  assert.match(single.message, /DAEMONEYE_ENTERPRISE__ANALYTICS__ANOMALY_THRESHOLD/);
  const bad = expectError('DE_ENV_INVALID', () => load({ env: { DAEMONEYE_AGENT__SCAN_INTERVAL: 'fast' } }));
  assert.match(bad.message, /DAEMONEYE_AGENT__SCAN_INTERVAL: agent\.scan_interval: expected an integer from 1 to 86400; got "fast"/);
});

test('a typo in a key names the key path, file, line and the key that was meant', () => {
  const file = writeFile(tempDir(), 'config.yaml', '# comment\nagent:\n  scan_intervall: 30\n');
  const err = expectError('DE_CONFIG_INVALID', () => load({ userFile: file }));
  assert.ok(err.message.includes(`${file}:3:3: agent.scan_intervall: unknown key; did you mean \`scan_interval\`?`), err.message);
  const section = writeFile(tempDir(), 'c.yaml', 'agnet:\n  scan_interval: 3\n');
  assert.match(expectError('DE_CONFIG_INVALID', () => load({ userFile: section })).message, /:1:1: agnet: unknown key; did you mean `agent`\?/);
  const misplaced = writeFile(tempDir(), 'c.yaml', 'logging:\n  scan_interval: 3\n');
  assert.match(expectError('DE_CONFIG_INVALID', () => load({ userFile: misplaced })).message, /belongs at `agent\.scan_interval`/);
});

test('a wrong enum value lists the accepted values; a wrong type names the key, line and expected type', () => {
  const file = writeFile(tempDir(), 'config.yaml', [
    'agent:',
    '  scan_interval: fast',
    'enterprise:',
    '  federation:',
    '    conflict_resolution: newest',
    'alerting:',
    '  fail_on: severe',
    '  sinks: [{url: x}]',
  ].join('\n'));
  const err = expectError('DE_CONFIG_INVALID', () => load({ userFile: file }));
  const lines = err.message.split('\n');
  assert.match(lines[0]!, /4 configuration problems/);
  assert.ok(lines.includes(`  ${file}:2:3: agent.scan_interval: expected an integer from 1 to 86400; got "fast"`), err.message);
  assert.ok(lines.includes(`  ${file}:5:5: enterprise.federation.conflict_resolution: expected one of: primary_wins, timestamp_wins, manual_review; got "newest"`), err.message);
  assert.ok(lines.includes(`  ${file}:7:3: alerting.fail_on: expected one of: low, medium, high, critical or null; got "severe"`), err.message);
  assert.ok(lines.some((l) => l.includes(':8:') && l.includes('alerting.sinks[0].type: missing')), err.message);
  const range = writeFile(tempDir(), 'r.yaml', 'agent:\n  host_name: 12\n  scan_interval: 0\n');
  const rangeErr = expectError('DE_CONFIG_INVALID', () => load({ userFile: range }));
  assert.match(rangeErr.message, /:2:3: agent\.host_name: expected a non-empty string or null; got 12 \(quote it/);
  assert.match(rangeErr.message, /:3:3: agent\.scan_interval: expected an integer from 1 to 86400; got 0/);
});

test('problems from several sources are all reported, in precedence order', () => {
  const dir = tempDir();
  const systemFile = writeFile(dir, 's.yaml', 'store: {retention_dayz: 1}\n');
  const userFile = writeFile(dir, 'u.yaml', 'logging: {level: loud}\n');
  const err = expectError('DE_CONFIG_INVALID', () =>
    load({ systemFile, userFile, env: { DAEMONEYE_NOPE: '1' }, overrides: { agent: { scan_interval: -1 } } }));
  const lines = err.message.split('\n').slice(1);
  assert.equal(lines.length, 4, err.message);
  assert.match(lines[0]!, /s\.yaml:1:9: store\.retention_dayz/);
  assert.match(lines[1]!, /u\.yaml:1:11: logging\.level/);
  assert.match(lines[2]!, /DAEMONEYE_NOPE/);
  assert.match(lines[3]!, /command-line flags: agent\.scan_interval/);
});

test('a YAML syntax error is DE_CONFIG_PARSE with file:line:col', () => {
  const file = writeFile(tempDir(), 'config.yaml', 'agent:\n  scan_interval: 30\n  host_name: [a, b\nlogging:\n  level: info\n');
  const err = expectError('DE_CONFIG_PARSE', () => load({ userFile: file }));
  assert.match(err.message, new RegExp(`${file}:4:1: `));
  const dup = writeFile(tempDir(), 'dup.yaml', 'agent:\n  scan_interval: 1\n  scan_interval: 2\n');
  assert.match(expectError('DE_CONFIG_PARSE', () => load({ userFile: dup })).message, /dup\.yaml:3:3: Map keys must be unique/);
  const tab = writeFile(tempDir(), 'tab.yaml', 'agent:\n\tscan_interval: 1\n');
  assert.match(expectError('DE_CONFIG_PARSE', () => load({ userFile: tab })).message, /tab\.yaml:2:1: /);
});

test('${VAR} references are expanded from the environment; a missing one is named', () => {
  const file = writeFile(tempDir(), 'config.yaml', [
    'agent:',
    '  host_name: ${HOST_LABEL}-01',
    '  scan_interval: ${SCAN:-15}',
    'alerting:',
    '  sinks:',
    '    - {type: webhook, url: "https://h/x", secret: "${HOOK_TOKEN}", headers: {X-Note: "costs $${PRICE}"}}',
    'enterprise:',
    '  stix_taxii: {collection_id: "${COLLECTION:-daemoneye-indicators}"}',
  ].join('\n'));
  const env = { HOST_LABEL: 'web', HOOK_TOKEN: 's3cret' };
  const { config } = load({ userFile: file, env });
  assert.equal(config.agent.host_name, 'web-01');
  assert.equal(config.agent.scan_interval, 15, 'a whole-value reference takes the key type');
  const [hook] = config.alerting.sinks;
  assert.ok(hook?.type === 'webhook');
  assert.deepEqual([hook.secret?.reveal(), hook.headers['X-Note']?.reveal()], ['s3cret', 'costs ${PRICE}']);
  assert.equal(config.enterprise.stix_taxii.collection_id, 'daemoneye-indicators');

  const err = expectError('DE_CONFIG_INVALID', () => load({ userFile: file, env: { HOST_LABEL: 'web' } }));
  assert.match(err.message, /:6:\d+: alerting\.sinks\[0\]\.secret: \$\{HOOK_TOKEN\} is not set/);
  assert.equal(err.message.split('\n').length, 2, 'a missing variable is reported once');

  const secret = writeFile(tempDir(), 's.yaml', 'agent: {scan_interval: "${SCAN}"}\n');
  const hidden = expectError('DE_CONFIG_INVALID', () => load({ userFile: secret, env: { SCAN: 'hunter2' } }));
  assert.doesNotMatch(hidden.message, /hunter2/, 'values from variables are not echoed');
  const malformed = writeFile(tempDir(), 'm.yaml', 'agent: {host_name: "${1BAD}"}\n');
  assert.match(expectError('DE_CONFIG_INVALID', () => load({ userFile: malformed })).message, /malformed reference/);
});

test('an empty file and a comment-only file are an empty configuration; a non-mapping is not', () => {
  const dir = tempDir();
  const commentedOut = writeFile(dir, 's.yaml', 'logging:\n  # level: debug\nenterprise:\n  analytics:\n');
  assert.equal(load({ userFile: commentedOut }).config.enterprise.analytics.anomaly_threshold, 0.8, 'an empty section is absent');
  assert.equal(load({ userFile: writeFile(dir, 'e.yaml', '') }).config.agent.scan_interval, 30);
  assert.equal(load({ userFile: writeFile(dir, 'c.yaml', '# nothing\n') }).config.agent.scan_interval, 30);
  const list = expectError('DE_CONFIG_INVALID', () => load({ userFile: writeFile(dir, 'l.yaml', '- agent\n') }));
  assert.match(list.message, /top level must be a mapping/);
});
