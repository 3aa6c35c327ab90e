// capture_interface: null means the default route's interface: read from /proc/net tables.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultRouteInterface } from './default-interface.linux.ts';

const dir = mkdtempSync(join(tmpdir(), 'de-route-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const HEAD = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n';

describe('default route interface', () => {
  it('takes the IPv4 default route', () => {
    const d = join(dir, 'v4');
    mkdirSync(d);
    writeFileSync(join(d, 'route'), `${HEAD}ens3\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\nens4\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n`);
    assert.equal(defaultRouteInterface(d), 'ens4');
  });

  it('falls back to the IPv6 default route, then to any', () => {
    const d = join(dir, 'v6');
    mkdirSync(d);
    writeFileSync(join(d, 'route'), HEAD);
    writeFileSync(join(d, 'ipv6_route'), `${'0'.repeat(32)} 00 ${'0'.repeat(32)} 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003 wlan0\n`);
    assert.equal(defaultRouteInterface(d), 'wlan0');
    assert.equal(defaultRouteInterface(join(dir, 'missing')), 'any');
  });
});

