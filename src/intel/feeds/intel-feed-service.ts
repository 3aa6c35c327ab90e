// The agent's periodic TAXII work: every sync_interval, sync every configured feed, then share
// unshared sightings when a share collection is configured. Runs on its own store connection
// (WAL: it never blocks the agent's writer for long, each page is one short transaction) and
// never throws into the agent: a failing feed is logged and recorded in intel_feeds.last_error.

import { setTimeout as sleep } from 'node:timers/promises';
import type { DaemonEyeConfig } from '../../config/schema.ts';
import type { Logger } from '../../agent/logger.ts';
import { openStoreForWriting, type Db } from '../../store/open-store.ts';
import { TaxiiClient } from '../taxii/taxii-client.ts';
import { configuredFeeds, transportFor, type FeedSpec } from './feed-spec.ts';
import { syncFeed, type SyncProgress, type SyncReport } from './feed-sync.ts';
import { IntelStore } from './intel-store.ts';
import { compileStixPattern } from './pattern-compiler.ts';
import { shareSightings, type ShareReport } from './share-sightings.ts';
import { shareAlerts } from './share-alerts.ts';

type StixTaxii = DaemonEyeConfig['enterprise']['stix_taxii'];

export interface RoundReport {
  readonly feeds: readonly SyncReport[];
  readonly share: SharedRound | null;
}

/** Syncs the given feeds (one after the other) into the store behind `db`. */
export async function syncFeeds(db: Db, feeds: readonly FeedSpec[], onProgress?: (p: SyncProgress) => void, signal?: AbortSignal): Promise<SyncReport[]> {
  const store = new IntelStore(db, compileStixPattern);
  const out: SyncReport[] = [];
  for (const feed of feeds) {
    if (signal?.aborted) break;
    const transport = transportFor(feed, signal === undefined ? {} : { signal });
    try {
      out.push(await syncFeed(store, new TaxiiClient(transport), feed, onProgress, signal));
    } finally {
      transport.close();
    }
  }
  return out;
}

export interface SharedRound {
  readonly sightings: ShareReport;
  /** null unless share.include_alerts. */
  readonly alerts: ShareReport | null;
}

/** Posts unshared sightings (and alerts, when asked) to the share collection; null when none is configured. */
export async function shareConfigured(db: Db, c: StixTaxii, signal?: AbortSignal): Promise<SharedRound | null> {
  const s = c.share;
  if (s === null) return null;
  const transport = transportFor({ auth: s.auth, tls: s.tls, timeoutMs: c.timeout_ms, maxResponseBytes: c.max_response_mb * 1024 * 1024 },
    signal === undefined ? {} : { signal });
  try {
    const client = new TaxiiClient(transport);
    const target = { url: s.url, collectionId: s.collection_id, includeObservedData: s.include_observed_data, batchSize: s.batch_size };
    const sightings = await shareSightings(db, client, target);
    const alerts = s.include_alerts && !signal?.aborted ? await shareAlerts(db, client, target, s.alerts_min_severity) : null;
    return { sightings, alerts };
  } finally {
    transport.close();
  }
}

export class IntelFeedService {
  readonly #config: StixTaxii;
  readonly #dbPath: string;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  #loop: Promise<void> | null = null;
  #db: Db | null = null;

  constructor(config: DaemonEyeConfig, dbPath: string, log: Logger) {
    this.#config = config.enterprise.stix_taxii;
    this.#dbPath = dbPath;
    this.#log = log;
  }

  /** Whether the config asks for periodic sync at all. */
  get enabled(): boolean {
    return this.#config.enable_integration && (configuredFeeds(this.#config).length > 0 || this.#config.share !== null);
  }

  start(): void {
    if (!this.enabled || this.#loop !== null) return;
    this.#db = openStoreForWriting(this.#dbPath);
    const signal = this.#abort.signal;
    this.#loop = (async () => {
      while (!signal.aborted) {
        await this.runOnce().catch((e: unknown) => this.#log.error('threat intel round failed', { reason: (e as Error).message }));
        await sleep(this.#config.sync_interval * 1000, undefined, { signal }).catch(() => {});
      }
    })();
  }

  /** One round: every feed, then sharing. */
  async runOnce(): Promise<RoundReport> {
    this.#db ??= openStoreForWriting(this.#dbPath);
    const signal = this.#abort.signal;
    const feeds = await syncFeeds(this.#db, configuredFeeds(this.#config), undefined, signal);
    for (const r of feeds) {
      const fields = { feed: r.feed, objects: r.objects, added: r.added, replaced: r.replaced, revoked: r.revoked, rejected: r.rejected.length };
      if (r.error !== null) this.#log.warn('TAXII feed sync stopped', { ...fields, code: r.error.code, reason: r.error.message });
      else this.#log.info('TAXII feed synced', fields);
    }
    const share = signal.aborted ? null : await shareConfigured(this.#db, this.#config, signal).catch((e: unknown) => {
      this.#log.warn('sharing sightings failed', { reason: (e as Error).message });
      return null;
    });
    for (const [what, r] of [['sightings', share?.sightings], ['alerts', share?.alerts]] as const) {
      if (r === undefined || r === null || r.attempted === 0) continue;
      this.#log.info(`${what} shared`, { shared: r.shared, failed: r.failed, pending: r.pending, ...(r.error ? { code: r.error.code } : {}) });
    }
    return { feeds, share };
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    this.#loop = null;
    this.#db?.close();
    this.#db = null;
  }
}
