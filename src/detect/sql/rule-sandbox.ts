// The agent's side of the rule sandbox: runs the rules of a pass in a child process, each with its
// own time budget. All rules go in one request and come back one reply per rule (one round trip a
// pass instead of one per rule: at four kernel passes a second, those round trips were a third of
// the agent's main thread).
// When a rule overruns, the child is killed (SIGKILL: SQLite cannot be interrupted from here), that
// rule is reported as timed out, and a fresh child runs the rules after it.
import { fork, type ChildProcess } from 'node:child_process';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import type { SandboxJob, SandboxReply, SandboxRequest, WireJob } from './sandbox-protocol.ts';
import type { RuleCursor } from '../detector.ts';

const CHILD = new URL(`./rule-runner-child${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

export interface RuleRunResult {
  readonly rows: Record<string, unknown>[];
  readonly truncated: boolean;
  readonly durationMs: number;
}

/**
 * The child exits after this long without work. At the default 30 s scan interval that returns its
 * memory (~45 MB) between cycles, for one process start (~50 ms CPU) per cycle; with short
 * intervals the child simply stays up.
 */
const DEFAULT_IDLE_MS = 5_000;

export class RuleSandbox {
  #dbPath: string;
  readonly #idleMs: number;
  #idleTimer: NodeJS.Timeout | null = null;
  #child: ChildProcess | null = null;
  #pending: ((reply: SandboxReply | Error) => void) | null = null;
  #seq = 0;
  /** A key per distinct SQL text, and the keys the current child has prepared (see WireJob). */
  readonly #keys = new Map<string, number>();
  readonly #prepared = new Set<number>();
  /** How many times a child was killed for overrunning: exported as a counter. */
  killed = 0;

  constructor(dbPath: string, options: { idleMs?: number } = {}) {
    this.#dbPath = dbPath;
    this.#idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  }

  /** Points the sandbox at another database file (rule fixtures use one file per fixture). */
  async useDatabase(path: string): Promise<void> {
    this.#dbPath = path;
    if (this.#child === null) return;
    this.#prepared.clear(); // the child drops its statements with the old database
    const opened = await this.#request({ type: 'open', path }, 10_000);
    if (opened.type === 'error') throw new DaemonEyeError('DE_STORE_OPEN', `rule sandbox cannot open ${path}: ${opened.message}`);
  }

  /** Runs one SELECT; rejects with DE_RULE_TIMEOUT or DE_RULE_RUNTIME. Never leaves a stuck child. */
  async run(sql: string, options: { timeoutMs: number; cursor: RuleCursor; maxRows: number }): Promise<RuleRunResult> {
    const [result] = await this.runAll([{ sql, cursor: options.cursor }], options);
    if (result instanceof Error) throw result;
    return result!;
  }

  /**
   * Runs the rules in order, each within `timeoutMs`; the result at each index is the rows of that
   * rule or its DE_RULE_TIMEOUT / DE_RULE_RUNTIME error. Rejects only when no child can be started.
   */
  async runAll(jobs: readonly SandboxJob[], options: { timeoutMs: number; maxRows: number; heads?: RuleCursor }): Promise<(RuleRunResult | DaemonEyeError)[]> {
    this.#cancelIdle();
    const results: (RuleRunResult | DaemonEyeError)[] = [];
    try {
      while (results.length < jobs.length) {
        await this.#ensureChild();
        // A rule that overran (or took its child down) ends the request: it is reported, and the
        // rules after it go to a fresh child.
        const stopped = await this.#runBatch(jobs.slice(results.length), options, results);
        if (stopped !== null) results.push(stopped);
      }
    } finally {
      this.#scheduleIdle();
    }
    return results;
  }

  async close(): Promise<void> {
    this.#cancelIdle();
    const child = this.#child;
    this.#child = null;
    if (child === null || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.disconnect();
      setTimeout(() => child.kill('SIGKILL'), 1000).unref();
    });
  }

  #cancelIdle(): void {
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }

  #scheduleIdle(): void {
    this.#cancelIdle();
    this.#idleTimer = setTimeout(() => void this.close(), this.#idleMs);
    this.#idleTimer.unref();
  }

  async #ensureChild(): Promise<void> {
    if (this.#child !== null && this.#child.exitCode === null && this.#child.connected) return;
    // A small young generation: the child handles a few rows per rule, not a heap-hungry workload.
    const child = fork(CHILD, [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced',
      execArgv: [...process.execArgv, '--max-semi-space-size=1'],
    });
    this.#child = child;
    this.#prepared.clear();
    // A child we already gave up on (killed at its budget) may still report: ignore it.
    child.on('message', (m: SandboxReply) => {
      if (this.#child === child) this.#settle(m);
    });
    child.on('exit', (code, signal) => {
      if (this.#child !== child) return;
      this.#child = null;
      this.#settle(new Error(`rule sandbox exited (code ${code}, signal ${signal})`));
    });
    await this.#waitFor('ready', 10_000);
    const opened = await this.#request({ type: 'open', path: this.#dbPath }, 10_000);
    if (opened.type === 'error') {
      throw new DaemonEyeError('DE_STORE_OPEN', `rule sandbox cannot open ${this.#dbPath}: ${opened.message}`);
    }
  }

  /**
   * Sends the jobs and collects one reply per job into `results`. The budget clock restarts at each
   * reply, so each rule gets `timeoutMs` of its own. Resolves null when all replied, else with the
   * error of the rule that was running when its budget ran out or the child died.
   */
  #runBatch(jobs: readonly SandboxJob[], options: { timeoutMs: number; maxRows: number; heads?: RuleCursor }, results: (RuleRunResult | DaemonEyeError)[]): Promise<DaemonEyeError | null> {
    const id = String(++this.#seq);
    const first = results.length;
    const wire = jobs.map((j): WireJob => {
      let key = this.#keys.get(j.sql);
      if (key === undefined) this.#keys.set(j.sql, (key = this.#keys.size + 1));
      return this.#prepared.has(key) ? { key, cursor: j.cursor } : { key, sql: j.sql, cursor: j.cursor };
    });
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (stopped: DaemonEyeError | null) => {
        clearTimeout(timer);
        this.#pending = null;
        resolve(stopped);
      };
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          this.killed++;
          const child = this.#child;
          this.#child = null;
          child?.kill('SIGKILL');
          finish(new DaemonEyeError('DE_RULE_TIMEOUT', `stopped after ${options.timeoutMs} ms`));
        }, options.timeoutMs);
      };
      this.#pending = (reply) => {
        if (reply instanceof Error) return finish(new DaemonEyeError('DE_RULE_RUNTIME', reply.message));
        if ((reply.type !== 'result' && reply.type !== 'error') || reply.id !== id || reply.index !== results.length - first) {
          return finish(new DaemonEyeError('DE_INTERNAL', `unexpected sandbox reply ${reply.type}`));
        }
        const { key } = wire[results.length - first]!;
        // Prepared only once it ran: a statement that failed is sent again with its SQL.
        if (reply.type === 'result') this.#prepared.add(key);
        else this.#prepared.delete(key);
        results.push(reply.type === 'result'
          ? { rows: reply.rows, truncated: reply.truncated, durationMs: reply.durationMs }
          : new DaemonEyeError('DE_RULE_RUNTIME', reply.message));
        if (results.length - first === jobs.length) finish(null);
        else arm();
      };
      arm();
      this.#child!.send({ type: 'run', id, jobs: wire, maxRows: options.maxRows, ...(options.heads === undefined ? {} : { heads: options.heads }) } satisfies SandboxRequest);
    });
  }

  #settle(reply: SandboxReply | Error): void {
    // Handlers unregister themselves: a pass's handler takes one reply per rule.
    this.#pending?.(reply);
  }

  #waitFor(type: 'ready', timeoutMs: number): Promise<SandboxReply> {
    return this.#await(timeoutMs, () => {}).then((r) => {
      if (r.type !== type) throw new DaemonEyeError('DE_INTERNAL', `sandbox said ${r.type} before ${type}`);
      return r;
    });
  }

  #request(req: SandboxRequest, timeoutMs: number): Promise<SandboxReply> {
    return this.#await(timeoutMs, () => this.#child!.send(req));
  }

  #await(timeoutMs: number, send: () => void): Promise<SandboxReply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending = null;
        this.killed++;
        const child = this.#child;
        this.#child = null;
        child?.kill('SIGKILL');
        reject(new DaemonEyeError('DE_RULE_TIMEOUT', `stopped after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending = (reply) => {
        clearTimeout(timer);
        this.#pending = null;
        if (reply instanceof Error) reject(new DaemonEyeError('DE_RULE_RUNTIME', reply.message));
        else resolve(reply);
      };
      send();
    });
  }
}
