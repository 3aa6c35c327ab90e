// `daemoneye doctor` for the Windows and macOS kernel layers: what it says on each OS and what it
// tells the operator to do. The macOS check probes eslogger as the agent would; here a script at the
// other end of the pipe plays eslogger's part (refusing, or running), the check's logic is the product's.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { silentLogger } from '../src/agent/logger.ts';
import type { CliContext } from '../src/cli/context.ts';
import { configSchema } from '../src/config/schema.ts';
import { endpointSecurityCheck, type EsDoctorHost } from '../src/doctor/checks.darwin.ts';
import { etwCheck } from '../src/doctor/checks.windows.ts';
import { linuxOnly, platformKernelChecks } from '../src/doctor/platform-checks.ts';
import { cli } from './cli-helpers.ts';

const work = mkdtempSync(join(tmpdir(), 'de-platform-doctor-'));
after(() => rmSync(work, { recursive: true, force: true }));

function ctx(kernel: Record<string, unknown> = {}): CliContext {
  const config = configSchema.parse({ enterprise: { kernel_monitoring: kernel } });
  return { config, configSources: [], dataDir: work, log: silentLogger } as unknown as CliContext;
}

function script(name: string, body: string): string {
  const path = join(work, name);
  writeFileSync(path, `#!${process.execPath}\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const mac = (over: Partial<EsDoctorHost>): EsDoctorHost => ({
  platform: 'darwin', release: '23.5.0', uid: 0, esloggerPath: '/nonexistent', tccDbPath: join(work, 'TCC.db'), probeMs: 400, ...over,
});

test('on Linux both checks say "not this platform", and warn when their flag is set anyway', () => {
  assert.deepEqual(platformKernelChecks(ctx()).map((r) => [r.name, r.status]), [['etw', 'ok'], ['eslogger', 'ok']]);
  const on = platformKernelChecks(ctx({ enable_etw: true, enable_endpoint_security: true }));
  assert.deepEqual(on.map((r) => r.status), ['warn', 'warn']);
  assert.match(on[0]!.detail, /Windows-only/);
  assert.match(on[1]!.detail, /macOS-only/);
});

test('Windows: too old, addon not built', () => {
  const old = etwCheck(ctx({ enable_etw: true }), { platform: 'win32', release: '6.1.7601', addonPath: '/x' });
  assert.equal(old.status, 'fail');
  assert.match(old.detail, /predates Windows 8/);
  const notBuilt = etwCheck(ctx(), { platform: 'win32', release: '10.0.22631', addonPath: join(work, 'nope.node') });
  assert.equal(notBuilt.status, 'warn', 'not enabled: a warning, not a failure');
  assert.match(notBuilt.fix ?? '', /node-gyp rebuild/);
});

test('macOS: too old, not root, eslogger missing', () => {
  const c = ctx({ enable_endpoint_security: true });
  assert.match(endpointSecurityCheck(c, mac({ release: '21.6.0' })).detail, /older than macOS 13/);
  const notRoot = endpointSecurityCheck(c, mac({ uid: 501 }));
  assert.equal(notRoot.status, 'fail');
  assert.match(notRoot.fix ?? '', /sudo daemoneye run/);
  assert.match(endpointSecurityCheck(c, mac({})).detail, /\/nonexistent is missing/);
});

test('macOS probe: eslogger refusing for Full Disk Access or too many clients is reported with the fix', () => {
  const c = ctx({ enable_endpoint_security: true, es_client_name: 'com.example.edr' });
  const fda = script('es-fda', `process.stderr.write('ERROR: es_new_client: ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED\\n'); process.exit(1);`);
  const r = endpointSecurityCheck(c, mac({ esloggerPath: fda }));
  assert.equal(r.status, 'fail');
  assert.match(r.detail, /^DE_ES_NO_FULL_DISK_ACCESS: EndpointSecurity client com\.example\.edr/);
  assert.match(r.fix ?? '', /Full Disk Access/);
  const many = script('es-many', `process.stderr.write('ES_NEW_CLIENT_RESULT_ERR_TOO_MANY_CLIENTS\\n'); process.exit(1);`);
  assert.match(endpointSecurityCheck(c, mac({ esloggerPath: many })).detail, /^DE_ES_TOO_MANY_CLIENTS/);
});

test('macOS probe: eslogger that keeps running means the client can start', () => {
  writeFileSync(join(work, 'TCC.db'), 'sqlite');
  const running = script('es-ok', 'setInterval(() => {}, 1000);');
  const r = endpointSecurityCheck(ctx(), mac({ esloggerPath: running }));
  assert.equal(r.status, 'ok');
  assert.match(r.detail, /eslogger can be an EndpointSecurity client \(client com\.daemoneye\.monitor; Darwin 23\.5\.0; Full Disk Access granted/);
  assert.match(r.detail, /not enabled/);
});

test('Linux-only checks on another OS say so instead of failing', () => {
  assert.deepEqual(linuxOnly({ name: 'procfs', status: 'fail', detail: 'cannot read /proc' }, 'darwin'), { name: 'procfs', status: 'ok', detail: 'not this platform (darwin): a Linux check' });
  assert.equal(linuxOnly({ name: 'store', status: 'fail', detail: 'x' }, 'darwin').status, 'fail');
  assert.equal(linuxOnly({ name: 'procfs', status: 'fail', detail: 'x' }, 'linux').status, 'fail');
});

test('`daemoneye doctor --format json` includes both checks', () => {
  const r = cli(['--data-dir', work, 'doctor', '--format', 'json']);
  const checks = JSON.parse(r.stdout) as { name: string; detail: string }[];
  assert.match(checks.find((c) => c.name === 'etw')?.detail ?? '', /not this platform \(linux\)/);
  assert.match(checks.find((c) => c.name === 'eslogger')?.detail ?? '', /not this platform \(linux\)/);
});
