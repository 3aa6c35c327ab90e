// Kernel event intake off the agent's main thread: this worker owns the collector socket, decodes
// each batch, follows it with the live process tree for ancestry, and stores it in one transaction
// on its own connection (WAL lets both threads write). The main thread never sees a batch, only a
// folded "stored" report to run kernel rules on: at thousands of events a second, handing every
// batch across threads cost as much as storing it. Intake never waits on the main thread's
// detection or delivery; while a transaction runs, frames wait in the socket and the collector's
// bounded queue, whose drops are counted.
import { parentPort } from 'node:worker_threads';
import { CollectorClient } from '../collector/collector-client.ts';
import type { SensorLayer } from '../collector/protocol.ts';
import { ProcessTree } from '../normalize/process-tree.ts';
import type { ProcessSnapshot } from '../normalize/process-snapshot.ts';
import { createBootClock, type BootClock } from '../sources/ebpf/boot-clock.ts';
import { decodeBatch } from '../sources/ebpf/records.ts';
import type { ForkEvent, KernelEvent, SecurityEvent } from '../normalize/kernel-event.ts';
import { CgroupResolver } from '../sources/ebpf/cgroup-resolver.linux.ts';
import { ListenerAttribution } from '../sources/ebpf/listener-attribution.linux.ts';
import { KernelEventWriter } from '../store/kernel-event-writer.ts';
import { openStoreForWriting } from '../store/open-store.ts';

export type ToWorker =
  | { readonly type: 'open'; readonly dbPath: string }
  | { readonly type: 'connect'; readonly socketPath: string }
  | { readonly type: 'seed'; readonly processes: readonly Pick<ProcessSnapshot, 'pid' | 'ppid' | 'name' | 'executable_path'>[] }
  | { readonly type: 'close' };

export type FromWorker =
  | { readonly type: 'stored'; readonly events: number; readonly decodeErrors: number; readonly batches: number }
  | { readonly type: 'connected'; readonly collectorPid: number; readonly sensor: SensorLayer }
  | { readonly type: 'connect_failed'; readonly message: string }
  | { readonly type: 'disconnected'; readonly reason: string }
  | { readonly type: 'stats'; readonly stats: Record<string, number> }
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'closed' };

const port = parentPort!;
const tree = new ProcessTree();
let writer: KernelEventWriter | null = null;
let close: (() => void) | null = null;
let clock: BootClock = createBootClock(0n, 0);
const cgroups = new CgroupResolver();
const listeners = new ListenerAttribution();
const client = new CollectorClient();
/**
 * Listeners older than the stream are read from /proc once per connection; later ones arrive as
 * listen events. The walk reads every fd of every process (12 ms on this 450-fd VM, seconds on a
 * server with 100,000 fds), so repeating it at every scan was work for nothing.
 */
let listenersSeeded = false;

async function connect(socketPath: string): Promise<void> {
  listenersSeeded = false; // what started listening while no stream came in
  try {
    await client.connect(socketPath, {
      onBatch: (b) => enqueue(b),
      onStats: (stats) => port.postMessage({ type: 'stats', stats } satisfies FromWorker),
      onClose: (reason) => {
        commit();
        commit(); // the forks still deferred
        port.postMessage({ type: 'disconnected', reason } satisfies FromWorker);
      },
    });
  } catch (e) {
    port.postMessage({ type: 'connect_failed', message: (e as Error).message } satisfies FromWorker);
    return;
  }
  clock = createBootClock(client.anchor.boottimeNs, client.anchor.wallMs);
  port.postMessage({ type: 'connected', collectorPid: client.collectorPid, sensor: client.sensor } satisfies FromWorker);
}

/*
 * Batches are committed together, one transaction per COMMIT_MS window (or sooner past
 * COMMIT_MAX_BYTES). Every commit rewrites the last page of each table and index it touched (in
 * the WAL, and again at the checkpoint) and wakes the main thread; at thousands of events a
 * second, a commit per 10 ms batch spent more on that than on the rows. The window is the
 * kernel-rule pace (agent.ts, KERNEL_PASS_MS): rules cannot run more often than that anyway, and
 * each commit is followed by its pass at once, so an event waits at most one window before rules
 * see it. Measured at 2,000 execs/s: 250 ms instead of 50 ms cut the agent's CPU by a sixth.
 */
const COMMIT_MS = 250;
const COMMIT_MAX_BYTES = 4 << 20;
let queued: Buffer[] = [];
let queuedBytes = 0;
let commitTimer: NodeJS.Timeout | null = null;

let draining = false;

/*
 * The collector writes a batch every 10 ms. Waking for each cost this thread more than storing it,
 * so the first batch of a window stops reading (the batches wait in the socket) and the end of the
 * window reads everything that came, then commits.
 */
function enqueue(batch: Buffer): void {
  queued.push(batch);
  queuedBytes += batch.length;
  if (queuedBytes >= COMMIT_MAX_BYTES) commit();
  else if (!draining) {
    client.pause();
    commitTimer ??= setTimeout(endWindow, COMMIT_MS);
  }
}

function endWindow(): void {
  commitTimer = null;
  draining = true;
  client.resume();
  // The waiting batches are read in this turn's poll phase; setImmediate runs right after it.
  setImmediate(() => {
    draining = false;
    commit();
  });
}

function commit(): void {
  if (commitTimer !== null) clearTimeout(commitTimer);
  commitTimer = null;
  client.resume(); // read again: the next batch opens the next window
  if (writer === null) return;
  if (queued.length === 0) {
    // A whole window passed with no batch: the forks still waiting got no exec in it; store them.
    if (deferredForks.length > 0) {
      const forks = deferredForks;
      deferredForks = [];
      writer.writeForks(forks, clock.toEpochMs);
      port.postMessage({ type: 'stored', events: forks.length, decodeErrors: 0, batches: 0 } satisfies FromWorker);
    }
    return;
  }
  const batches = queued;
  queued = [];
  queuedBytes = 0;
  const events: KernelEvent[] = [];
  const security: SecurityEvent[] = [];
  let decodeErrors = 0;
  for (const b of batches) {
    const r = decodeBatch(b);
    for (const e of r.events) events.push(e);
    for (const e of r.security) security.push(e);
    for (const n of Object.values(r.errors)) decodeErrors += n;
  }
  try {
    store(events, security);
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).message } satisfies FromWorker);
    return;
  }
  port.postMessage({ type: 'stored', events: events.length + security.length, decodeErrors, batches: batches.length } satisfies FromWorker);
  // Forks now waiting are stored by the next window, batch or not.
  if (deferredForks.length > 0) commitTimer = setTimeout(endWindow, COMMIT_MS);
}

/*
 * Most forks are followed at once by an exec in the child, whose row already names parent and
 * child. Such a fork is not stored (Tetragon's choice too: it keeps forks in its process cache and
 * exports execs). A fork whose child has not exec'd by the end of its commit window waits one more
 * window (the exec may land just after the boundary); forks still without an exec then (subshells,
 * pre-fork servers, daemonizing) are stored. A degraded exec (netlink fallback) may not know its
 * parent, so it never absorbs a fork.
 */
const MAX_DEFERRED_FORKS = 10_000;
let deferredForks: ForkEvent[] = [];

function foldForks(events: readonly KernelEvent[]): { keep: Set<ForkEvent>; late: ForkEvent[] } {
  const execParent = new Map<number, number>();
  for (const e of events) if (e.kind === 'exec' && e.degraded !== true) execParent.set(e.pid, e.ppid);
  const absorbed = (f: ForkEvent) => f.childPid !== f.pid && execParent.get(f.childPid) === f.pid;
  // Forks deferred from the last window: stored now unless their exec arrived in this one.
  const late = deferredForks.filter((f) => !absorbed(f));
  const keep = new Set<ForkEvent>();
  const next: ForkEvent[] = [];
  for (const e of events) {
    if (e.kind !== 'fork' || absorbed(e)) continue;
    if (next.length < MAX_DEFERRED_FORKS) next.push(e);
    else keep.add(e);
  }
  deferredForks = next;
  return { keep, late };
}

function store(events: readonly KernelEvent[], security: readonly SecurityEvent[]): void {
  const { keep, late } = foldForks(events);
  writer!.writeForks(late, clock.toEpochMs);
  writer!.write(events, clock.toEpochMs, {
    storeFork: (e) => keep.has(e),
    ancestry: (e) => {
      let chain: string | null = null;
      if (e.kind === 'exec') {
        chain = tree.execAncestryJson(e.pid, e.ppid);
      }
      tree.apply(e);
      listeners.observe(e);
      return chain;
    },
    containerId: (id) => cgroups.containerId(id),
    listenerFor: (e) => listeners.listenerFor(e),
  });
  writer!.writeSecurity(security, clock.toEpochMs);
}

port.on('message', (m: ToWorker) => {
  try {
    if (m.type === 'open') {
      const db = openStoreForWriting(m.dbPath);
      // This connection writes thousands of rows a second into four B-trees and their indexes: a
      // 16 MiB page cache keeps their hot pages, and checkpointing every ~40 MiB of WAL instead of
      // every 4 MiB cuts the checkpoint work per row (measured: -18 % CPU per stored event).
      db.pragma('cache_size = -16000');
      db.pragma('wal_autocheckpoint = 10000');
      writer = new KernelEventWriter(db);
      close = () => db.close();
    } else if (m.type === 'connect') {
      void connect(m.socketPath);
    } else if (m.type === 'seed') {
      tree.seed(m.processes as ProcessSnapshot[]);
      // Servers already listening before the sensor started: their accepts are credited too.
      if (!listenersSeeded) {
        listeners.seedFromProc();
        listenersSeeded = true;
      }
    } else if (m.type === 'close') {
      client.close();
      commit();
      commit(); // the forks still deferred
      close?.();
      port.postMessage({ type: 'closed' } satisfies FromWorker);
    }
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).message } satisfies FromWorker);
  }
});
