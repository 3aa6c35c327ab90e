// The filter error locator against libpcap's real compiler (a dead handle: no privileges needed).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { LinkType } from './batch-format.ts';
import { checkCaptureFilter } from './filter-check.ts';
import { PCAP_ADDON_PATH } from './native-pcap.ts';
import { isDaemonEyeError } from '../../errors/catalogue.ts';

const skip = existsSync(PCAP_ADDON_PATH) ? false : 'the pcap addon is not built (npm run build:native)';

function located(filter: string, linktype: number = LinkType.EN10MB): { column: number; token: string; message: string } {
  try {
    checkCaptureFilter(filter, linktype);
  } catch (e) {
    assert.ok(isDaemonEyeError(e, 'DE_PCAP_FILTER'), String(e));
    const { column, token } = e as unknown as { column: number; token: string };
    return { column, token, message: e.message };
  }
  assert.fail(`'${filter}' compiled`);
}

describe('capture filter errors', { skip }, () => {
  it('accepts valid filters', () => {
    for (const f of ['', 'udp port 53', 'tcp port 443 or udp port 53', 'not (host 192.0.2.7 and tcp)', 'tcp[tcpflags] & tcp-syn != 0', 'ip6 and udp', 'vlan and udp']) {
      assert.doesNotThrow(() => checkCaptureFilter(f), f);
    }
  });

  it('points at the token a syntax error starts at', () => {
    assert.deepEqual({ ...located('tcp port 80 adn udp'), message: '' }, { column: 13, token: 'adn', message: '' });
    assert.equal(located('udp and and tcp').column, 9);
    assert.equal(located('tcp port 443 or or').token, 'or');
    assert.equal(located('host 192.0.2.1 )').token, ')');
  });

  it('names the value of a semantic error', () => {
    const port = located('tcp port 99999');
    assert.equal(port.token, '99999');
    assert.match(port.message, /99999 > 65535 at column 10/);
    assert.equal(located('tcp and ether proto nosuchproto').token, 'nosuchproto');
  });

  it('says the expression ends too early and shows a caret', () => {
    const e = located('udp and (port 53');
    assert.equal(e.token, '');
    assert.match(e.message, /at the end of the expression\n {4}udp and \(port 53\n {4} {16}\^/);
  });

  it('checks against the capture link type', () => {
    assert.doesNotThrow(() => checkCaptureFilter('ether host 02:00:00:00:00:01', LinkType.EN10MB));
    assert.match(located('ether host 02:00:00:00:00:01', LinkType.RAW).message, /ether/i);
  });

  it('never throws anything but DE_PCAP_FILTER on hostile expressions', () => {
    let seed = 7;
    const words = ['tcp', 'udp', 'port', 'host', 'and', 'or', 'not', '(', ')', '[', ']', '53', '0x1f', '&', '=', '!=', 'ip[0]', 'ether', 'proto', 'vlan', '\u0000', '%', 'src', 'dst', 'net', '10/8', '"'];
    for (let i = 0; i < 300; i++) {
      const parts: string[] = [];
      for (let k = 0; k < 1 + (i % 7); k++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        parts.push(words[seed % words.length]!);
      }
      const f = parts.join(' ');
      try {
        checkCaptureFilter(f);
      } catch (e) {
        assert.ok(isDaemonEyeError(e, 'DE_PCAP_FILTER'), `${JSON.stringify(f)}: ${String(e)}`);
        const col = (e as unknown as { column: number }).column;
        assert.ok(col >= 1 && col <= f.length + 1, `${JSON.stringify(f)} column ${col}`);
      }
    }
  });
});
