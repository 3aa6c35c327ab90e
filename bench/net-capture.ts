// Packet capture benchmark, beside `tcpdump -w /dev/null` on the same traffic in the same run.
//
//   1. ~125,000 pps of UDP on loopback for 4 s: packets delivered and dropped by our capture
//      (collector process: libpcap on a worker thread, batches forwarded over the packet socket)
//      and the agent side (CollectorPacketSource, plus src/network's PacketAnalyzer decoding and
//      flow tracking when it is present), and by tcpdump capturing the same packets at once.
//   2. 15,000 pps for 10 s (a busy web server): CPU of collector + agent, as % of one core.
//   3. XDP flow accounting at ~125,000 pps: packets counted in kernel flows, CPU of collector + agent.
//
// Traffic comes from a small C sender (sendmmsg, paced) compiled at start; its own CPU is not
// counted. A bound, never-read UDP socket receives the datagrams so the kernel sends no ICMP
// port-unreachable replies that would add packets to the capture.
// Needs root (capture on lo) and cc. Prints, never asserts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLOCK_TICKS_PER_SECOND, fmt, processCpuTicks } from './bench-utils.ts';
import { CollectorPacketSource } from '../src/sources/pcap/collector-packet-source.ts';
import { forEachPacket, type PacketBatch } from '../src/sources/pcap/batch-format.ts';
import { PCAP_ADDON_PATH } from '../src/sources/pcap/native-pcap.ts';
import { CONTENT_FILTER } from '../src/sources/pcap/content-filter.ts';
import { XDP_ADDON_PATH } from '../src/sources/pcap/xdp-flow-accounting.ts';

const SENDER_C = String.raw`
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
/* udpgen PORT PPS TOTAL PAYLOAD: paced UDP to 127.0.0.1:PORT; prints what was sent. */
int main(int argc, char **argv) {
  int port = atoi(argv[1]); double pps = atof(argv[2]); long total = atol(argv[3]); int size = atoi(argv[4]);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  int rx = socket(AF_INET, SOCK_DGRAM, 0), small = 4096;
  setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  if (bind(rx, (struct sockaddr *)&a, sizeof(a)) != 0) { perror("bind"); return 1; }
  int tx = socket(AF_INET, SOCK_DGRAM, 0);
  if (connect(tx, (struct sockaddr *)&a, sizeof(a)) != 0) { perror("connect"); return 1; }
  static char payload[65536]; memset(payload, 'x', sizeof(payload));
  struct iovec iov = { payload, (size_t)size };
  struct mmsghdr m[64]; memset(m, 0, sizeof(m));
  for (int i = 0; i < 64; i++) { m[i].msg_hdr.msg_iov = &iov; m[i].msg_hdr.msg_iovlen = 1; }
  struct timespec t0, now, nap = { 0, 200000 };
  clock_gettime(CLOCK_MONOTONIC, &t0);
  long sent = 0;
  while (sent < total) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    double el = (now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9;
    long due = (long)(el * pps); if (due > total) due = total;
    while (sent < due) {
      int n = due - sent > 64 ? 64 : (int)(due - sent);
      int k = sendmmsg(tx, m, n, 0);
      if (k > 0) sent += k; else if (errno != ENOBUFS && errno != EAGAIN && errno != ECONNREFUSED) { perror("sendmmsg"); return 1; }
    }
    nanosleep(&nap, NULL);
  }
  clock_gettime(CLOCK_MONOTONIC, &now);
  printf("%ld %.3f\n", sent, (now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9);
  return 0;
}
`;

// The collector's packet side in a process of its own, as `daemoneye collector --capture` runs it.
const COLLECTOR_CHILD = `
import { CollectorCapture } from ${JSON.stringify(new URL('../src/sources/pcap/collector-capture.ts', import.meta.url).href)};
import { silentLogger } from ${JSON.stringify(new URL('../src/agent/logger.ts', import.meta.url).href)};
const [socketPath, filter, flowAccounting] = process.argv.slice(-3);
const c = await CollectorCapture.start({ interface: 'lo', filter, snaplen: 1500, bufferMb: 100, flowAccounting, socketPath }, silentLogger);
process.stdout.write('ready\\n');
process.once('SIGTERM', async () => { await c.stop(); process.exit(0); });
`;

interface Run {
  sent: number;
  seconds: number;
  ours: { delivered: number; decoded: number; droppedKernel: number; forwardDropped: number; collectorCpu: number; agentCpu: number; flowPackets: number };
  tcpdump: { captured: number; received: number; dropped: number; cpu: number } | null;
}

const tcpdumpAvailable = spawnSync('tcpdump', ['--version'], { stdio: 'ignore' }).status === 0;

async function startCollector(socketPath: string, filter: string, flowAccounting: 'off' | 'xdp'): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', COLLECTOR_CHILD, '--', socketPath, filter, flowAccounting], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`collector child exited ${code}`)));
  });
  return child;
}

async function startTcpdump(filter: string): Promise<{ child: ChildProcess; stderr: () => string }> {
  const child = spawn('tcpdump', ['-i', 'lo', '-w', '/dev/null', filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d));
  for (let i = 0; i < 100 && !err.includes('listening on'); i++) await sleep(50);
  return { child, stderr: () => err };
}

async function analyzerFor(): Promise<((b: PacketBatch) => number) | null> {
  const path = new URL('../src/network/analyzer.ts', import.meta.url);
  if (!existsSync(path)) return null;
  const { PacketAnalyzer } = (await import(path.href)) as { PacketAnalyzer: new () => { ingest(b: PacketBatch): void; drain(): unknown; counters: { packets: number } } };
  const a = new PacketAnalyzer();
  return (b) => {
    a.ingest(b);
    a.drain();
    return a.counters.packets;
  };
}

async function run(dir: string, sender: string, port: number, pps: number, seconds: number, withTcpdump: boolean, decode: boolean, xdp = false): Promise<Run> {
  // XDP mode captures only content worth decoding (not these datagrams) and counts everything in the kernel.
  const filter = xdp ? CONTENT_FILTER : `udp dst port ${port}`;
  const socketPath = join(dir, `net-${port}.sock`);
  const collector = await startCollector(socketPath, filter, xdp ? 'xdp' : 'off');
  const flowPackets = new Map<string, number>();
  const analyze = decode ? await analyzerFor() : null;
  let delivered = 0;
  let decoded = 0;
  const source = new CollectorPacketSource(socketPath, {
    onBatch: (b) => {
      delivered += forEachPacket(b.data, () => {}).packets;
      if (analyze !== null) decoded = analyze(b);
    },
    onFlows: (flows) => {
      for (const f of flows) if (f.dstPort === port && f.protocol === 17) flowPackets.set(`${f.srcAddr}:${f.srcPort}`, f.packets);
    },
  });
  await source.start();
  const tcpdump = withTcpdump && tcpdumpAvailable ? await startTcpdump(filter) : null;
  const c0 = processCpuTicks(collector.pid!) ?? 0;
  const t0 = tcpdump === null ? 0 : processCpuTicks(tcpdump.child.pid!) ?? 0;
  const a0 = process.cpuUsage();
  const gen = spawnSync(sender, [String(port), String(pps), String(Math.round(pps * seconds)), '100'], { encoding: 'utf8' });
  if (gen.status !== 0) throw new Error(`sender failed: ${gen.stderr}`);
  const [sent, took] = gen.stdout.trim().split(' ').map(Number) as [number, number];
  // Let the last kernel block time out and the last batch cross.
  for (let i = 0; i < 40 && delivered < sent && !xdp; i++) await sleep(50);
  await sleep(xdp ? 1500 : 300); // XDP flows are read once a second
  const a1 = process.cpuUsage(a0);
  const c1 = processCpuTicks(collector.pid!) ?? 0;
  let td: Run['tcpdump'] = null;
  if (tcpdump !== null) {
    // tcpdump's block timeout is 1 s: give its last part-filled block time to reach it.
    await sleep(1200);
    const t1 = processCpuTicks(tcpdump.child.pid!) ?? 0;
    tcpdump.child.kill('SIGINT');
    await new Promise((r) => tcpdump.child.once('exit', r));
    const err = tcpdump.stderr();
    td = {
      captured: Number(/(\d+) packets? captured/.exec(err)?.[1] ?? NaN),
      received: Number(/(\d+) packets? received by filter/.exec(err)?.[1] ?? NaN),
      dropped: Number(/(\d+) packets? dropped by kernel/.exec(err)?.[1] ?? NaN),
      cpu: (t1 - t0) / CLOCK_TICKS_PER_SECOND,
    };
  }
  const stats = source.captureStats();
  await source.stop();
  collector.kill('SIGTERM');
  await new Promise((r) => collector.once('exit', r));
  return {
    sent, seconds: took,
    ours: {
      delivered, decoded,
      droppedKernel: stats['pcap_dropped_kernel'] ?? NaN,
      forwardDropped: stats['batches_dropped'] ?? 0,
      collectorCpu: (c1 - c0) / CLOCK_TICKS_PER_SECOND,
      agentCpu: (a1.user + a1.system) / 1e6,
      flowPackets: [...flowPackets.values()].reduce((a, b) => a + b, 0),
    },
    tcpdump: td,
  };
}

async function main(): Promise<void> {
  console.log('== net capture: libpcap on a worker thread -> collector -> packet socket -> agent ==');
  if (process.getuid?.() !== 0) return console.log('skipped: needs root (packet capture on lo)');
  if (!existsSync(PCAP_ADDON_PATH)) return console.log('skipped: the pcap addon is not built (npm run build:native)');
  const dir = mkdtempSync(join(tmpdir(), 'de-bench-net-'));
  try {
    const sender = join(dir, 'udpgen');
    writeFileSync(`${sender}.c`, SENDER_C);
    const cc = spawnSync('cc', ['-O2', '-o', sender, `${sender}.c`], { encoding: 'utf8' });
    if (cc.status !== 0) return console.log(`skipped: cannot compile the traffic generator: ${cc.stderr}`);
    const decoder = existsSync(new URL('../src/network/analyzer.ts', import.meta.url));
    console.log(decoder ? 'agent side: forEachPacket + src/network PacketAnalyzer (decode + flow table) on every batch'
      : 'agent side: capture only (src/network/analyzer.ts not present: no decoding measured)');

    const fast = await run(dir, sender, 40001, 125_000, 4, true, true);
    const pct = (cpu: number, s: number): string => `${fmt((cpu / s) * 100)} %`;
    console.log(`\n~125,000 pps on loopback for 4 s: sent ${fast.sent} UDP packets in ${fmt(fast.seconds, 2)} s (${Math.round(fast.sent / fast.seconds)} pps)`);
    console.log(`  daemoneye  delivered ${fast.ours.delivered} (${fmt((fast.ours.delivered / fast.sent) * 100, 2)} %), dropped by kernel ${fast.ours.droppedKernel}, batches dropped forwarding ${fast.ours.forwardDropped}${decoder ? `, decoded ${fast.ours.decoded}` : ''}`);
    console.log(`             CPU collector ${fmt(fast.ours.collectorCpu, 2)} s (${pct(fast.ours.collectorCpu, fast.seconds)}), agent ${fmt(fast.ours.agentCpu, 2)} s (${pct(fast.ours.agentCpu, fast.seconds)})`);
    if (fast.tcpdump !== null) {
      console.log(`  tcpdump    captured ${fast.tcpdump.captured} (${fmt((fast.tcpdump.captured / fast.sent) * 100, 2)} %), received by filter ${fast.tcpdump.received}, dropped by kernel ${fast.tcpdump.dropped}, CPU ${fmt(fast.tcpdump.cpu, 2)} s (${pct(fast.tcpdump.cpu, fast.seconds)})  [-w /dev/null, same packets, same run]`);
    } else console.log('  tcpdump    not installed: no comparison');

    const busy = await run(dir, sender, 40002, 15_000, 10, true, true);
    const both = busy.ours.collectorCpu + busy.ours.agentCpu;
    console.log(`\n15,000 pps for 10 s (busy web server): sent ${busy.sent}, delivered ${busy.ours.delivered}, dropped ${busy.ours.droppedKernel}`);
    console.log(`  CPU collector + agent: ${fmt((both / busy.seconds) * 100, 2)} % of one core (collector ${pct(busy.ours.collectorCpu, busy.seconds)}, agent ${pct(busy.ours.agentCpu, busy.seconds)}); target < 2 %, product docs 5-10 %`);
    if (busy.tcpdump !== null) console.log(`  tcpdump -w /dev/null on the same traffic: ${pct(busy.tcpdump.cpu, busy.seconds)}`);

    if (!existsSync(XDP_ADDON_PATH)) console.log('\nXDP flow accounting: skipped (addon not built)');
    else {
      const x = await run(dir, sender, 40003, 125_000, 4, false, true, true);
      console.log(`\nXDP flow accounting at ~125,000 pps (flow_accounting: xdp, content filter): sent ${x.sent} in ${fmt(x.seconds, 2)} s (${Math.round(x.sent / x.seconds)} pps)`);
      console.log(`  counted in kernel flows: ${x.ours.flowPackets} packets (lo: XDP counts each on receive and TC egress on send, so 2 x sent = ${2 * x.sent}); the bulk datagrams stayed in the kernel; packets the content filter passed to user space: ${x.ours.delivered} (handshakes/heads of other traffic on lo)`);
      console.log(`  CPU collector ${pct(x.ours.collectorCpu, x.seconds)}, agent ${pct(x.ours.agentCpu, x.seconds)} (full capture above: ${pct(fast.ours.collectorCpu + fast.ours.agentCpu, fast.seconds)})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
