// `daemoneye net capture`: live capture through libpcap.
import type { Command } from 'commander';

export function registerNetCapture(_net: Command): void {
}
