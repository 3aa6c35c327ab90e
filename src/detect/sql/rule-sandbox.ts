// The agent's side of the rule sandbox: runs one rule at a time in a child process with a time
// budget. When a rule overruns, the child is killed (SIGKILL: SQLite cannot be interrupted from
// here), the rule is reported as timed out, and a fresh child serves the next rule.
import { fork, type ChildProcess } from 'node:child_process';
import { DaemonEyeError } from '../../errors/catalogue.ts';
import type { SandboxReply, SandboxRequest } from './sandbox-protocol.ts';
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
    const opened = await this.#request({ type: 'open', path }, 10_000);
    if (opened.type === 'error') throw new DaemonEyeError('DE_STORE_OPEN', `rule sandbox cannot open ${path}: ${opened.message}`);
  }

  /** Runs one SELECT; rejects with DE_RULE_TIMEOUT or DE_RULE_RUNTIME. Never leaves a stuck child. */
  async run(sql: string, options: { timeoutMs: number; cursor: RuleCursor; maxRows: number }): Promise<RuleRunResult> {
    this.#cancelIdle();
    await this.#ensureChild();
    const id = String(++this.#seq);
    const reply = await this.#request({ type: 'run', id, sql, cursor: options.cursor, maxRows: options.maxRows }, options.timeoutMs)
      .finally(() => this.#scheduleIdle());
    if (reply.type === 'result') return { rows: reply.rows, truncated: reply.truncated, durationMs: reply.durationMs };
    if (reply.type === 'error') throw new DaemonEyeError('DE_RULE_RUNTIME', reply.message);
    throw new DaemonEyeError('DE_INTERNAL', `unexpected sandbox reply ${reply.type}`);
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

  #settle(reply: SandboxReply | Error): void {
    const pending = this.#pending;
    this.#pending = null;
    pending?.(reply);
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
        if (reply instanceof Error) reject(new DaemonEyeError('DE_RULE_RUNTIME', reply.message));
        else resolve(reply);
      };
      send();
    });
  }
}
