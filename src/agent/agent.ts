// The composition root: the only module that picks concrete sources, detectors and sinks, builds them
// from config, and wires them through the bus. Everything else depends on interfaces.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Alert } from '../alerts/alert.ts';
import { AlertRecorder } from '../alerts/alert-recorder.ts';
import { BoundedQueue } from '../bus/bounded-queue.ts';
import type { DaemonEyeConfig } from '../config/schema.ts';
import type { Detector, RuleCursor, RuleOutcome } from '../detect/detector.ts';
import { loadRules } from '../detect/sql/load-rules.ts';
import type { Rule, RuleMeta } from '../detect/sql/rule.ts';
import { SqlDetector } from '../detect/sql/sql-detector.ts';
import { HEADS_SQL } from '../detect/sql/rule-context.ts';
import { AnalyticsDetector } from '../analytics/detect/analytics-detector.ts';
import { IntelDetector } from '../intel/match/intel-detector.ts';
import type { DaemonEyeError } from '../errors/catalogue.ts';
import { diffScans, indexByKey } from '../normalize/lifecycle-diff.ts';
import type { ProcessSnapshot } from '../normalize/process-snapshot.ts';
import { Delivery } from './delivery.ts';
import { KernelEvents } from './kernel-events.linux.ts';
import { NetworkPackets } from '../network/network-packets.ts';
import type { CaptureDrops } from '../sources/pcap/collector-packet-source.ts';
import { EtwKernelEvents } from './kernel-events.windows.ts';
import { EsKernelEvents } from './kernel-events.darwin.ts';
import { kernelLayerWanted, type KernelIntake } from './platform-kernel-events.ts';
import { createSnapshotSource } from './sources.linux.ts';
import type { ProcessScan, SnapshotSource } from '../sources/source.ts';
import { openStoreForWriting, storePath, type Db } from '../store/open-store.ts';
import { applyRetention } from '../store/retention.ts';
import { ScanWriter } from '../store/scan-writer.ts';
import { AgentLock } from './agent-lock.ts';
import { Ledger, openLedgerKey } from '../ledger/index.ts';
import { canonicalize } from '../ledger/canonical-json.ts';
import type { Logger } from './logger.ts';
import { centerReporter, withCenterSink } from '../center-client/agent-wiring.ts';
import { centerRulesDir, type CenterReporter } from '../center-client/center-reporter.ts';
import { IntelFeedService } from '../intel/feeds/intel-feed-service.ts';

export interface CycleReport {
  readonly scanId: number;
  readonly processes: number;
  readonly inaccessible: number;
  readonly vanished: number;
  readonly lifecycleEvents: number;
  readonly scanMs: number;
  readonly detectMs: number;
  readonly outcomes: readonly RuleOutcome[];
  readonly raised: readonly Alert[];
}

/** Retention is cheap but not free: run it on the first cycle and then at most hourly. */
const RETENTION_EVERY_MS = 3_600_000;
/** The agent's own alert when packet capture loses packets (#captureLost). */
const CAPTURE_DROPS_RULE: RuleMeta = {
  id: 'DE-SYS-0001', name: 'Packet capture is losing packets', version: 1, severity: 'medium', attack: [],
  tags: ['monitor', 'network'], kind: 'event',
};

/** Kernel-event rules run at most this often (see #onKernelBatch). */
const KERNEL_PASS_MS = 250;
/** Network rules run at most this often: packet batches are stored about once a second anyway. */
const NETWORK_PASS_MS = 1_000;

export class Agent {
  readonly host: string;
  readonly dataDir: string;
  #rules: readonly Rule[] = [];
  #ruleProblems: readonly DaemonEyeError[] = [];
  #detection!: DaemonEyeConfig['detection'];

  /** The rules in force; rules pulled from a security center replace them while the agent runs. */
  get rules(): readonly Rule[] {
    return this.#rules;
  }

  get ruleProblems(): readonly DaemonEyeError[] {
    return this.#ruleProblems;
  }
  readonly #config: DaemonEyeConfig;
  readonly #log: Logger;
  readonly #lock: AgentLock;
  readonly #db: Db;
  readonly #writer: ScanWriter;
  readonly #recorder: AlertRecorder;
  readonly #source: SnapshotSource;
  readonly #detectors: Detector[];
  readonly #delivery: Delivery;
  readonly #ledger: Ledger;
  readonly #kernel: KernelIntake;
  /** Packet capture through the collector, decoded on a worker (enable_packet_capture). */
  readonly #network: NetworkPackets | null;
  #networkPassQueued = false;
  #lastNetworkPass = 0;
  /** Heartbeat, object pull and outbox bound when the data dir is enrolled with a center. */
  readonly #reporter: CenterReporter | null;
  readonly #headsQuery;
  #detecting: Promise<unknown> = Promise.resolve();
  #kernelPassQueued = false;
  #lastKernelPass = 0;
  #previous: Map<string, ProcessSnapshot> | null;
  #lastRetention = 0;
  /** TAXII feed sync + sighting sharing every stix_taxii.sync_interval (only while `run` runs). */
  #intelFeeds: IntelFeedService | null = null;

  constructor(config: DaemonEyeConfig, dataDir: string, log: Logger) {
    this.#config = config;
    this.#log = log;
    this.dataDir = dataDir;
    this.host = config.agent.host_name ?? hostname();
    this.#lock = new AgentLock(dataDir);
    const dbPath = storePath(dataDir);
    this.#db = openStoreForWriting(dbPath);
    try {
      this.#lock.acquire();
    } catch (e) {
      this.#db.close();
      throw e;
    }
    this.#writer = new ScanWriter(this.#db);
    const key = openLedgerKey(dataDir);
    for (const note of key.notes) log.warn('audit ledger key', { note });
    this.#ledger = new Ledger(this.#db, { signer: key.signer });
    // Enrolled with a security center: its sink, and the rules pulled from it (src/center-client/).
    const effective = withCenterSink(config, dataDir);
    this.#delivery = new Delivery(this.#db, effective, dataDir, log, (sink, alertIds, error) =>
      this.#audit('sink_dead_letter', { sink, alert_ids: alertIds, error }));
    this.#reporter = centerReporter(effective, dataDir, this.#db, log, this.host, () => this.counters(), () => this.#reloadRules());
    // The alert, its outbox rows and its ledger entry commit in one transaction.
    this.#recorder = new AlertRecorder(this.#db, this.host, (alert, now) => {
      this.#delivery.enqueue(alert, now);
      this.#ledger.append('alert', {
        alert_id: alert.alert_id, alert_uuid: alert.alert_uuid, rule_id: alert.rule_id, rule_version: alert.rule_version,
        severity: alert.severity, host: alert.host, dedup_key: alert.dedup_key, summary: alert.summary,
        first_seen: alert.first_seen, evidence_sha256: createHash('sha256').update(canonicalize(alert.evidence)).digest('hex'),
      }, now);
    });
    this.#audit('config_loaded', { sha256: createHash('sha256').update(canonicalize(JSON.parse(JSON.stringify(config)))).digest('hex'), data_dir: dataDir });
    const d = effective.detection;
    this.#detection = d;
    this.#loadRules();
    this.#detectors = [
      new SqlDetector({ dbPath, rules: this.#rules, timeoutMs: d.rule_timeout_ms, maxRowsPerRule: d.max_rows_per_rule }),
    ];
    const an = config.enterprise.analytics;
    if (an.enable_behavioral_analysis) {
      this.#detectors.push(new AnalyticsDetector({ dbPath, threshold: an.anomaly_threshold, windowDays: an.training_window_days,
        updateInterval: an.model_update_interval, machineLearning: an.enable_machine_learning, log: (level, m, f) => log[level](m, f) }));
    }
    // STIX indicators from TAXII feeds (intel_indicators), matched against new events: docs/intel.md.
    if (config.enterprise.stix_taxii.enable_integration) this.#detectors.push(new IntelDetector({ dbPath, host: this.host }));
    this.#source = createSnapshotSource(config);
    const k = config.enterprise.kernel_monitoring;
    // The kernel layer of this platform: eBPF on Linux, ETW on Windows, EndpointSecurity on macOS.
    this.#kernel = process.platform === 'win32' ? new EtwKernelEvents(dbPath, log, k, () => this.#onKernelBatch())
      : process.platform === 'darwin' ? new EsKernelEvents(dbPath, log, k, () => this.#onKernelBatch())
      : new KernelEvents(dbPath, dataDir, log, k, () => this.#onKernelBatch(), config.enterprise.network_monitoring);
    this.#network = config.enterprise.network_monitoring.enable_packet_capture
      ? new NetworkPackets(dbPath, dataDir, log, () => this.#onNetworkBatch(), (lost, totals) => this.#captureLost(lost, totals)) : null;
    this.#headsQuery = this.#db.prepare(HEADS_SQL);
    const baseline = this.#writer.latestSnapshots();
    this.#previous = baseline === null ? null : indexByKey(baseline);
  }

  /**
   * One full cycle: scan, store, detect, alert; then deliver what is due (alerts left in the outbox
   * by an earlier run included) for up to `drainMs`. What a sink could not take stays in the outbox.
   */
  async runOnce(drainMs = 30_000): Promise<CycleReport> {
    const report = await this.#process(await this.#source.scan());
    this.#reporter?.enforceBound();
    await this.#delivery.pump.drain(drainMs);
    await this.#reporter?.beat().catch((e: unknown) => this.#log.warn('center heartbeat failed', { reason: (e as Error).message }));
    return report;
  }

  /**
   * Scans every scan_interval until the signal aborts. Scans flow through a bounded queue: when
   * detection falls behind, the scanner waits (backpressure) instead of piling up scans.
   */
  async run(signal: AbortSignal, onCycle: (r: CycleReport) => void = () => {}): Promise<void> {
    const bus = new BoundedQueue<ProcessScan>(2);
    this.#delivery.pump.start();
    this.#reporter?.start();
    this.#intelFeeds = new IntelFeedService(this.#config, storePath(this.dataDir), this.#log);
    this.#intelFeeds.start();
    const processEvents = kernelLayerWanted(this.#config.enterprise.kernel_monitoring, process.platform);
    // Packet capture also runs in the privileged collector, so it is started for capture alone too.
    if (processEvents) await this.#kernel.start();
    else if (process.platform === 'linux' && this.#network !== null && this.#kernel instanceof KernelEvents) await this.#kernel.start(false);
    await this.#network?.start(this.#config.enterprise.network_monitoring.capture_interface, this.#config.enterprise.network_monitoring.flow_accounting);
    const intervalMs = this.#config.agent.scan_interval * 1000;
    const producer = (async () => {
      while (!signal.aborted) {
        try {
          await bus.push(await this.#source.scan());
        } catch (e) {
          this.#log.error('scan failed', { reason: (e as Error).message });
        }
        await sleep(intervalMs, undefined, { signal }).catch(() => {});
      }
      bus.close();
    })();
    for (let scan = await bus.take(); scan !== undefined; scan = await bus.take()) {
      try {
        onCycle(await this.#process(scan));
      } catch (e) {
        this.#log.error('cycle failed', { reason: (e as Error).message });
      }
    }
    await producer;
  }

  async close(): Promise<void> {
    await this.#intelFeeds?.stop();
    await this.#network?.stop();
    await this.#kernel.stop();
    for (const d of this.#detectors) await d.close();
    this.#checkpoint(true); // a clean stop signs everything recorded so far
    await this.#source.stop();
    await this.#reporter?.stop();
    await this.#delivery.close();
    this.#db.close();
    this.#lock.release();
  }

  /** Counters of every stage (the run command logs the kernel and sandbox ones with each cycle). */
  counters(): Record<string, number> {
    const sql = this.#detectors[0] as SqlDetector;
    return { ...this.#source.counters(), ...this.#kernel.counters, ...this.#network?.counters(), rule_sandbox_kills: sql.sandboxKills };
  }

  async #process(scan: ProcessScan): Promise<CycleReport> {
    const current = indexByKey(scan.snapshots);
    const lifecycle = diffScans(this.#previous, current, scan.finishedAt);
    const scanId = this.#writer.write({ host: this.host, ...scan }, lifecycle);
    this.#kernel.seed(scan.snapshots);
    this.#previous = current;

    const detectStarted = performance.now();
    const { raised, outcomes } = await this.#detect('scan', scanId);
    this.#maybeRetain();
    return {
      scanId, processes: scan.snapshots.length, inaccessible: scan.inaccessible, vanished: scan.vanished,
      lifecycleEvents: lifecycle.length, scanMs: scan.finishedAt - scan.startedAt,
      detectMs: performance.now() - detectStarted, outcomes, raised,
    };
  }

  /**
   * Loads the built-in rules, the configured rule directories and the rules pulled from a security
   * center (DATA_DIR/center-rules, which may appear after start), audits what is new or changed
   * against the rules table, and records them there.
   */
  #loadRules(): void {
    const d = this.#detection;
    const pulled = centerRulesDir(this.dataDir);
    const dirs = existsSync(pulled) && !d.rule_dirs.includes(pulled) ? [...d.rule_dirs, pulled] : d.rule_dirs;
    const loaded = loadRules({ builtin: d.builtin_rules, dirs });
    const disabled = new Set(d.disabled_rules);
    this.#rules = loaded.rules.map((r) => (disabled.has(r.id) ? { ...r, enabled: false } : r));
    this.#ruleProblems = loaded.problems;
    for (const p of loaded.problems) this.#log.warn('rule rejected', { code: p.code, reason: p.message });
    const sha = (sql: string) => createHash('sha256').update(sql).digest('hex');
    const before = new Map((this.#db.prepare('SELECT rule_id, sql_sha256 FROM rules').all() as { rule_id: string; sql_sha256: string }[]).map((r) => [r.rule_id, r.sql_sha256]));
    for (const r of this.#rules) {
      const was = before.get(r.id);
      if (was === sha(r.sql)) continue;
      this.#audit(was === undefined ? 'rule_loaded' : 'rule_changed', { rule_id: r.id, version: r.version, sql_sha256: sha(r.sql), source: r.source, enabled: r.enabled });
    }
    for (const p of loaded.problems) this.#audit('monitor', { event: 'rule_rejected', code: p.code, reason: p.message });
    this.#recorder.syncRules(this.#rules, sha);
  }

  /**
   * Rules pulled from the security center take effect at once: between two detection passes the
   * rule set is reloaded and the SQL detector switched to it (a revoked rule stops at the next pass).
   */
  #reloadRules(): void {
    this.#detecting = this.#detecting.then(() => {
      this.#loadRules();
      (this.#detectors[0] as SqlDetector).setRules(this.#rules);
      this.#log.info('rules reloaded', { rules: this.#rules.filter((r) => r.enabled).length, rejected_rules: this.#ruleProblems.length, reason: 'pulled from the security center' });
    }).catch((e: unknown) => this.#log.error('rule reload failed', { reason: (e as Error).message }));
  }

  /**
   * The capture is losing packets (pcap_stats: dropped by the kernel or the interface) or the
   * collector shed batches the agent could not take: what the network rules see is incomplete, which
   * an analyst must know, so it is an alert (DE-SYS-0001, one open alert per interface, touched on
   * each further loss) and a ledger entry, not only a log line.
   */
  #captureLost(lost: CaptureDrops, totals: CaptureDrops): void {
    const iface = this.#config.enterprise.network_monitoring.capture_interface ?? 'default';
    const reason = `packet capture on ${iface} lost ${lost.kernel} packets in the kernel buffer, ${lost.interface} at the interface `
      + `and ${lost.forwardBatches} batches between collector and agent since the last report `
      + `(totals ${totals.kernel} / ${totals.interface} / ${totals.forwardBatches})`;
    this.#log.warn('packet capture losing packets', { interface: iface, kernel: lost.kernel, interface_drops: lost.interface, batches: lost.forwardBatches });
    this.#audit('monitor', { event: 'capture_drops', capture_interface: iface, kernel: lost.kernel, interface: lost.interface, batches: lost.forwardBatches });
    void this.#detecting.then(() => {
      const raised = this.#recorder.record({
        findings: [{ rule: CAPTURE_DROPS_RULE, row: { dedup_key: `capture-drops|${iface}`, name: 'daemoneye-collector', reason, ...lost } }],
        outcomes: [],
      }, null);
      if (raised.length > 0) this.#delivery.pump.wake();
    });
  }

  /**
   * One detection pass. Passes are serialised (the scan cycle and kernel batches share one rule
   * sandbox and one set of cursors), and each records its alerts in one transaction.
   */
  #detect(trigger: 'scan' | 'kernel' | 'network', scanId: number | null): Promise<{ raised: Alert[]; outcomes: RuleOutcome[] }> {
    const pass = this.#detecting.then(async () => {
      const raised: Alert[] = [];
      const outcomes: RuleOutcome[] = [];
      const context = { trigger, scanId, heads: this.#heads(), cursors: this.#recorder.cursors() };
      for (const detector of this.#detectors) {
        const run = await detector.detect(context);
        raised.push(...this.#recorder.record(run, scanId));
        outcomes.push(...run.outcomes);
      }
      for (const o of outcomes) {
        if (o.status === 'ok') continue;
        this.#log.warn(`rule ${o.status}`, { rule: o.ruleId, reason: o.error ?? '' });
        this.#audit('monitor', { event: `rule_${o.status}`, rule_id: o.ruleId, reason: o.error ?? '' });
      }
      this.#checkpoint();
      if (raised.length > 0) this.#delivery.pump.wake();
      return { raised, outcomes };
    });
    this.#detecting = pass.catch(() => {});
    return pass;
  }

  /**
   * After a kernel batch is stored: run the kernel-event rules, at most once per KERNEL_PASS_MS and
   * coalescing the batches that arrive meanwhile (each pass reads every row since the rule's cursor).
   * The store worker commits every 250 ms too (kernel-store-worker.ts), so under load each commit
   * is followed by its pass at once; an alert comes within about a quarter of a second of the
   * exec, and at 2,000 execs a second this costs a quarter of the rule passes 100 ms did
   * (bench/kernel.bench.ts).
   */
  #onKernelBatch(): void {
    if (this.#kernelPassQueued) return;
    this.#kernelPassQueued = true;
    const wait = Math.max(0, this.#lastKernelPass + KERNEL_PASS_MS - Date.now());
    setTimeout(() => {
      void this.#detecting.then(() => {
        this.#kernelPassQueued = false;
        this.#lastKernelPass = Date.now();
        return this.#detect('kernel', null);
      }).catch((e: unknown) => this.#log.error('kernel-event detection failed', { reason: (e as Error).message }));
    }, wait);
  }

  /** After decoded packets are stored: the network rules, coalesced like kernel batches (#onKernelBatch). */
  #onNetworkBatch(): void {
    if (this.#networkPassQueued) return;
    this.#networkPassQueued = true;
    const wait = Math.max(0, this.#lastNetworkPass + NETWORK_PASS_MS - Date.now());
    setTimeout(() => {
      void this.#detecting.then(() => {
        this.#networkPassQueued = false;
        this.#lastNetworkPass = Date.now();
        return this.#detect('network', null);
      }).catch((e: unknown) => this.#log.error('network detection failed', { reason: (e as Error).message }));
    }, wait);
  }

  #heads(): RuleCursor {
    return this.#headsQuery.get() as RuleCursor;
  }

  /** Appends a security-relevant action to the audit ledger; the ledger must never stop the agent. */
  #audit(kind: string, payload: Record<string, unknown>): void {
    try {
      this.#ledger.append(kind, payload);
    } catch (e) {
      this.#log.error('audit ledger append failed', { kind, reason: (e as Error).message });
    }
  }

  /** Signs a checkpoint when one is due: after the alerts' transaction committed, never inside it. */
  #checkpoint(force = false): void {
    try {
      const c = force ? this.#ledger.checkpoint() : this.#ledger.checkpointIfDue();
      if (c?.created) this.#log.debug('audit checkpoint', { tree_size: c.treeSize });
    } catch (e) {
      this.#log.error('audit checkpoint failed', { code: (e as { code?: string }).code ?? '', reason: (e as Error).message });
    }
  }

  #maybeRetain(): void {
    const now = Date.now();
    if (now - this.#lastRetention < RETENTION_EVERY_MS) return;
    this.#lastRetention = now;
    const s = this.#config.store;
    const r = applyRetention(this.#db, { maxAgeDays: s.retention_days, maxSizeBytes: s.max_size_mb * 1024 * 1024 });
    if (r.scansDeleted > 0) this.#log.info('retention', { scans_deleted: r.scansDeleted, bytes: r.bytesAfter });
  }
}

