// What every route of a running center shares. Nothing in it is mutable state about agents or
// alerts: that lives in the database, so center processes behind one load balancer agree.
import type { Logger } from '../agent/logger.ts';
import type { Refusals } from './auth.ts';
import type { CenterCa } from './center-ca.ts';
import type { CenterRepo } from './center-repo.ts';
import type { CenterSettings } from './center-settings.ts';
import type { Engine } from './db/open-center-db.ts';

export interface CenterContext {
  readonly centerId: string;
  readonly dataDir: string;
  readonly settings: CenterSettings;
  readonly engine: Engine;
  readonly repo: CenterRepo;
  readonly ca: CenterCa;
  readonly log: Logger;
  readonly refusals: Refusals;
  /** Conflict policy for triage edits arriving from federation peers. */
  readonly conflictPolicy: 'primary_wins' | 'timestamp_wins' | 'manual_review';
  /** True when this center is a regional center of a federation (it has a primary). */
  readonly isRegional: boolean;
}
