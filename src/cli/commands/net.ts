// `daemoneye net ...`: packet capture (net-capture.ts) and offline analysis of pcap/pcapng files.
import type { Command } from 'commander';
import { registerNetCapture } from './net-capture.ts';

export function registerNet(program: Command): void {
  const net = program.command('net').description('network monitoring: live capture and offline pcap/pcapng analysis');
  registerNetCapture(net);
}
