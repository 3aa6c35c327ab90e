// Writes a batch of kernel events in one transaction: at thousands of events per second one commit
// per batch (10 ms of events) is what keeps the store's cost per event low.
import type { Statement } from 'better-sqlite3';
import type { ConnectionEvent, ForkEvent, KernelEvent, SecurityEvent } from '../normalize/kernel-event.ts';
import type { Db } from './open-store.ts';
import { AncestryChains } from './ancestry-chains.ts';
import { BatchedInsert } from './batched-insert.ts';

const CHAIN_COLLECT_MS = 3_600_000;

/** What the store adds to each event from state kept beside the stream (all optional). */
export interface Enrichment {
  /** The live process tree's ancestry of an exec (JSON), called for every event in order. */
  ancestry?(e: KernelEvent): string | null;
  /** Container id of a cgroup id. */
  containerId?(cgroupId: bigint): string | null;
  /**
   * False for a fork whose row would only repeat what the child's exec row says (parent and child
   * pids); the fork still goes through `ancestry`, so the process tree sees it.
   */
  storeFork?(e: KernelEvent & { kind: 'fork' }): boolean;
  /** The process an accept belongs to (accepts arrive without one). */
  listenerFor?(e: ConnectionEvent): { pid: number; ppid: number; uid: number; comm: string } | null;
}

export class KernelEventWriter {
  readonly #exec: BatchedInsert;
  /** The chain of each exec row queued in #exec, in order: its id is known once the row is in. */
  #execChains: (string | null)[] = [];
  readonly #fork: Statement;
  readonly #exit: BatchedInsert;
  readonly #conn: Statement;
  readonly #sec: Statement;
  readonly #chains: AncestryChains;
  #lastCollect = Date.now();
  readonly #write: (events: readonly KernelEvent[], toEpochMs: (ktimeNs: bigint) => number, enrich: Enrichment) => void;

  constructor(db: Db) {
    // Into the rows table under the process_exec view, with the chain's id (migration 41).
    this.#chains = new AncestryChains(db);
    this.#exec = new BatchedInsert(db, `INSERT INTO process_exec_rows (time, ktime_ns, pid, tid, ppid, user_id, group_id, effective_user_id,
      cgroup_id, comm, filename, argv, command_line, args_truncated, ancestry_id, cwd, process_start_time, container_id, degraded, executable_mtime)`,
    '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', (firstId, rows) => {
      for (let i = 0; i < rows; i++) {
        const chain = this.#execChains[i]!;
        if (chain !== null) this.#chains.used(chain, firstId + i);
      }
      this.#execChains = this.#execChains.slice(rows);
    });
    this.#fork = db.prepare(`INSERT INTO process_fork (time, ktime_ns, parent_pid, child_pid, child_tid, user_id, comm)
      VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.#exit = new BatchedInsert(db, 'INSERT INTO process_exit (time, ktime_ns, pid, ppid, user_id, comm, exit_code, signal)', '(?, ?, ?, ?, ?, ?, ?, ?)');
    this.#conn = db.prepare(`INSERT INTO network_connections (time, ktime_ns, event, pid, tid, ppid, user_id, comm, cgroup_id,
      family, protocol, local_address, local_port, remote_address, remote_port, container_id, attribution)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'tcp', ?, ?, ?, ?, ?, ?)`);
    this.#sec = db.prepare(`INSERT INTO process_security_events (time, ktime_ns, op, pid, tid, ppid, user_id, comm, cgroup_id,
      target_pid, arg0, arg1, name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#write = db.transaction((events: readonly KernelEvent[], toEpochMs: (ktimeNs: bigint) => number, enrich: Enrichment) => {
      // Chains whose exec rows retention removed are dropped about once an hour, by this writer,
      // because it holds the cache of chain ids (ancestry-chains.ts).
      if (Date.now() - this.#lastCollect > CHAIN_COLLECT_MS) {
        this.#lastCollect = Date.now();
        this.#chains.collect();
      }
      for (const e of events) {
        const time = toEpochMs(e.ktimeNs);
        const ancestry = enrich.ancestry?.(e) ?? null;
        if (e.kind === 'exec') {
          this.#execChains.push(ancestry);
          this.#exec.add([time, e.ktimeNs, e.pid, e.tid, e.ppid, e.uid, e.gid, e.euid, e.cgroupId, e.comm, e.filename,
            JSON.stringify(e.argv), e.argv.join(' '), e.argsTruncated ? 1 : 0, ancestry === null ? null : this.#chains.idOf(ancestry), e.cwd ?? null,
            e.startNs === undefined || e.startNs === 0n ? null : toEpochMs(e.startNs), enrich.containerId?.(e.cgroupId) ?? null, e.degraded === true ? 1 : 0,
            e.exeMtimeSec ? e.exeMtimeSec * 1000 : null]);
        } else if (e.kind === 'fork') {
          if (enrich.storeFork?.(e) !== false) this.#fork.run(time, e.ktimeNs, e.pid, e.childPid, e.childTid, e.uid, e.comm);
        } else if (e.kind === 'connection') {
          // Accepts come from softirq with no process: credit them to the listener when one is known.
          const owner = e.pid === 0 && e.event === 'accept' ? enrich.listenerFor?.(e) ?? null : null;
          const attribution = e.pid !== 0 ? 'process' : owner !== null ? 'listener' : 'none';
          this.#conn.run(time, e.ktimeNs, e.event, owner?.pid ?? e.pid, e.tid, owner?.ppid ?? e.ppid, owner?.uid ?? e.uid,
            owner?.comm ?? e.comm, e.cgroupId, e.family, e.localAddress, e.localPort, e.remoteAddress, e.remotePort,
            enrich.containerId?.(e.cgroupId) ?? null, attribution);
        } else {
          this.#exit.add([time, e.ktimeNs, e.pid, e.ppid, e.uid, e.comm, e.exitCode, e.signal]);
        }
      }
      this.#exec.flush();
      this.#exit.flush();
    });
  }

  /** Forks stored after their own batch (kernel-store-worker.ts defers them a window, waiting for an exec). */
  writeForks(forks: readonly ForkEvent[], toEpochMs: (ktimeNs: bigint) => number): void {
    if (forks.length === 0) return;
    this.#fork.database.transaction(() => {
      for (const e of forks) this.#fork.run(toEpochMs(e.ktimeNs), e.ktimeNs, e.pid, e.childPid, e.childTid, e.uid, e.comm);
    })();
  }

  /** Security syscalls (ptrace, memfd, W+X, module load); u64 arguments are stored as signed 64-bit. */
  writeSecurity(events: readonly SecurityEvent[], toEpochMs: (ktimeNs: bigint) => number): void {
    if (events.length === 0) return;
    this.#writeSecurity(events, toEpochMs);
  }

  readonly #writeSecurity = (events: readonly SecurityEvent[], toEpochMs: (ktimeNs: bigint) => number): void => {
    this.#sec.database.transaction(() => {
      for (const e of events) {
        this.#sec.run(toEpochMs(e.ktimeNs), e.ktimeNs, e.op, e.pid, e.tid, e.ppid, e.uid, e.comm, e.cgroupId, e.targetPid,
          BigInt.asIntN(64, e.arg0), BigInt.asIntN(64, e.arg1), e.name);
      }
    })();
  };

  /**
   * `toEpochMs` turns the kernel's boot-time clock into wall-clock ms (src/sources/ebpf/boot-clock.ts);
   * `enrich` adds what the stream alone does not carry (ancestry, container, accept owner).
   */
  write(events: readonly KernelEvent[], toEpochMs: (ktimeNs: bigint) => number, enrich: Enrichment = {}): void {
    if (events.length === 0) return;
    try {
      this.#write(events, toEpochMs, enrich);
    } catch (e) {
      // Rolled back: nothing queued or cached from it may leak into the next transaction.
      this.#exec.discard();
      this.#exit.discard();
      this.#execChains = [];
      this.#chains.forget();
      throw e;
    }
  }
}
