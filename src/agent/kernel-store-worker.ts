// Kernel event intake off the agent's main thread (ARCHITECTURE: "kernel intake must never wait on
// SQLite"). The main thread only reads frames from the collector socket and hands each batch here
// (the Buffer is transferred, not copied); this worker decodes it, follows it with the live process
// tree for ancestry, and stores it in one transaction on its own connection (WAL lets both write).
import { parentPort } from 'node:worker_threads';
import { ProcessTree } from '../normalize/process-tree.ts';
import type { ProcessSnapshot } from '../normalize/process-snapshot.ts';
import { createBootClock, type BootClock } from '../sources/ebpf/boot-clock.ts';
import { decodeBatch } from '../sources/ebpf/records.ts';
import { CgroupResolver } from '../sources/ebpf/cgroup-resolver.linux.ts';
import { ListenerAttribution } from '../sources/ebpf/listener-attribution.linux.ts';
import { KernelEventWriter } from '../store/kernel-event-writer.ts';
import { openStoreForWriting } from '../store/open-store.ts';

export type ToWorker =
  | { readonly type: 'open'; readonly dbPath: string }
  | { readonly type: 'anchor'; readonly boottimeNs: bigint; readonly wallMs: number }
  | { readonly type: 'seed'; readonly processes: readonly Pick<ProcessSnapshot, 'pid' | 'ppid' | 'name' | 'executable_path'>[] }
  | { readonly type: 'batch'; readonly batch: Uint8Array }
  | { readonly type: 'close' };

export type FromWorker =
  | { readonly type: 'stored'; readonly events: number; readonly decodeErrors: number; readonly batches: number }
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'closed' };

const port = parentPort!;
const tree = new ProcessTree();
let writer: KernelEventWriter | null = null;
let close: (() => void) | null = null;
let clock: BootClock = createBootClock(0n, 0);
const cgroups = new CgroupResolver();
const listeners = new ListenerAttribution();

/*
 * A message to the main thread costs about as much as storing a small batch, and at thousands of
 * events a second batches arrive every few milliseconds. So "stored" reports are folded: at most one
 * per REPORT_MS, the last one on a timer so no batch waits for a later one to be reported. The main
 * thread runs kernel rules on these reports, which it paces anyway (agent.ts, KERNEL_PASS_MS).
 */
const REPORT_MS = 25;
let pending = { events: 0, decodeErrors: 0, batches: 0 };
let lastReport = 0;
let reportTimer: NodeJS.Timeout | null = null;

function report(): void {
  if (reportTimer !== null) clearTimeout(reportTimer);
  reportTimer = null;
  if (pending.batches === 0) return;
  port.postMessage({ type: 'stored', ...pending } satisfies FromWorker);
  pending = { events: 0, decodeErrors: 0, batches: 0 };
  lastReport = performance.now();
}

function fold(r: { events: number; decodeErrors: number }): void {
  pending.events += r.events;
  pending.decodeErrors += r.decodeErrors;
  pending.batches++;
  const wait = REPORT_MS - (performance.now() - lastReport);
  if (wait <= 0) report();
  else reportTimer ??= setTimeout(report, wait);
}

function store(batch: Buffer): { events: number; decodeErrors: number } {
  const { events, security, errors } = decodeBatch(batch);
  const decodeErrors = Object.values(errors).reduce((a, b) => a + b, 0);
  writer!.write(events, clock.toEpochMs, {
    ancestry: (e) => {
      let chain: string | null = null;
      if (e.kind === 'exec') {
        const known = tree.ancestry(e.pid);
        chain = JSON.stringify(known.length > 0 ? known : tree.ancestryOfParent(e.ppid));
      }
      tree.apply(e);
      listeners.observe(e);
      return chain;
    },
    containerId: (id) => cgroups.containerId(id),
    listenerFor: (e) => listeners.listenerFor(e),
  });
  writer!.writeSecurity(security, clock.toEpochMs);
  return { events: events.length + security.length, decodeErrors };
}

port.on('message', (m: ToWorker) => {
  try {
    if (m.type === 'open') {
      const db = openStoreForWriting(m.dbPath);
      writer = new KernelEventWriter(db);
      close = () => db.close();
    } else if (m.type === 'anchor') {
      clock = createBootClock(m.boottimeNs, m.wallMs);
    } else if (m.type === 'seed') {
      tree.seed(m.processes as ProcessSnapshot[]);
      // Servers already listening before the sensor started: their accepts are credited too.
      listeners.seedFromProc();
    } else if (m.type === 'batch') {
      fold(store(Buffer.from(m.batch.buffer, m.batch.byteOffset, m.batch.byteLength)));
    } else if (m.type === 'close') {
      report();
      close?.();
      port.postMessage({ type: 'closed' } satisfies FromWorker);
    }
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).message } satisfies FromWorker);
  }
});
