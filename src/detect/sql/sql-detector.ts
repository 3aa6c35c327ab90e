// Runs the enabled SQL rules one after another in the sandbox, each with its own time budget. A rule
// that fails or overruns is reported in its outcome and the others still run.
import { DaemonEyeError } from '../../errors/catalogue.ts';
import { CURSOR_START, type DetectionContext, type DetectionRun, type Detector, type Finding, type RuleCursor, type RuleOutcome } from '../detector.ts';
import type { Rule } from './rule.ts';
import { RuleSandbox } from './rule-sandbox.ts';
import { cursorFieldsRead, ruleTrigger } from './rule-context.ts';

export interface SqlDetectorOptions {
  readonly dbPath: string;
  readonly rules: readonly Rule[];
  readonly timeoutMs: number;
  readonly maxRowsPerRule: number;
}

export class SqlDetector implements Detector {
  readonly name = 'sql';
  #options: SqlDetectorOptions;
  readonly #sandbox: RuleSandbox;
  readonly #fields = new Map<string, (keyof RuleCursor)[]>();

  constructor(options: SqlDetectorOptions) {
    this.#options = options;
    this.#sandbox = new RuleSandbox(options.dbPath);
  }

  get rules(): readonly Rule[] {
    return this.#options.rules;
  }

  /** Switches to a new rule set (rules reloaded while the agent runs); takes effect at the next pass. */
  setRules(rules: readonly Rule[]): void {
    this.#options = { ...this.#options, rules };
    this.#fields.clear();
  }

  get sandboxKills(): number {
    return this.#sandbox.killed;
  }

  /**
   * Runs the enabled rules that belong to this trigger: rules over the kernel event views after each
   * kernel batch (so a 5 ms process is caught within the batch window), all others after each scan.
   */
  async detect(context: DetectionContext): Promise<DetectionRun> {
    const findings: Finding[] = [];
    const outcomes: RuleOutcome[] = [];
    for (const rule of this.#options.rules) {
      if (!rule.enabled || ruleTrigger(rule.sql) !== context.trigger) continue;
      const cursor = context.cursors.get(rule.id) ?? CURSOR_START;
      // An event rule whose views have no new rows since its last run has nothing to see: skipping it
      // saves a sandbox round trip per rule per pass (most passes bring execs and exits, not
      // ptrace calls or DNS answers). Its cursor stays where it was, which is still correct.
      if (context.trigger !== 'scan') {
        const fields = this.#fields.get(rule.id) ?? cursorFieldsRead(rule.sql);
        this.#fields.set(rule.id, fields);
        if (fields.length > 0 && fields.every((f) => (context.heads[f] ?? 0) <= (cursor[f] ?? 0))) continue;
      }
      const started = performance.now();
      try {
        const result = await this.#sandbox.run(rule.sql, {
          timeoutMs: this.#options.timeoutMs,
          cursor,
          maxRows: this.#options.maxRowsPerRule,
        });
        for (const row of result.rows) findings.push({ rule, row });
        outcomes.push({
          ruleId: rule.id, status: 'ok', durationMs: result.durationMs, rows: result.rows.length,
          truncated: result.truncated, error: null, cursor: context.heads,
          clearsWhenAbsent: rule.kind === 'state',
        });
      } catch (e) {
        const timeout = e instanceof DaemonEyeError && e.code === 'DE_RULE_TIMEOUT';
        // A failed run keeps the old cursor so the events it missed are seen next time.
        outcomes.push({
          ruleId: rule.id, status: timeout ? 'timeout' : 'error', durationMs: performance.now() - started, rows: 0,
          truncated: false, error: (e as Error).message, cursor,
          clearsWhenAbsent: rule.kind === 'state',
        });
      }
    }
    return { findings, outcomes };
  }

  close(): Promise<void> {
    return this.#sandbox.close();
  }
}
