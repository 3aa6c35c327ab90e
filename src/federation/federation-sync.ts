// A regional center's sync with its primary, every sync_interval seconds (+-20 % jitter, so regions
// do not synchronise their load) and on demand. One round: push alerts, triage edits and host
// inventory in bounded batches; pull authored objects and the primary's triage log. Every batch is
// idempotent on the receiving side and each cursor (in the database, per peer and stream) moves
// only past what the other side acknowledged, so a round cut short by a crash or a partition
// resumes where it stopped. While the primary is unreachable the region keeps working: what it
// must send waits in its own tables.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../agent/logger.ts';
import type { CenterContext } from '../center/center-context.ts';
import { CenterHttp } from '../center-client/center-http.ts';
import type { Identity } from '../center-client/identity.ts';
import { FederationRepo, type ApplyOutcome } from './federation-repo.ts';
import { SETTLE_MS, type PushAnswer } from './federation-routes.ts';
import type { TriageEdit } from './triage-edit.ts';
import { FleetQueryRepo } from '../center/fleet-query-repo.ts';

export interface SyncOptions {
  readonly primaryUrl: string;
  readonly intervalSeconds: number;
  readonly batchSize: number;
  readonly maxBatches: number;
}

export interface RoundReport {
  readonly ok: boolean;
  readonly error?: string;
  readonly pushed_alerts: number;
  readonly pushed_edits: number;
  readonly pulled_objects: number;
  readonly pulled_edits: number;
  readonly pulled_queries: number;
  readonly pushed_answers: number;
  readonly outcomes: Partial<Record<ApplyOutcome, number>>;
  readonly clock_offset_ms: number | null;
  readonly finished_at: string;
  readonly ms: number;
}

const PEER = 'primary';

export class FederationSync {
  readonly #ctx: CenterContext;
  readonly #identity: Identity;
  readonly #o: SyncOptions;
  readonly #fed: FederationRepo;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | null = null;
  #current: Promise<RoundReport> | null = null;
  #stopped = false;
  #watchHttp: CenterHttp | null = null;
  #watching: Promise<void> = Promise.resolve();
  readonly #abort = new AbortController();

  constructor(ctx: CenterContext, identity: Identity, o: SyncOptions) {
    this.#ctx = ctx;
    this.#identity = identity;
    this.#o = o;
    this.#fed = new FederationRepo(ctx.repo.db, ctx.engine);
    this.#log = ctx.log;
  }

  start(): void {
    const next = () => {
      if (this.#stopped) return;
      const ms = this.#o.intervalSeconds * 1000 * (0.8 + Math.random() * 0.4);
      this.#timer = setTimeout(() => void this.round().finally(next), ms);
    };
    void this.round().finally(next);
    this.#watching = this.#watch();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    if (this.#timer) clearTimeout(this.#timer);
    this.#watchHttp?.close(); // ends the long poll in flight
    await this.#watching;
    await this.#current?.catch(() => {});
  }

  /**
   * Urgent changes: a long poll on the primary's object revision. When the primary authors or
   * revokes something, the region runs a round at once instead of at its next interval.
   */
  async #watch(): Promise<void> {
    while (!this.#stopped) {
      this.#watchHttp = CenterHttp.forIdentity(this.#identity, this.#o.primaryUrl, { timeoutMs: 40_000 });
      try {
        const since = await this.#fed.cursor(PEER, 'objects_in');
        const r = await this.#watchHttp.json<{ revision: number }>('GET', `/api/v1/objects/changes?since=${since}&timeout=25`);
        if (r.revision > since && !this.#stopped) await this.round();
      } catch {
        await sleep(5_000 + Math.random() * 5_000, undefined, { signal: this.#abort.signal }).catch(() => {});
      } finally {
        this.#watchHttp.close();
      }
    }
  }

  /** One round; a round already running is joined, not doubled. */
  round(): Promise<RoundReport> {
    this.#current ??= this.#round().finally(() => {
      this.#current = null;
    });
    return this.#current;
  }

  async #round(): Promise<RoundReport> {
    const started = Date.now();
    const report = { pushed_alerts: 0, pushed_edits: 0, pulled_objects: 0, pulled_edits: 0, pulled_queries: 0, pushed_answers: 0, outcomes: {} as Partial<Record<ApplyOutcome, number>>, clock_offset_ms: null as number | null };
    const http = CenterHttp.forIdentity(this.#identity, this.#o.primaryUrl, { timeoutMs: 60_000 });
    let error: string | undefined;
    try {
      await this.#push(http, report);
      await this.#pullObjects(http, report);
      await this.#pullEdits(http, report);
      await this.#pullQueries(http, report);
    } catch (e) {
      error = (e as Error).message;
      this.#log.warn('federation sync failed; will retry next round', { primary: this.#o.primaryUrl, reason: error });
    } finally {
      http.close();
    }
    const done: RoundReport = { ok: error === undefined, ...(error ? { error } : {}), ...report, finished_at: new Date().toISOString(), ms: Date.now() - started };
    await this.#ctx.repo.setMeta('federation_last_sync', JSON.stringify(done)).catch(() => {});
    if (done.ok && (report.pushed_alerts + report.pushed_edits + report.pulled_objects + report.pulled_edits) > 0) {
      this.#log.info('federation sync', { pushed_alerts: report.pushed_alerts, pushed_edits: report.pushed_edits, pulled_objects: report.pulled_objects, pulled_edits: report.pulled_edits, ms: done.ms });
    }
    return done;
  }

  /** Fleet queries asked at the primary, relayed to this region's agents (answers go up with #push). */
  async #pullQueries(http: CenterHttp, r: { pulled_queries: number }): Promise<void> {
    const local = new FleetQueryRepo(this.#ctx.repo.db);
    for (let i = 0; i < this.#o.maxBatches; i++) {
      const since = await this.#fed.cursor(PEER, 'queries_in');
      const page = await http.json<{ queries: { query_id: string; sql: string; created_at: number; deadline: number; author: string; origin_center: string }[]; next_since: number; more: boolean }>(
        'GET', `/api/v1/federation/queries?since=${since}`);
      const now = Date.now();
      const alive = await local.aliveAgents(now);
      for (const q of page.queries) {
        if (q.deadline > now && await local.create({ ...q, expected: JSON.stringify(alive) })) r.pulled_queries++;
      }
      await this.#fed.setCursor(PEER, 'queries_in', page.next_since, now);
      if (!page.more) return;
    }
  }

  async #push(http: CenterHttp, r: { pushed_alerts: number; pushed_edits: number; pushed_answers: number; clock_offset_ms: number | null }): Promise<void> {
    const queries = new FleetQueryRepo(this.#ctx.repo.db);
    let hostsSince = await this.#fed.cursor(PEER, 'hosts_out');
    for (let i = 0; i < this.#o.maxBatches; i++) {
      const now = Date.now();
      const alertCursor = await this.#fed.cursor(PEER, 'alerts_out');
      const editCursor = await this.#fed.cursor(PEER, 'edits_out');
      const alerts = await this.#fed.alertsAfter(alertCursor, this.#o.batchSize, now, SETTLE_MS);
      const edits = await this.#fed.editsAfter(editCursor, this.#o.batchSize, now, SETTLE_MS);
      const hosts = i === 0 ? await this.#fed.hostsSeenSince(hostsSince) : [];
      const answerCursor = await this.#fed.cursor(PEER, 'answers_out');
      const answerRows = await queries.answersAfter(answerCursor, this.#o.batchSize, now, SETTLE_MS, this.#ctx.engine === 'postgres');
      // Only answers to queries asked elsewhere travel up; this region's own queries stay here.
      const relayed = new Set((await Promise.all([...new Set(answerRows.map((a) => a.query_id))].map((id) => queries.query(id))))
        .filter((q) => q !== undefined && q.origin_center !== this.#ctx.centerId).map((q) => q!.query_id));
      const answers = answerRows.filter((a) => relayed.has(a.query_id)).map(({ seq: _seq, logged_at: _logged, ...a }) => a);
      if (alerts.length === 0 && edits.length === 0 && hosts.length === 0 && answerRows.length === 0 && i > 0) return;
      const t0 = Date.now();
      const answer = await http.json<PushAnswer>('POST', '/api/v1/federation/push', {
        now: t0,
        alerts: alerts.map(({ id: _id, ...a }) => a),
        edits: edits.map((e) => e.edit),
        hosts: hosts.map((h) => ({ ...h, role: 'agent' as const })),
        answers,
      });
      const t1 = Date.now();
      // NTP-style: the primary's clock minus the midpoint of our request. HLC stamps use it.
      const offset = Math.round(answer.now - (t0 + t1) / 2);
      r.clock_offset_ms = offset;
      await this.#ctx.repo.setMeta('clock_offset_ms', String(offset));
      if (alerts.length > 0) await this.#fed.setCursor(PEER, 'alerts_out', alerts[alerts.length - 1]!.id, t1);
      if (answer.edits_processed > 0) await this.#fed.setCursor(PEER, 'edits_out', edits[answer.edits_processed - 1]!.seq, t1);
      if (hosts.length > 0) {
        hostsSince = t0 - 1;
        await this.#fed.setCursor(PEER, 'hosts_out', hostsSince, t1);
      }
      if (answerRows.length > 0) await this.#fed.setCursor(PEER, 'answers_out', answerRows[answerRows.length - 1]!.seq, t1);
      r.pushed_answers += answers.length;
      r.pushed_alerts += alerts.length;
      r.pushed_edits += answer.edits_processed;
      const more = alerts.length === this.#o.batchSize || answerRows.length === this.#o.batchSize
        || (edits.length === this.#o.batchSize && answer.edits_processed === edits.length);
      if (!more) return;
    }
  }

  async #pullObjects(http: CenterHttp, r: { pulled_objects: number }): Promise<void> {
    for (let i = 0; i < this.#o.maxBatches; i++) {
      const since = await this.#fed.cursor(PEER, 'objects_in');
      const page = await http.json<{ objects: { kind: string; object_id: string; version: number; deleted: boolean; body: unknown; author: string }[]; next_since: number; more: boolean }>(
        'GET', `/api/v1/objects?since=${since}&limit=${Math.min(1000, this.#o.batchSize)}`);
      for (const o of page.objects) {
        // Authored objects come from the primary only (regions refuse local authoring): the primary's version wins.
        await this.#ctx.repo.putObject({ kind: o.kind, object_id: o.object_id, body: JSON.stringify(o.body), deleted: o.deleted, author: o.author, origin: PEER, now: Date.now(), version: o.version });
      }
      await this.#fed.setCursor(PEER, 'objects_in', page.next_since, Date.now());
      r.pulled_objects += page.objects.length;
      if (!page.more) return;
    }
  }

  async #pullEdits(http: CenterHttp, r: { pulled_edits: number; outcomes: Partial<Record<ApplyOutcome, number>> }): Promise<void> {
    for (let i = 0; i < this.#o.maxBatches; i++) {
      const since = await this.#fed.cursor(PEER, 'edits_in');
      const page = await http.json<{ edits: TriageEdit[]; next_since: number; more: boolean }>('GET', `/api/v1/federation/triage?since=${since}&limit=${this.#o.batchSize}`);
      for (const e of page.edits) {
        const o = await this.#fed.applyEdit(e, { policy: this.#ctx.conflictPolicy, localIsPrimary: false, fromPrimary: true });
        // 'missing': an alert of another region; this region has nothing to apply it to.
        r.outcomes[o] = (r.outcomes[o] ?? 0) + 1;
      }
      await this.#fed.setCursor(PEER, 'edits_in', page.next_since, Date.now());
      r.pulled_edits += page.edits.length;
      if (!page.more) return;
    }
  }
}
