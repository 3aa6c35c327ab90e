// A doctor check says ok, warn or fail, what it saw, and for anything but ok how to fix it.
export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
  readonly fix?: string;
}

export const STATUS_EXIT: Record<CheckStatus, number> = { ok: 0, warn: 1, fail: 2 };

export function worstStatus(results: readonly CheckResult[]): CheckStatus {
  if (results.some((r) => r.status === 'fail')) return 'fail';
  if (results.some((r) => r.status === 'warn')) return 'warn';
  return 'ok';
}
