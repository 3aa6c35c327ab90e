// The configured feeds (the single-feed form plus `feeds`), resolved into what a sync needs, and a
// transport per feed with its credentials and TLS files loaded.

import { readFileSync } from 'node:fs';
import type { DaemonEyeConfig } from '../../config/schema.ts';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import { TaxiiTransport, type TaxiiAuth, type TransportOptions } from '../taxii/http-transport.ts';
import type { TaxiiAuthConfig, TaxiiTlsConfig } from './feed-config-schema.ts';

type StixTaxii = DaemonEyeConfig['enterprise']['stix_taxii'];

export interface FeedSpec {
  readonly name: string;
  /** The API root URL. */
  readonly url: string;
  readonly collectionId: string;
  readonly auth: TaxiiAuthConfig | null;
  readonly tls: TaxiiTlsConfig | null;
  readonly types: readonly string[];
  readonly pageSize: number;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
}

/** The name the single-feed form (taxii_endpoint + collection_id) goes by. */
export const DEFAULT_FEED = 'default';

export function configuredFeeds(c: StixTaxii): FeedSpec[] {
  const common = { pageSize: c.page_size, timeoutMs: c.timeout_ms, maxResponseBytes: c.max_response_mb * 1024 * 1024 };
  const out: FeedSpec[] = [];
  if (c.taxii_endpoint !== null && c.collection_id !== null) {
    out.push({ name: DEFAULT_FEED, url: c.taxii_endpoint, collectionId: c.collection_id, auth: c.auth, tls: c.tls, types: ['indicator'], ...common });
  }
  for (const f of c.feeds) {
    if (!f.enabled) continue;
    out.push({
      name: f.name, url: f.url, collectionId: f.collection_id, auth: f.auth, tls: f.tls, types: f.types,
      ...common, pageSize: f.page_size ?? c.page_size, timeoutMs: f.timeout_ms ?? c.timeout_ms,
    });
  }
  return out;
}

/** The feeds to sync: all of them, or the one named (DE_INTEL_FEED_UNKNOWN otherwise). */
export function selectFeeds(c: StixTaxii, name?: string): FeedSpec[] {
  const all = configuredFeeds(c);
  if (all.length === 0) throw new DaemonEyeError('DE_INTEL_NO_FEEDS');
  if (name === undefined) return all;
  const one = all.filter((f) => f.name === name);
  if (one.length === 0) throw new DaemonEyeError('DE_INTEL_FEED_UNKNOWN', `no feed named "${name}" (configured: ${all.map((f) => f.name).join(', ')})`);
  return one;
}

export function transportAuth(a: TaxiiAuthConfig | null): TaxiiAuth | null {
  if (a === null) return null;
  if (a.type === 'basic') return { type: 'basic', username: a.username!, password: a.password!.reveal() };
  if (a.type === 'bearer') return { type: 'bearer', token: a.token!.reveal() };
  return { type: 'api_key', header: a.header ?? 'X-API-Key', value: a.api_key!.reveal() };
}

function readTlsFile(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new DaemonEyeError('DE_INTEL_TLS_FILE', `tls.${key} ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** A transport carrying the feed's (or share block's) credentials and TLS material. */
export function transportFor(target: { auth: TaxiiAuthConfig | null; tls: TaxiiTlsConfig | null; timeoutMs: number; maxResponseBytes: number },
  extra: Partial<TransportOptions> = {}): TaxiiTransport {
  const t = target.tls;
  return new TaxiiTransport({
    auth: transportAuth(target.auth), timeoutMs: target.timeoutMs, maxResponseBytes: target.maxResponseBytes,
    ...(t?.ca_file === undefined ? {} : { ca: readTlsFile(t.ca_file, 'ca_file') }),
    ...(t?.cert_file === undefined ? {} : { cert: readTlsFile(t.cert_file, 'cert_file') }),
    ...(t?.key_file === undefined ? {} : { key: readTlsFile(t.key_file, 'key_file') }),
    ...extra,
  });
}
