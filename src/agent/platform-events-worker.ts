// Store worker for the Windows (ETW) and macOS (EndpointSecurity) kernel layers. Those sources hand
// over events already decoded (ETW records and eslogger lines are objects, not the eBPF ring's
// bytes), so this worker only follows them with the live process tree for ancestry and writes each
// batch in one transaction on its own connection, off the agent's main thread ("kernel intake must
// never wait on SQLite"). Timestamps are Unix-epoch nanoseconds already (FILETIME and eslogger's
// `time` are wall clock), so no boot-clock anchor is needed.
import { parentPort } from 'node:worker_threads';
import type { KernelEvent, SecurityEvent } from '../normalize/kernel-event.ts';
import type { ProcessSnapshot } from '../normalize/process-snapshot.ts';
import { ProcessTree } from '../normalize/process-tree.ts';
import { KernelEventWriter } from '../store/kernel-event-writer.ts';
import { openStoreForWriting } from '../store/open-store.ts';

export type ToPlatformWorker =
  | { readonly type: 'open'; readonly dbPath: string }
  | { readonly type: 'seed'; readonly processes: readonly Pick<ProcessSnapshot, 'pid' | 'ppid' | 'name' | 'executable_path'>[] }
  | { readonly type: 'events'; readonly events: readonly KernelEvent[]; readonly security: readonly SecurityEvent[] }
  | { readonly type: 'close' };

export type FromPlatformWorker =
  | { readonly type: 'stored'; readonly events: number }
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'closed' };

const port = parentPort!;
const tree = new ProcessTree();
const epochMs = (ns: bigint) => Number(ns / 1_000_000n);
let writer: KernelEventWriter | null = null;
let close: (() => void) | null = null;

function ancestry(e: KernelEvent): string | null {
  let chain: string | null = null;
  if (e.kind === 'exec') {
    chain = tree.execAncestryJson(e.pid, e.ppid);
  }
  tree.apply(e);
  return chain;
}

port.on('message', (m: ToPlatformWorker) => {
  try {
    if (m.type === 'open') {
      const db = openStoreForWriting(m.dbPath);
      writer = new KernelEventWriter(db);
      close = () => db.close();
    } else if (m.type === 'seed') {
      tree.seed(m.processes as ProcessSnapshot[]);
    } else if (m.type === 'events') {
      writer!.write(m.events, epochMs, { ancestry });
      writer!.writeSecurity(m.security, epochMs);
      port.postMessage({ type: 'stored', events: m.events.length + m.security.length } satisfies FromPlatformWorker);
    } else if (m.type === 'close') {
      close?.();
      close = null;
      port.postMessage({ type: 'closed' } satisfies FromPlatformWorker);
    }
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).message } satisfies FromPlatformWorker);
  }
});
