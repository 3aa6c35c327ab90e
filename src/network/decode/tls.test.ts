// JA4 against published vectors: Wireshark's own JA4 / JA4_r and JA3 Fullstring output for four
// real ClientHellos (Wireshark 4.2+ computes JA4; the tshark on this machine is older, so the
// vectors are quoted here). The cipher and extension lists come from the JA3 full string (wire
// order, GREASE already removed), signature algorithms from JA4_r.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGrease, ja4 } from './tls.ts';

interface Vector { ja4: string; ja3Full: string; sigs: string; alpn: string[] }

const VECTORS: Vector[] = [
  { ja4: 't13d1516h2_8daaf6152771_d8a2da3f94cd', alpn: ['h2', 'http/1.1'],
    ja3Full: '771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,5-23-11-13-18-65037-51-10-45-65281-0-43-35-27-16-17613,4588-29-23-24,0',
    sigs: '0403,0804,0401,0503,0805,0501,0806,0601' },
  { ja4: 't13d2013h1_2b729b4bf6f3_e24568c0d440', alpn: ['http/1.1'],
    ja3Full: '771,4866-4865-49196-49195-49200-49199-49188-49187-49192-49191-49162-49161-49172-49171-157-156-61-60-53-47,0-5-43-13-35-10-11-16-51-49-23-65281-45,29-23-24,0',
    sigs: '0804,0805,0806,0401,0501,0201,0403,0503,0203,0202,0601,0603' },
  { ja4: 't13d041000_16476d049b0b_78f1d400d464', alpn: [],
    ja3Full: '771,4866-4867-4865-255,0-11-10-35-22-23-13-43-45-51,29-23-30-25-24,0-1-2',
    sigs: '0403,0503,0603,0807,0808,0809,080a,080b,0804,0805,0806,0401,0501,0601' },
  { ja4: 't13d1710h2_5b57614c22b0_1b18b669d02d', alpn: ['h2', 'http/1.1'],
    ja3Full: '771,4865-4867-4866-49195-49199-52393-52392-49196-49200-49162-49161-49171-49172-156-157-47-53,0-10-11-13-16-23-43-51-65281-45,29-23-24,0',
    sigs: '0403,0503,0804,0805,0806,0401,0501,0601,0203,0201' },
];

test('JA4 matches Wireshark on published ClientHellos', () => {
  for (const v of VECTORS) {
    const [, ciphers, exts] = v.ja3Full.split(',');
    const extensions = exts!.split('-').map(Number);
    const got = ja4({
      maxVersion: 0x0304, serverName: extensions.includes(0) ? 'x' : null, alpn: v.alpn,
      ciphers: ciphers!.split('-').map(Number), extensions, signatureAlgorithms: v.sigs.split(',').map((h) => parseInt(h, 16)),
    }, 't');
    assert.equal(got, v.ja4);
  }
});

test('GREASE values are ignored in JA4 counts and hashes', () => {
  const base = { maxVersion: 0x0304, serverName: null, alpn: ['h2'], ciphers: [0x1301, 0x1302], extensions: [0x000a, 0x0010], signatureAlgorithms: [0x0403] };
  const greased = { ...base, ciphers: [0x0a0a, 0x1301, 0x1302], extensions: [0x2a2a, 0x000a, 0x0010, 0xfafa] };
  assert.equal(ja4(greased, 't'), ja4(base, 't'));
  assert.ok(isGrease(0xdada) && !isGrease(0x0a0b) && !isGrease(0x1301));
});

test('JA4 ALPN: non-alphanumeric first/last characters use the hex digits; no ciphers or extensions hash to zeros', () => {
  const h = { maxVersion: 0x0303, serverName: null, alpn: ['\u00ab\u00cd'], ciphers: [], extensions: [], signatureAlgorithms: [] };
  assert.equal(ja4(h, 't'), 't12i0000ad_000000000000_000000000000');
});
