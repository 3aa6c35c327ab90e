// A triage edit as federation peers exchange it (the triage_log row on the wire).
import { z } from 'zod';

export const triageEditSchema = z.strictObject({
  edit_id: z.uuid(),
  alert_uuid: z.uuid(),
  status: z.enum(['open', 'acknowledged', 'resolved', 'false_positive']).nullable(),
  assignee: z.string().max(200).nullable(),
  assignee_set: z.boolean(),
  note: z.strictObject({ note_uuid: z.uuid(), text: z.string().max(16_384) }).nullable(),
  author: z.string().max(200),
  hlc: z.string().regex(/^\d{15}\.\d{6}\..{1,64}$/),
  /** The stamps of the states this edit was made on: it supersedes them (and only them). */
  base_hlcs: z.array(z.string().max(100)).max(16),
  origin_center: z.string().max(64),
  at: z.number().int(),
});
export type TriageEdit = z.output<typeof triageEditSchema>;

export const CONFLICT_POLICIES = ['primary_wins', 'timestamp_wins', 'manual_review'] as const;
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];
