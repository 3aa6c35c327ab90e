// Runs the enabled SQL rules one after another in the sandbox, each with its own time budget. A rule
// that fails or overruns is reported in its outcome and the others still run.
import { DaemonEyeError } from '../../errors/catalogue.ts';
import { CURSOR_START, type DetectionContext, type DetectionTrigger, type DetectionRun, type Detector, type Finding, type RuleCursor, type RuleOutcome } from '../detector.ts';
import type { Rule } from './rule.ts';
import { RuleSandbox, type RuleRunResult } from './rule-sandbox.ts';
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
  /** Each rule's trigger, worked out once: the main thread's profile showed the view regexes run over every rule's SQL on every pass. */
  readonly #triggers = new Map<string, DetectionTrigger>();

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
    this.#triggers.clear();
  }

  get sandboxKills(): number {
    return this.#sandbox.killed;
  }

  /**
   * Runs the enabled rules that belong to this trigger: rules over the kernel event views after each
   * kernel batch (so a 5 ms process is caught within the batch window), all others after each scan.
   * The pass's rules go to the sandbox together (one round trip), each still with its own budget.
   */
  async detect(context: DetectionContext): Promise<DetectionRun> {
    const due: { rule: Rule; cursor: RuleCursor }[] = [];
    for (const rule of this.#options.rules) {
      if (!rule.enabled) continue;
      let trigger = this.#triggers.get(rule.id);
      if (trigger === undefined) this.#triggers.set(rule.id, (trigger = ruleTrigger(rule.sql)));
      if (trigger !== context.trigger) continue;
      const cursor = context.cursors.get(rule.id) ?? CURSOR_START;
      // An event rule whose views have no new rows since its last run has nothing to see: skipping it
      // saves its work in the sandbox (most passes bring execs and exits, not ptrace calls or DNS
      // answers). Its cursor stays where it was, which is still correct.
      if (context.trigger !== 'scan') {
        const fields = this.#fields.get(rule.id) ?? cursorFieldsRead(rule.sql);
        this.#fields.set(rule.id, fields);
        if (fields.length > 0 && fields.every((f) => (context.heads[f] ?? 0) <= (cursor[f] ?? 0))) continue;
      }
      due.push({ rule, cursor });
    }
    const findings: Finding[] = [];
    const outcomes: RuleOutcome[] = [];
    if (due.length === 0) return { findings, outcomes };
    const started = performance.now();
    let results: (RuleRunResult | Error)[];
    try {
      results = await this.#sandbox.runAll(due.map(({ rule, cursor }) => ({ sql: rule.sql, cursor })), {
        timeoutMs: this.#options.timeoutMs,
        maxRows: this.#options.maxRowsPerRule,
        heads: context.heads, // each row once: the cursor advances to these heads
      });
    } catch (e) {
      results = due.map(() => e as Error); // no sandbox could start: every rule of the pass failed
    }
    due.forEach(({ rule, cursor }, i) => {
      const result = results[i]!;
      if (!(result instanceof Error)) {
        for (const row of result.rows) findings.push({ rule, row });
        outcomes.push({
          ruleId: rule.id, status: 'ok', durationMs: result.durationMs, rows: result.rows.length,
          truncated: result.truncated, error: null, cursor: context.heads,
          clearsWhenAbsent: rule.kind === 'state',
        });
        return;
      }
      const timeout = result instanceof DaemonEyeError && result.code === 'DE_RULE_TIMEOUT';
      // A failed run keeps the old cursor so the events it missed are seen next time.
      outcomes.push({
        ruleId: rule.id, status: timeout ? 'timeout' : 'error',
        durationMs: timeout ? this.#options.timeoutMs : performance.now() - started, rows: 0,
        truncated: false, error: result.message, cursor,
        clearsWhenAbsent: rule.kind === 'state',
      });
    });
    return { findings, outcomes };
  }

  close(): Promise<void> {
    return this.#sandbox.close();
  }
}
