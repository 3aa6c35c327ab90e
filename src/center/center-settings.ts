// center.json: what `center init` decided (the center's id, its database, where it listens), read
// by every later `daemoneye center ...` command against the same data directory.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DaemonEyeError } from '../errors/catalogue.ts';
import { centerPaths } from './center-paths.ts';

export const centerSettingsSchema = z.strictObject({
  center_id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/),
  /** "sqlite" (DATA_DIR/center.db) or a postgres:// URL. */
  database: z.string().min(1).default('sqlite'),
  listen: z.string().default('0.0.0.0:8443'),
  /** Lifetime of agent certificates; agents renew when a third is left. */
  cert_days: z.number().int().min(1).max(3650).default(90),
  token_ttl_s: z.number().int().min(30).max(7 * 86_400).default(900),
  max_body_bytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(8 * 1024 * 1024),
  max_alerts_per_request: z.number().int().min(1).max(100_000).default(5000),
  server_names: z.array(z.string()).default(() => []),
  /** Agent events (POST /api/v1/events) older than this many days are deleted by a periodic sweep. */
  events_retention_days: z.number().int().min(1).max(3650).default(14),
  /** Events one agent may store per minute (counted in the database, so every center process shares it). */
  max_events_per_minute: z.number().int().min(1).max(10_000_000).default(100_000),
  max_events_per_request: z.number().int().min(1).max(100_000).default(10_000),
});
export type CenterSettings = z.output<typeof centerSettingsSchema>;

export function readCenterSettings(dataDir: string): CenterSettings {
  const p = centerPaths(dataDir).config;
  let raw: string;
  try {
    raw = readFileSync(p, 'utf8');
  } catch {
    throw new DaemonEyeError('DE_CENTER_NOT_INITIALISED', `no center in ${dataDir} (${p} is missing)`);
  }
  const parsed = centerSettingsSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new DaemonEyeError('DE_CENTER_NOT_INITIALISED', `${p} is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** The database setting as a connection string Kysely can open. */
export function databaseLocation(dataDir: string, s: CenterSettings): string {
  return s.database === 'sqlite' ? centerPaths(dataDir).sqlite : s.database;
}
