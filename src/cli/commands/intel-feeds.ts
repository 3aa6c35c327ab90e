// `daemoneye intel sync|list`: TAXII 2.1 feeds.
import type { Command } from 'commander';

export function registerIntelFeeds(_intel: Command): void {
}
