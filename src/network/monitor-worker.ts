// The network monitor off the agent's main thread (ARCHITECTURE: intake never waits on SQLite):
// the main thread hands each packet batch here (transferred, not copied); this worker decodes,
// tracks flows, attributes and writes on its own store connection (WAL lets both write), and
// reports what it stored so the agent can run the network rules.
import { parentPort } from 'node:worker_threads';
import { openStoreForWriting } from '../store/open-store.ts';
import { NetworkMonitor, type NetworkCounters, type NetworkMonitorOptions } from './monitor.ts';
import type { StoredCounts } from './store-writer.ts';
import type { FlowCounter } from '../sources/pcap/flow-records.ts';

export type ToNetworkWorker =
  | { readonly type: 'open'; readonly dbPath: string; readonly options: NetworkMonitorOptions }
  | { readonly type: 'batch'; readonly linktype: number; readonly batch: Uint8Array }
  | { readonly type: 'flows'; readonly flows: FlowCounter[] }
  | { readonly type: 'close' };

export type FromNetworkWorker =
  | { readonly type: 'stored'; readonly counts: StoredCounts; readonly counters: NetworkCounters; readonly decodeErrors: Record<string, number>; readonly batchDone: boolean }
  | { readonly type: 'counters'; readonly counters: NetworkCounters; readonly decodeErrors: Record<string, number>; readonly batchDone: boolean }
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'closed' };

/** Idle flows and unanswered DNS queries are exported on this tick even when no packets arrive. */
const TICK_MS = 1_000;

const port = parentPort!;
let monitor: NetworkMonitor | null = null;
let close: (() => void) | null = null;
let ticker: NodeJS.Timeout | null = null;

/** `batchDone`: this report answers one 'batch' message (the main thread counts batches in flight). */
function report(counts: StoredCounts | null, batchDone: boolean): void {
  if (monitor === null) return;
  const counters = monitor.counters();
  const decodeErrors = monitor.decodeErrors();
  if (counts !== null) port.postMessage({ type: 'stored', counts, counters, decodeErrors, batchDone } satisfies FromNetworkWorker);
  else if (batchDone) port.postMessage({ type: 'counters', counters, decodeErrors, batchDone } satisfies FromNetworkWorker);
}

port.on('message', (m: ToNetworkWorker) => {
  try {
    if (m.type === 'open') {
      const db = openStoreForWriting(m.dbPath);
      monitor = new NetworkMonitor(db, m.options);
      close = () => db.close();
      ticker = setInterval(() => {
        try {
          report(monitor!.tick(), false);
        } catch (e) {
          port.postMessage({ type: 'error', message: (e as Error).message } satisfies FromNetworkWorker);
        }
      }, TICK_MS);
    } else if (m.type === 'batch') {
      try {
        report(monitor!.ingest({ linktype: m.linktype, data: Buffer.from(m.batch.buffer, m.batch.byteOffset, m.batch.byteLength) }), true);
      } catch (e) {
        port.postMessage({ type: 'counters', counters: monitor!.counters(), decodeErrors: monitor!.decodeErrors(), batchDone: true } satisfies FromNetworkWorker);
        throw e;
      }
    } else if (m.type === 'flows') {
      report(monitor!.mergeCounters(m.flows), false);
    } else if (m.type === 'close') {
      if (ticker !== null) clearInterval(ticker);
      if (monitor !== null) report(monitor.flush(), false);
      close?.();
      monitor = null;
      port.postMessage({ type: 'closed' } satisfies FromNetworkWorker);
    }
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).message } satisfies FromNetworkWorker);
  }
});
