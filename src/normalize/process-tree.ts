// A live process tree, so every exec carries its ancestry (sshd → bash → curl) even when the
// parents are gone from /proc by the time a rule looks. Seeded and corrected by each procfs scan,
// kept current between scans by kernel fork/exec/exit events. Bounded: exits remove entries, and
// a scan drops entries for pids that no longer exist.
import type { KernelEvent } from './kernel-event.ts';
import type { ProcessSnapshot } from './process-snapshot.ts';

export interface TreeNode {
  readonly pid: number;
  ppid: number;
  name: string;
  exe: string | null;
  /** Seen by a kernel event since the last scan (a scan that misses it may have raced its start). */
  fresh: boolean;
}

export interface Ancestor {
  readonly pid: number;
  readonly name: string;
  readonly exe: string | null;
}

const MAX_REMEMBERED_CHAINS = 4096;

const sameChain = (a: readonly Ancestor[], b: readonly Ancestor[]) =>
  a.length === b.length && a.every((x, i) => x.pid === b[i]!.pid && x.name === b[i]!.name && x.exe === b[i]!.exe);

/** Deep enough for sshd → bash → sudo → bash → python → sh; a cycle or a deeper chain is cut. */
const MAX_DEPTH = 16;

export class ProcessTree {
  readonly #nodes = new Map<number, TreeNode>();
  /** The last chain written per nearest parent, with its JSON: siblings mostly share a chain. */
  readonly #json = new Map<number, { chain: Ancestor[]; json: string }>();

  get size(): number {
    return this.#nodes.size;
  }

  /** Replaces the tree's view with a complete scan (what /proc says wins). */
  seed(snapshots: readonly ProcessSnapshot[]): void {
    const seen = new Set<number>();
    for (const s of snapshots) {
      seen.add(s.pid);
      this.#nodes.set(s.pid, { pid: s.pid, ppid: s.ppid ?? 0, name: s.name, exe: s.executable_path, fresh: false });
    }
    // Drop what the scan did not see, except processes the kernel reported since the last scan:
    // they may have started after the scan read /proc.
    for (const [pid, node] of this.#nodes) {
      if (!seen.has(pid) && !node.fresh) this.#nodes.delete(pid);
      node.fresh = false;
    }
  }

  /** Applies one kernel event, in kernel order. */
  apply(e: KernelEvent): void {
    if (e.kind === 'fork') {
      if (e.childPid === e.pid) return; // a new thread, not a new process
      const parent = this.#nodes.get(e.pid);
      this.#nodes.set(e.childPid, { pid: e.childPid, ppid: e.pid, name: parent?.name ?? e.comm, exe: parent?.exe ?? null, fresh: true });
    } else if (e.kind === 'exec') {
      const node = this.#nodes.get(e.pid);
      if (node === undefined) this.#nodes.set(e.pid, { pid: e.pid, ppid: e.ppid, name: e.comm, exe: e.filename, fresh: true });
      else {
        node.ppid = e.ppid;
        node.name = e.comm;
        node.exe = e.filename;
        node.fresh = true;
      }
    } else if (e.kind === 'exit') {
      this.#nodes.delete(e.pid);
    }
  }

  /**
   * The ancestry of a process that just exec'd, as stored with its exec row: its known parents, or
   * the chain from `ppid` when the tree does not know it yet. As JSON, reused while the chain is
   * unchanged: at thousands of execs a second from a few parents, serialising the same chain again
   * for every child showed in the store worker's profile.
   */
  execAncestryJson(pid: number, ppid: number): string {
    const known = this.ancestry(pid);
    const chain = known.length > 0 ? known : this.ancestryOfParent(ppid);
    const key = chain[0]?.pid ?? 0;
    const last = this.#json.get(key);
    if (last !== undefined && sameChain(last.chain, chain)) return last.json;
    const json = JSON.stringify(chain);
    if (this.#json.size >= MAX_REMEMBERED_CHAINS) this.#json.clear();
    this.#json.set(key, { chain, json });
    return json;
  }

  /** The chain starting at `ppid` itself, for a process the tree does not know yet. */
  ancestryOfParent(ppid: number): Ancestor[] {
    const node = this.#nodes.get(ppid);
    if (node === undefined) return ppid > 0 ? [{ pid: ppid, name: '', exe: null }] : [];
    return [{ pid: node.pid, name: node.name, exe: node.exe }, ...this.ancestry(ppid)];
  }

  /** The chain of parents of `pid`, nearest first (not including `pid` itself). */
  ancestry(pid: number): Ancestor[] {
    const out: Ancestor[] = [];
    let current = this.#nodes.get(pid)?.ppid;
    const seen = new Set<number>([pid]);
    while (current !== undefined && current > 0 && !seen.has(current) && out.length < MAX_DEPTH) {
      seen.add(current);
      const node = this.#nodes.get(current);
      if (node === undefined) {
        out.push({ pid: current, name: '', exe: null });
        break;
      }
      out.push({ pid: node.pid, name: node.name, exe: node.exe });
      current = node.ppid;
    }
    return out;
  }
}
