// Doctor's capture checks against a fake /sys/class/net and the real addon's filter compiler.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureChecks, linktypeOf } from './doctor-checks.linux.ts';
import { PCAP_ADDON_PATH } from './native-pcap.ts';
import { defaultConfig } from '../../config/schema.ts';
import { LinkType } from './batch-format.ts';

const sysNet = mkdtempSync(join(tmpdir(), 'de-sysnet-'));
after(() => rmSync(sysNet, { recursive: true, force: true }));
function iface(name: string, type: number, state: string): void {
  mkdirSync(join(sysNet, name));
  writeFileSync(join(sysNet, name, 'type'), `${type}\n`);
  writeFileSync(join(sysNet, name, 'operstate'), `${state}\n`);
}
iface('eth7', 1, 'up');
iface('wg0', 65534, 'unknown');
iface('eth8', 1, 'down');

const base = defaultConfig().enterprise.network_monitoring;
const status = (r: ReturnType<typeof captureChecks>, name: string) => r.find((c) => c.name === name);

describe('doctor capture checks', { skip: existsSync(PCAP_ADDON_PATH) ? false : 'the pcap addon is not built' }, () => {
  it('says off when capture is off', () => {
    assert.deepEqual(captureChecks(base, { sysNet }).map((c) => [c.name, c.status]), [['packet_capture', 'ok']]);
  });

  it('maps interface types to link types', () => {
    assert.equal(linktypeOf('eth7', sysNet), LinkType.EN10MB);
    assert.equal(linktypeOf('wg0', sysNet), LinkType.RAW);
    assert.equal(linktypeOf('any', sysNet), LinkType.LINUX_SLL);
  });

  it('passes a good setup and fails a bad filter with its column', () => {
    const good = captureChecks({ ...base, enable_packet_capture: true, capture_interface: 'eth7', capture_filter: 'tcp port 443' }, { sysNet, uid: 0 });
    assert.deepEqual(good.map((c) => c.status), ['ok', 'ok', 'ok', 'ok']);
    const bad = captureChecks({ ...base, enable_packet_capture: true, capture_interface: 'eth7', capture_filter: 'tcp prot 443' }, { sysNet, uid: 0 });
    assert.equal(status(bad, 'capture_filter')?.status, 'fail');
    assert.match(status(bad, 'capture_filter')!.detail, /column 5 near 'prot'/);
  });

  it('checks the filter against the interface link type (ether on a raw-IP tunnel fails)', () => {
    const r = captureChecks({ ...base, enable_packet_capture: true, capture_interface: 'wg0', capture_filter: 'ether host 02:00:00:00:00:01' }, { sysNet, uid: 0 });
    assert.equal(status(r, 'capture_filter')?.status, 'fail');
  });

  it('fails a missing interface, warns a down one and an unprivileged user', () => {
    assert.equal(status(captureChecks({ ...base, enable_packet_capture: true, capture_interface: 'nope0' }, { sysNet, uid: 0 }), 'capture_interface')?.status, 'fail');
    const r = captureChecks({ ...base, enable_packet_capture: true, capture_interface: 'eth8' }, { sysNet, uid: 1000 });
    assert.equal(status(r, 'capture_interface')?.status, 'warn');
    assert.equal(status(r, 'capture_privileges')?.status, 'warn');
  });

  it('XDP on any is refused', () => {
    const r = captureChecks({ ...base, enable_packet_capture: true, capture_interface: 'any', flow_accounting: 'xdp' }, { sysNet, uid: 0 });
    assert.equal(status(r, 'xdp_flows')?.status, 'fail');
  });
});
