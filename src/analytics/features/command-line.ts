// Command-line features: length, character entropy and argument shape. Attack command lines carry
// encoded payloads (base64 blobs), download URLs and raw IP literals far more often than the daily
// command lines of a host; high entropy flags packed or random-looking strings.

/** Shannon entropy of the characters, in bits per character. */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
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
  let base64 = 0;
  for (const token of commandLine.split(/[\s'"=]+/)) {
    if (BASE64_TOKEN.test(token) && /[0-9]/.test(token) && /[a-z]/.test(token) && /[A-Z]/.test(token)) base64++;
  }
  const urls = commandLine.match(URL_RE)?.length ?? 0;
  // /dev/tcp/HOST/PORT is bash's socket syntax: count it with the IP literals (reverse shells use it).
  const ipLiterals = (commandLine.match(IPV4_RE)?.length ?? 0) + (commandLine.match(DEV_TCP_RE)?.length ?? 0);
  return { base64, urls, ipLiterals };
}
