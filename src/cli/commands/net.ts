// `daemoneye net ...`: packet capture (net-capture.ts) and offline analysis of pcap/pcapng files.
import type { Command } from 'commander';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import { analyzeFile, type OfflineSummary, type Progress } from '../../network/offline-analysis.ts';
import { buildContext, type GlobalOptions } from '../context.ts';
import { registerNetCapture } from './net-capture.ts';

export function registerNet(program: Command): void {
  const net = program.command('net').description('network monitoring: live capture and offline pcap/pcapng analysis');
  registerNetCapture(net);
  registerNetRead(net);
}

interface ReadOptions {
  detect: boolean;
  top: string;
  keepHttpQuery?: boolean;
  format?: string;
  progress: boolean;
}

function bar(p: Progress, startedMs: number): string {
  const secs = Math.max(0.001, (Date.now() - startedMs) / 1000);
  const rate = `${Math.round(p.packets / secs).toLocaleString('en-US')} packets/s`;
  if (p.fileSize <= 0 || p.bytesRead < 0) return `${p.packets.toLocaleString('en-US')} packets, ${rate}`;
  const frac = Math.min(1, p.bytesRead / p.fileSize);
  const width = 30;
  const filled = Math.round(frac * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${p.packets.toLocaleString('en-US')} packets, ${rate}`;
}

function human(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

function printText(s: OfflineSummary, dataDir: string): void {
  const out: string[] = [];
  const when = s.firstPacket === null ? '' : `, ${new Date(s.firstPacket).toISOString()} .. ${new Date(s.lastPacket!).toISOString()}`;
  out.push(`${s.file}: ${s.format}, link type ${s.linktypeName ?? s.linktype}, ${s.packets.toLocaleString('en-US')} packets, ${human(s.bytes)}${when}`);
  out.push(`decoded in ${s.seconds.toFixed(2)} s (${s.packetsPerSecond.toLocaleString('en-US')} packets/s); stored ${s.rows.flows} flows, ${s.rows.dns} DNS queries, ${s.rows.tls} TLS handshakes, ${s.rows.http} HTTP requests in ${dataDir}`);
  const errs = Object.entries(s.decodeErrors);
  out.push(errs.length === 0 ? 'malformed packets: none' : `malformed packets: ${errs.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const section = (title: string, rows: string[]) => {
    out.push('', title);
    out.push(...(rows.length === 0 ? ['  (none)'] : rows.map((r) => `  ${r}`)));
  };
  section('Top talkers (bytes)', s.topTalkers.map((t) => `${t.address.padEnd(40)} ${human(t.bytes).padStart(9)}  ${t.packets} packets, ${t.flows} flows`));
  section('DNS names', s.dnsNames.map((d) => `${d.name.padEnd(50)} ${String(d.queries).padStart(6)}${d.nxdomain > 0 ? `  (${d.nxdomain} NXDOMAIN)` : ''}`));
  section('TLS servers', s.tlsServers.map((t) => `${t.server_name.padEnd(50)} ${String(t.handshakes).padStart(6)}  ${t.ja4s} JA4`));
  section('HTTP hosts', s.httpHosts.map((h) => `${h.host.padEnd(50)} ${String(h.requests).padStart(6)}`));
  section(`Alerts raised (${s.alerts.length})`, s.alerts.map((a) => `${a.severity.padEnd(8)} ${a.rule_id}  ${a.summary}`));
  for (const e of s.ruleErrors) out.push(`rule ${e.rule_id} ${e.status}: ${e.error}`);
  out.push('', `Query the rows: daemoneye --data-dir ${dataDir} query "SELECT * FROM dns_queries ORDER BY id DESC LIMIT 20"`);
  process.stdout.write(out.join('\n') + '\n');
}

function registerNetRead(net: Command): void {
  net
    .command('read')
    .description('analyse a pcap or pcapng file: decode, store flows/DNS/TLS/HTTP like live capture, run the network rules, summarise')
    .argument('<file>', 'capture file (pcap or pcapng, any link type libpcap reads: Ethernet, Linux cooked v1/v2, raw IP)')
    .option('--no-detect', 'store the rows but do not run the network rules')
    .option('--top <n>', 'rows per summary section', '10')
    .option('--keep-http-query', 'store HTTP targets with their query string (off: query strings often carry tokens)')
    .option('--no-progress', 'no progress bar on stderr')
    .option('-f, --format <format>', 'summary format: text | json')
    .addHelpText('after', `
The decoded rows go into the store of --data-dir (tables network_flows,
dns_queries, tls_handshakes, http_requests; capture_source = file:PATH), so
\`daemoneye query\` and the rules work on them as on live capture. Rows from a
file are not attributed to processes (attribution = none). Alerts raised by the
network rules are recorded in the store (\`daemoneye alerts list\`) and printed;
they are not sent to sinks. Payloads are never stored.

Examples:
  daemoneye net read capture.pcapng
  daemoneye --data-dir /tmp/case-42 net read incident.pcap --top 20
  daemoneye --data-dir /tmp/case-42 query "SELECT query_name, count(*) FROM dns_queries GROUP BY 1 ORDER BY 2 DESC"
  daemoneye net read big.pcap --format json --no-progress > summary.json`)
    .action(async (file: string, opts: ReadOptions, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOptions>();
      const format = opts.format ?? global.format ?? 'text';
      if (format !== 'text' && format !== 'json') throw new DaemonEyeError('DE_USAGE', `--format must be text or json, got '${format}'`);
      const top = Number(opts.top);
      if (!Number.isInteger(top) || top < 1) throw new DaemonEyeError('DE_USAGE', `--top must be a positive integer, got '${opts.top}'`);
      const ctx = buildContext(global);
      const tty = process.stderr.isTTY === true;
      const started = Date.now();
      let lastDecile = -1;
      const summary = await analyzeFile(file, {
        config: ctx.config, dataDir: ctx.dataDir, detect: opts.detect, top, keepHttpQuery: opts.keepHttpQuery === true,
        ...(opts.progress ? {
          onProgress: (p: Progress) => {
            // A terminal gets one bar redrawn in place; a log gets a line every 10 %.
            if (tty) process.stderr.write(`\r\x1b[K${bar(p, started)}`);
            else {
              const decile = p.fileSize > 0 ? Math.floor((p.bytesRead / p.fileSize) * 10) : -1;
              if (decile > lastDecile) {
                lastDecile = decile;
                process.stderr.write(`${bar(p, started)}\n`);
              }
            }
          },
        } : {}),
      });
      if (opts.progress && tty) process.stderr.write('\n');
      if (format === 'json') process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else printText(summary, ctx.dataDir);
    });
}
