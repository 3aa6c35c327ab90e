// The capture filter used with XDP flow accounting when capture_filter is not set: XDP counts
// every packet in the kernel, so user space only needs the packets whose CONTENT is decoded -
// DNS, TCP handshakes and teardowns (attribution, flow state), and the first bytes of TLS
// handshakes, HTTP/1.x requests and responses and SSH banners on ANY port (recognised by content,
// not port: the decoders do the same). Everything else (bulk payload) never leaves the kernel.

const METHODS = ['GET ', 'POST', 'PUT ', 'HEAD', 'DELE', 'OPTI', 'PATC', 'CONN', 'HTTP', 'SSH-'];
const hex4 = (s: string): string => `0x${Buffer.from(s, 'latin1').toString('hex')}`;

// IPv4: the TCP payload starts at the data offset; IPv6 (no extension headers): after 40 bytes.
const V4_PAYLOAD = '((tcp[12:1] & 0xf0) >> 2)';
const V6_PAYLOAD = '40 + ((ip6[52] & 0xf0) >> 2)';

export const CONTENT_FILTER = [
  'port 53',
  'tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0',
  `tcp[${V4_PAYLOAD}:1] = 0x16`,
  ...METHODS.map((m) => `tcp[${V4_PAYLOAD}:4] = ${hex4(m)}`),
  '(ip6[6] = 6 and ip6[53] & 0x07 != 0)',
  `(ip6[6] = 6 and ip6[${V6_PAYLOAD}] = 0x16)`,
  ...METHODS.map((m) => `(ip6[6] = 6 and ip6[${V6_PAYLOAD}:4] = ${hex4(m)})`),
].join(' or ');
