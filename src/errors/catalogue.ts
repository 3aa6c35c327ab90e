// The one place where DaemonEye's error codes live. Callers match on `code`, never on message text.
// docs/errors.md is checked against this table by src/errors/catalogue.test.ts, so add a row there
// too when you add a code here. Codes are append-only: never reuse or rename one.

import type { ErrorSpec } from './error-spec.ts';
import { NETWORK_ERRORS } from './codes/network.ts';
import { INTEL_ERRORS } from './codes/intel.ts';
import { ANALYTICS_ERRORS } from './codes/analytics.ts';
import { CENTER_ERRORS } from './codes/center.ts';
import { PLATFORM_ERRORS } from './codes/platform.ts';

export type { ErrorSpec } from './error-spec.ts';

const CORE_ERRORS = {
  DE_CONFIG_PARSE: {
    summary: 'the configuration file is not valid YAML',
    hint: 'fix the YAML syntax at the line shown; `daemoneye config check FILE` re-checks it',
    exit: 2,
  },
  DE_CONFIG_INVALID: {
    summary: 'a configuration key is unknown or has a value of the wrong type',
    hint: 'correct the key named in the message (accepted values are listed); `daemoneye config check FILE`',
    exit: 2,
  },
  DE_CONFIG_NOT_FOUND: {
    summary: 'the configuration file named with --config does not exist or cannot be read',
    hint: 'check the path and its permissions, or omit --config to use the defaults',
    exit: 2,
  },
  DE_ENV_INVALID: {
    summary: 'a DAEMONEYE_ environment variable does not name a configuration key or has a bad value',
    hint: 'use DAEMONEYE_SECTION__KEY=value with `__` between levels, e.g. DAEMONEYE_AGENT__SCAN_INTERVAL=10',
    exit: 2,
  },
  DE_DATA_DIR: {
    summary: 'the data directory cannot be created or written',
    hint: 'pass --data-dir to a writable directory, or run as a user that can write it',
    exit: 2,
  },
  DE_STORE_OPEN: {
    summary: 'the store (SQLite database) cannot be opened',
    hint: 'check the file permissions in the data directory; `daemoneye doctor` checks the store',
    exit: 3,
  },
  DE_STORE_CORRUPT: {
    summary: 'the store file is not a valid SQLite database or failed its integrity check',
    hint: 'the file was left untouched: move it aside (keep it as evidence) and DaemonEye will create a new store',
    exit: 3,
  },
  DE_STORE_LOCKED: {
    summary: 'the store is locked by another process',
    hint: 'another `daemoneye run` probably uses this data directory; stop it or use another --data-dir',
    exit: 3,
  },
  DE_STORE_TOO_NEW: {
    summary: 'the store was written by a newer DaemonEye (schema version above this build)',
    hint: 'upgrade DaemonEye, or point --data-dir at another directory',
    exit: 3,
  },
  DE_STORE_MISSING: {
    summary: 'there is no store in the data directory yet',
    hint: 'run `daemoneye run --once` first, or pass the --data-dir the agent uses',
    exit: 3,
  },
  DE_QUERY_INVALID: {
    summary: 'the SQL query is not valid or not allowed',
    hint: 'queries are read-only SELECTs over the tables in docs/schema.md; `daemoneye query --help`',
    exit: 2,
  },
  DE_RULE_PARSE: {
    summary: 'a rule file is not valid YAML or lacks required fields',
    hint: 'compare the rule with docs/howto/add-a-rule.md; `daemoneye rules validate FILE` names the field',
    exit: 2,
  },
  DE_RULE_SQL: {
    summary: "a rule's SQL is not a single read-only SELECT, or uses a banned function or statement",
    hint: 'rules are one SELECT (WITH allowed) over docs/schema.md tables; no ATTACH, PRAGMA or file functions',
    exit: 2,
  },
  DE_RULE_TIMEOUT: {
    summary: 'a rule ran past its time budget and was stopped',
    hint: 'narrow the rule (filter early, avoid cross joins) or raise detection.rule_timeout_ms',
    exit: 1,
  },
  DE_RULE_RUNTIME: {
    summary: 'a rule failed while running',
    hint: 'run its SQL with `daemoneye query` to see the error; the other rules keep running',
    exit: 1,
  },
  DE_RULE_DUPLICATE: {
    summary: 'two rule files declare the same rule id',
    hint: 'rule ids are unique and never reused: rename one (and bump its version)',
    exit: 2,
  },
  DE_RULE_FIXTURE: {
    summary: "a rule's fixtures did not produce the alerts they expect",
    hint: 'run `daemoneye rules test --rule ID` to see the expected and actual rows',
    exit: 1,
  },
  DE_SOURCE_UNAVAILABLE: {
    summary: 'a collection source cannot run on this host',
    hint: 'see `daemoneye doctor` for the reason; the agent falls back to the sources that can run',
    exit: 4,
  },
  DE_SINK_DELIVERY: {
    summary: 'an alert sink could not deliver: the receiver refused, timed out or was unreachable',
    hint: 'the alert stays in the outbox and is retried with backoff; `daemoneye alerts deliveries` shows the state',
    exit: 1,
  },
  DE_SINK_CONFIG: {
    summary: 'an alert sink is configured wrongly (address, URL, TLS files or credentials)',
    hint: 'check alerting.sinks in the configuration; `daemoneye config check FILE` validates it',
    exit: 2,
  },
  DE_LEDGER_TAMPERED: {
    summary: 'the audit ledger does not verify: an entry or checkpoint was edited, removed, reordered or inserted',
    hint: 'keep the store as evidence; the first bad sequence number is in the message',
    exit: 5,
  },
  DE_LEDGER_KEY: {
    summary: 'the audit ledger signing key cannot be created or read',
    hint: 'the key lives in DATA_DIR/ledger-key.pem (mode 0600): check its permissions and owner',
    exit: 5,
  },
  DE_BPF_LOAD: {
    summary: 'the kernel refused to load the eBPF programs',
    hint: 'needs root (CAP_BPF + CAP_PERFMON), BTF (/sys/kernel/btf/vmlinux) and a kernel with BTF tracepoints; run `daemoneye doctor`',
    exit: 4,
  },
  DE_BPF_ATTACH: {
    summary: 'an eBPF program loaded but could not attach to its kernel hook',
    hint: 'the message names the hook and the kernel error; `daemoneye doctor` lists which hooks attached',
    exit: 4,
  },
  DE_BPF_ARGS: {
    summary: 'the kernel sensor was opened with invalid options (ring size, argument bytes, batch window)',
    hint: 'the ring size must be a power of two of at least one page; see enterprise.kernel_monitoring in docs/configuration.md',
    exit: 2,
  },
  DE_BPF_BUSY: {
    summary: 'the kernel sensor is already open in this process',
    hint: 'close it before opening it again; one collector per host',
    exit: 4,
  },
  DE_NAPI: {
    summary: 'the native addon failed inside Node-API',
    hint: 'rebuild it with `npm run build:native` for this Node version; report the message if it persists',
    exit: 70,
  },
  DE_USAGE: {
    summary: 'the command line is not valid',
    hint: 'see `daemoneye COMMAND --help` for the options and examples',
    exit: 2,
  },
  DE_INTERNAL: {
    summary: 'an unexpected internal error',
    hint: 'please report it with the output of `daemoneye doctor` and the log',
    exit: 70,
  },
} as const satisfies Record<string, ErrorSpec>;

// Each area keeps its codes in codes/AREA.ts so areas can grow without touching one shared table.
export const ERRORS = {
  ...CORE_ERRORS,
  ...NETWORK_ERRORS,
  ...INTEL_ERRORS,
  ...ANALYTICS_ERRORS,
  ...CENTER_ERRORS,
  ...PLATFORM_ERRORS,
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** An error with a stable code, a hint for the operator and the underlying cause. */
export class DaemonEyeError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  override readonly cause: unknown;

  constructor(code: ErrorCode, message?: string, options: { hint?: string; cause?: unknown } = {}) {
    const spec = ERRORS[code];
    super(message ?? spec.summary);
    this.name = 'DaemonEyeError';
    this.code = code;
    this.hint = options.hint ?? spec.hint;
    this.cause = options.cause;
  }

  get exitCode(): number {
    return ERRORS[this.code].exit;
  }

  /** One block an operator can read: code, message, hint, and the cause's message if any. */
  describe(): string {
    const cause = this.cause instanceof Error ? `\n  cause: ${this.cause.message}` : '';
    return `error ${this.code}: ${this.message}\n  hint: ${this.hint}${cause}`;
  }
}

export function isDaemonEyeError(e: unknown, code?: ErrorCode): e is DaemonEyeError {
  return e instanceof DaemonEyeError && (code === undefined || e.code === code);
}
