// Command-line features: length, character entropy and argument shape. Attack command lines carry
// encoded payloads (base64 blobs), download URLs and raw IP literals far more often than the daily
// command lines of a host; high entropy flags packed or random-looking strings.

/** Character counts of the current string; reused because scoring runs this 10,000 times a pass. */
const COUNTS = new Uint32Array(65536);

/** Shannon entropy of the characters (UTF-16 code units), in bits per character. */
export function shannonEntropy(s: string): number {
  const n = s.length;
  if (n === 0) return 0;
  for (let i = 0; i < n; i++) COUNTS[s.charCodeAt(i)]!++;
  let h = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const k = COUNTS[c]!;
    if (k === 0) continue; // already counted
    const p = k / n;
    h -= p * Math.log2(p);
    COUNTS[c] = 0;
  }
  return h;
}

// A base64 blob: 20+ characters of the alphabet with at least one digit or mixed case, optionally padded.
const BASE64_TOKEN = /^[A-Za-z0-9+/]{20,}={0,2}$/;
const URL_RE = /\b(?:https?|ftp|tftp|wss?):\/\/[^\s'"]+/gi;
const IPV4_RE = /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])/g;
const DEV_TCP_RE = /\/dev\/(?:tcp|udp)\//g;

export interface ArgumentShape {
  readonly base64: number;
  readonly urls: number;
  readonly ipLiterals: number;
}

export function argumentShape(commandLine: string): ArgumentShape {
  // Cheap prefilters first: most command lines have no URL, no dotted quad and no long token.
  let base64 = 0;
  if (commandLine.length >= 20) {
    for (const token of commandLine.split(/[\s'"=]+/)) {
      if (token.length >= 20 && BASE64_TOKEN.test(token) && /[0-9]/.test(token) && /[a-z]/.test(token) && /[A-Z]/.test(token)) base64++;
    }
  }
  const urls = commandLine.includes('://') ? commandLine.match(URL_RE)?.length ?? 0 : 0;
  // /dev/tcp/HOST/PORT is bash's socket syntax: count it with the IP literals (reverse shells use it).
  const ipLiterals = (/\d\.\d/.test(commandLine) ? commandLine.match(IPV4_RE)?.length ?? 0 : 0)
    + (commandLine.includes('/dev/') ? commandLine.match(DEV_TCP_RE)?.length ?? 0 : 0);
  return { base64, urls, ipLiterals };
}
