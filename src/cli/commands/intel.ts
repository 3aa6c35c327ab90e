// `daemoneye intel ...`: STIX 2.1 patterns (validate, match) and TAXII 2.1 feeds (intel-feeds.ts).
import type { Command } from 'commander';
import { registerIntelFeeds } from './intel-feeds.ts';

export function registerIntel(program: Command): void {
  const intel = program.command('intel').description('threat intelligence: STIX 2.1 patterns and TAXII 2.1 feeds');
  registerIntelFeeds(intel);
}
