// The agent's side of the center besides alerts: a heartbeat every heartbeat_interval seconds
// (health, outbox depth, what was shed, the latest signed audit checkpoint), the pull of authored
// objects (rules, indicator sets, config) by revision, certificate renewal before expiry, and the
// bound on the center sink's outbox. While the center is down the agent keeps detecting; alerts
// wait in the outbox, and past max_outbox the oldest lowest-severity ones are shed, counted, and
// the count is reported at the next heartbeat (the alerts stay in the local store).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../agent/logger.ts';
import { latestCheckpoint } from '../ledger/index.ts';
import type { Db } from '../store/open-store.ts';
import { VERSION } from '../version.ts';
import { CenterHttp } from './center-http.ts';
import { renew, renewalDue } from './enroll.ts';
import { loadIdentity, type Identity } from './identity.ts';
import { runFleetQuery } from './run-fleet-query.ts';
import { pushEvents } from './event-push.ts';
import { storePath } from '../store/open-store.ts';
import { syncFleetPaths } from '../analytics/fleet/fleet-sync.ts';

/** A fleet query's budget on this agent, whatever its deadline at the center. */
const QUERY_BUDGET_MS = 10_000;
const QUERY_MAX_ROWS = 1000;

/** Rules pulled from the center, as YAML files the rule loader reads. */
export const centerRulesDir = (dataDir: string) => join(dataDir, 'center-rules');

export interface ReporterOptions {
  readonly dataDir: string;
  readonly identityDir: string;
  readonly sinkName: string;
  readonly heartbeatSeconds: number;
  readonly maxOutbox: number;
  readonly host: string;
  readonly counters: () => Record<string, number>;
  /** Called after a pull that added, changed or deleted a rule: the agent reloads its rules. */
  readonly onRulesPulled?: () => void;
  /** Detection-relevant store tables pushed after each heartbeat (event-push.ts); null: none. */
  readonly events?: { readonly tables: readonly string[]; readonly maxRowsPerBeat: number } | null;
}

interface ClientState {
  shed_alerts: number;
  objects_revision: number;
  /** Per store table, the last row id the center acknowledged (event-push.ts). */
  event_cursors: Record<string, number>;
}

const SHED = `DELETE FROM alert_outbox WHERE sink = @sink AND alert_id IN (
  SELECT o.alert_id FROM alert_outbox o JOIN alerts a USING (alert_id) WHERE o.sink = @sink
  ORDER BY CASE a.severity WHEN 'low' THEN 0 WHEN 'medium' THEN 1 WHEN 'high' THEN 2 ELSE 3 END, o.alert_id LIMIT @n)`;

export class CenterReporter {
  readonly #o: ReporterOptions;
  readonly #db: Db;
  readonly #log: Logger;
  readonly #statePath: string;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(o: ReporterOptions, db: Db, log: Logger) {
    this.#o = o;
    this.#db = db;
    this.#log = log;
    this.#statePath = join(o.dataDir, 'center-client.json');
  }

  start(): void {
    const loop = () => {
      if (this.#stopped) return;
      this.#running = this.beat().catch((e: unknown) => this.#log.warn('center heartbeat failed', { reason: (e as Error).message }));
      void this.#running.then(() => {
        if (!this.#stopped) this.#timer = setTimeout(loop, this.#o.heartbeatSeconds * 1000 * (0.9 + Math.random() * 0.2));
      });
    };
    loop();
    this.#watching = this.#watch();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#watchHttp?.close(); // ends the long poll in flight
    await this.#running;
    await this.#watching;
  }

  #watchHttp: CenterHttp | null = null;
  #watching: Promise<void> = Promise.resolve();
  #pulling: Promise<void> = Promise.resolve();

  /** The heartbeat and the watch may both see a new revision: pulls run one at a time, each from the saved cursor. */
  #pullOnce(http: CenterHttp): Promise<void> {
    const next = this.#pulling.then(() => this.#pull(http, this.#state()));
    this.#pulling = next.catch(() => {});
    return next;
  }

  /**
   * Urgent changes (a rule authored or revoked at the center) reach the agent at once, not at its
   * next heartbeat: a long poll on the center's object revision, answered as soon as it moves.
   */
  async #watch(): Promise<void> {
    while (!this.#stopped) {
      let http: CenterHttp | null = null;
      try {
        http = CenterHttp.forIdentity(loadIdentity(this.#o.identityDir), undefined, { timeoutMs: 40_000 });
        this.#watchHttp = http;
        const since = this.#state().objects_revision;
        const r = await http.json<{ revision: number }>('GET', `/api/v1/objects/changes?since=${since}&timeout=25`);
        if (r.revision > since && !this.#stopped) await this.#pullOnce(http);
      } catch {
        // Center down or not enrolled yet: the heartbeat reports that; retry the watch a bit later.
        if (!this.#stopped) await new Promise((r) => setTimeout(r, 5_000 + Math.random() * 5_000).unref());
      } finally {
        http?.close();
        this.#watchHttp = null;
      }
    }
  }

  #state(): ClientState {
    try {
      return { shed_alerts: 0, objects_revision: 0, event_cursors: {}, ...(JSON.parse(readFileSync(this.#statePath, 'utf8')) as Partial<ClientState>) };
    } catch {
      return { shed_alerts: 0, objects_revision: 0, event_cursors: {} };
    }
  }

  /**
   * Read, change, write in one synchronous step: the pull, the outbox bound and the event cursors
   * each change their own field, and none may write back another's stale value after an await.
   */
  #updateState(change: (s: ClientState) => void): void {
    const s = this.#state();
    change(s);
    this.#saveState(s);
  }

  #saveState(s: ClientState): void {
    const tmp = `${this.#statePath}.tmp`;
    writeFileSync(tmp, JSON.stringify(s) + '\n');
    renameSync(tmp, this.#statePath);
  }

  /** Runs a fleet query against the local store (read-only, in a worker, within its budget) and posts the answer. */
  async #answer(http: CenterHttp, identity: Identity, q: { query_id: string; sql: string; deadline: number }): Promise<void> {
    const budget = Math.max(1000, Math.min(QUERY_BUDGET_MS, q.deadline - Date.now()));
    const a = await runFleetQuery(storePath(this.#o.dataDir), q.sql, budget, QUERY_MAX_ROWS);
    await http.json('POST', `/api/v1/queries/${encodeURIComponent(q.query_id)}/results`, { agent_id: identity.id, host: this.#o.host, ...a });
    this.#log.info('fleet query answered', { query: q.query_id, rows: a.rows.length, error: a.error ?? '' });
  }

  /** Fleet rarity (docs/analytics.md): report this host's paths, fetch the fleet view. Never fails a beat. */
  async #fleetPaths(http: CenterHttp, identity: Identity): Promise<void> {
    try {
      const r = await syncFleetPaths(http, this.#db, identity.id);
      if (r.reported !== null || r.fetched) this.#log.info('fleet paths synced', { reported: r.reported ?? 0, fleet_hosts: r.view?.hosts ?? 0, fleet_paths: r.view === null ? 0 : Object.keys(r.view.paths).length });
    } catch (e) {
      this.#log.warn('fleet paths sync failed', { reason: (e as Error).message });
    }
  }

  #eventsPushing: Promise<void> = Promise.resolve();

  /**
   * New rows of the detection-relevant tables, after the heartbeat. One push at a time; a failure
   * (center down, rate limited) keeps the cursors where the center last acknowledged.
   */
  #pushEvents(http: CenterHttp, identity: Identity): Promise<void> {
    const ev = this.#o.events;
    if (ev === undefined || ev === null || ev.tables.length === 0) return Promise.resolve();
    const run = async () => {
      try {
        const r = await pushEvents(http, this.#db, {
          agentId: identity.id, host: this.#o.host, tables: ev.tables, maxRows: ev.maxRowsPerBeat,
          cursor: (t) => this.#state().event_cursors[t] ?? 0,
          advance: (t, id) => this.#updateState((s) => { s.event_cursors = { ...s.event_cursors, [t]: Math.max(id, s.event_cursors[t] ?? 0) }; }),
        });
        if (Object.keys(r.sent).length > 0) this.#log.info('events sent to center', r.sent);
      } catch (e) {
        this.#log.warn('events not sent to center (kept, sent later)', { reason: (e as Error).message });
      }
    };
    const next = this.#eventsPushing.then(run);
    this.#eventsPushing = next;
    return next;
  }

  /** Enforces the outbox bound; returns how many alerts were shed now. */
  enforceBound(): number {
    const pending = this.pending();
    const over = pending - this.#o.maxOutbox;
    if (over <= 0) return 0;
    const shed = this.#db.prepare(SHED).run({ sink: this.#o.sinkName, n: over }).changes;
    const s = this.#state();
    s.shed_alerts += shed;
    this.#saveState(s);
    this.#log.warn('center outbox full: alerts shed (kept in the local store, not sent)', { shed, total_shed: s.shed_alerts, max_outbox: this.#o.maxOutbox });
    return shed;
  }

  pending(): number {
    return (this.#db.prepare('SELECT count(*) AS n FROM alert_outbox WHERE sink = ?').get(this.#o.sinkName) as { n: number }).n;
  }

  /** One round: bound, renew if due, heartbeat, pull objects. */
  async beat(): Promise<void> {
    this.enforceBound();
    let identity: Identity = loadIdentity(this.#o.identityDir);
    if (renewalDue(identity)) {
      identity = await renew(identity);
      this.#log.info('center certificate renewed', { id: identity.id, not_after: identity.notAfter.toISOString() });
    }
    const http = CenterHttp.forIdentity(identity);
    try {
      const state = this.#state();
      const cp = latestCheckpoint(this.#db);
      const hb = await http.json<{ objects_revision: number; queries?: { query_id: string; sql: string; deadline: number }[] }>('POST', '/api/v1/heartbeat', {
        agent_id: identity.id, host: this.#o.host, version: VERSION, outbox_pending: this.pending(), shed_alerts: state.shed_alerts,
        health: this.#o.counters(),
        checkpoint: cp === null ? null : {
          tree_size: cp.treeSize,
          note: JSON.stringify({ tree_size: cp.treeSize, root_hash: cp.rootHash.toString('hex'), signed_at: cp.signedAt, key_id: cp.keyId, signature: cp.signature.toString('base64') }),
        },
      });
      if (hb.objects_revision > state.objects_revision) await this.#pullOnce(http);
      for (const q of hb.queries ?? []) await this.#answer(http, identity, q);
      await this.#fleetPaths(http, identity);
      await this.#pushEvents(http, identity);
    } finally {
      http.close();
    }
  }

  #writeRule(id: string, yaml: unknown): void {
    const dir = centerRulesDir(this.#o.dataDir);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${id}.yaml`);
    if (typeof yaml !== 'string') {
      rmSync(file, { force: true });
      return;
    }
    writeFileSync(`${file}.tmp`, yaml);
    renameSync(`${file}.tmp`, file);
  }

  /**
   * Pulls changed objects in bounded batches into DATA_DIR/center-objects/KIND/ID.json. A rule whose
   * body carries its YAML (`{"yaml": "id: ..."}`) is also written to DATA_DIR/center-rules/ID.yaml,
   * which the agent loads with its other rule directories; `onRulesPulled` makes it reload them at once.
   */
  async #pull(http: CenterHttp, state: ClientState): Promise<void> {
    let rulesChanged = false;
    for (;;) {
      const page = await http.json<{ objects: { kind: string; object_id: string; version: number; revision: number; deleted: boolean; body: unknown }[]; next_since: number; more: boolean }>(
        'GET', `/api/v1/objects?since=${state.objects_revision}&limit=500`);
      for (const o of page.objects) {
        const dir = join(this.#o.dataDir, 'center-objects', o.kind);
        mkdirSync(dir, { recursive: true });
        const file = join(dir, `${o.object_id}.json`);
        writeFileSync(`${file}.tmp`, JSON.stringify({ id: o.object_id, version: o.version, revision: o.revision, deleted: o.deleted, body: o.body }, null, 2) + '\n');
        renameSync(`${file}.tmp`, file);
        if (o.kind === 'rule') {
          this.#writeRule(o.object_id, o.deleted ? null : (o.body as { yaml?: unknown } | null)?.yaml);
          rulesChanged = true;
        }
      }
      state.objects_revision = page.next_since;
      this.#updateState((s) => { s.objects_revision = page.next_since; });
      if (page.objects.length > 0) this.#log.info('pulled from center', { objects: page.objects.length, revision: page.next_since });
      if (!page.more) break;
    }
    if (rulesChanged) this.#o.onRulesPulled?.();
  }
}
