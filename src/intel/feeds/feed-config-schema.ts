// The keys of `enterprise.stix_taxii` beyond the single-feed form (schema.ts composes them in).
// Nested objects are nullable with a null default, so a config that uses none of them stays as
// short as before; secrets become Secret objects (printed `[redacted]`) exactly as sink secrets do.

import { z } from 'zod';
import { Secret } from '../../config/sinks-schema.ts';

const text = () => z.string().min(1);
const secret = () => text().transform((s) => new Secret(s));
/** Credentials go in `auth`, where they are redacted, never in a URL that logs and errors show. */
export const taxiiUrl = () => z.url({ protocol: /^https?$/ }).refine((u) => { const p = new URL(u); return p.username === '' && p.password === ''; },
  'a URL without user:password@ (use the auth block)');
const headerName = () => z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'an HTTP header name')
  .refine((h) => !['host', 'accept', 'content-type', 'content-length', 'connection', 'transfer-encoding'].includes(h.toLowerCase()), 'not a header the client sets itself');

export const taxiiAuthSchema = z.strictObject({
  /** basic: username + password; bearer: token; api_key: header + api_key. */
  type: z.enum(['basic', 'bearer', 'api_key']),
  username: text().optional(),
  password: secret().optional(),
  token: secret().optional(),
  header: headerName().optional(),
  api_key: secret().optional(),
}).superRefine((a, ctx) => {
  const need: Record<typeof a.type, readonly (keyof typeof a)[]> = { basic: ['username', 'password'], bearer: ['token'], api_key: ['api_key'] };
  for (const k of need[a.type]) if (a[k] === undefined) ctx.addIssue({ code: 'custom', message: `auth type ${a.type} needs ${k}`, path: [k] });
  const allowed = new Set<string>(['type', ...need[a.type], ...(a.type === 'api_key' ? ['header'] : [])]);
  for (const k of Object.keys(a)) if (!allowed.has(k)) ctx.addIssue({ code: 'custom', message: `${k} does not apply to auth type ${a.type}`, path: [k] });
});

export const taxiiTlsSchema = z.strictObject({
  /** PEM bundle of CAs to trust instead of the system store. */
  ca_file: text().optional(),
  /** Client certificate and key (PEM) for servers that require mutual TLS. */
  cert_file: text().optional(),
  key_file: text().optional(),
}).refine((t) => (t.cert_file === undefined) === (t.key_file === undefined), { message: 'cert_file and key_file go together', path: ['key_file'] });

const FEED_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const taxiiFeedSchema = z.strictObject({
  name: z.string().regex(FEED_NAME, 'letters, digits, _ . - (at most 64)'),
  enabled: z.boolean().default(true),
  /** The TAXII 2.1 API root, e.g. https://cti.example.com/api1/. */
  url: taxiiUrl(),
  collection_id: text(),
  auth: taxiiAuthSchema.nullable().default(null),
  tls: taxiiTlsSchema.nullable().default(null),
  /** STIX types asked for (match[type]); indicators are what the matcher uses. */
  types: z.array(z.string().regex(/^[a-z0-9-]{1,250}$/, 'a STIX type')).min(1).default(() => ['indicator']),
  /** Overrides of the block-wide settings for this feed. */
  page_size: z.number().int().min(1).max(10_000).optional(),
  timeout_ms: z.number().int().min(1000).max(600_000).optional(),
});

export const taxiiShareSchema = z.strictObject({
  /** The TAXII 2.1 API root holding the writable collection. */
  url: taxiiUrl(),
  collection_id: text(),
  auth: taxiiAuthSchema.nullable().default(null),
  tls: taxiiTlsSchema.nullable().default(null),
  /** Also post each sighting's matched observables as an observed-data object it refers to. */
  include_observed_data: z.boolean().default(false),
  /** Sightings per envelope. */
  batch_size: z.number().int().min(1).max(1000).default(100),
  /** Also post alerts of other detectors (SQL rules, anomalies) as observed-data + sighting bundles. */
  include_alerts: z.boolean().default(false),
  /** Only alerts of this severity and above. */
  alerts_min_severity: z.enum(['low', 'medium', 'high', 'critical']).default('high'),
});

export type TaxiiAuthConfig = z.output<typeof taxiiAuthSchema>;
export type TaxiiTlsConfig = z.output<typeof taxiiTlsSchema>;
export type TaxiiFeedConfig = z.output<typeof taxiiFeedSchema>;
export type TaxiiShareConfig = z.output<typeof taxiiShareSchema>;

/** The keys spread into `enterprise.stix_taxii` after the single-feed ones. */
export const STIX_TAXII_EXTRA_KEYS = {
  /** auth and tls of the single-feed form (taxii_endpoint + collection_id). */
  auth: taxiiAuthSchema.nullable().default(null),
  tls: taxiiTlsSchema.nullable().default(null),
  page_size: z.number().int().min(1).max(10_000).default(1000),
  timeout_ms: z.number().int().min(1000).max(600_000).default(30_000),
  max_response_mb: z.number().int().min(1).max(4096).default(64),
  feeds: z.array(taxiiFeedSchema).max(256).default(() => [])
    .refine((fs) => new Set(fs.map((f) => f.name)).size === fs.length, 'feed names must be unique')
    .refine((fs) => !fs.some((f) => f.name === 'default'), '"default" names the single-feed form (taxii_endpoint); pick another name'),
  share: taxiiShareSchema.nullable().default(null),
};
