// DaemonEye's public programmatic surface (package.json "exports"). Everything else is internal.
export { Agent, type CycleReport } from './agent/agent.ts';
export { createLogger, silentLogger, type Logger, type LogLevel } from './agent/logger.ts';
export type { Alert } from './alerts/alert.ts';
export { loadConfig, checkConfigFile, defaultConfig, type DaemonEyeConfig, type ResolvedConfig } from './config/index.ts';
export type { Detector, DetectionRun, Finding, RuleOutcome } from './detect/detector.ts';
export { loadRules, loadRuleFile } from './detect/sql/load-rules.ts';
export type { Rule, Severity } from './detect/sql/rule.ts';
export { DaemonEyeError, ERRORS, isDaemonEyeError, type ErrorCode } from './errors/catalogue.ts';
export type { ProcessSnapshot } from './normalize/process-snapshot.ts';
export type { Sink } from './sinks/sink.ts';
export type { Source, SnapshotSource, ProcessScan } from './sources/source.ts';
export { Ledger, openLedgerKey, verifyLedger } from './ledger/index.ts';
