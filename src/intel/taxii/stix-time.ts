// STIX/TAXII timestamps: RFC 3339, UTC, `Z`, four-digit year (STIX 2.1 section 3.2). Feeds are
// hostile input: a year-99999 or a "2024-02-30" time must be rejected here, not turned by Date.parse
// into something odd that then sorts or expires indicators wrongly.
//
// Times are compared as microseconds since the epoch: STIX allows any number of fraction digits,
// so the strings themselves do not sort ("...:00Z" sorts after "...:00.5Z").

const STIX_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/** Earliest and latest instants accepted: anything outside is a producer bug or an attack. */
const MIN_YEAR = 1970;
const MAX_YEAR = 9999;

/** Microseconds since the epoch, or null when `s` is not a valid STIX timestamp. */
export function parseStixTimeMicros(s: unknown): number | null {
  if (typeof s !== 'string' || s.length > 40) return null;
  const m = STIX_TIME.exec(s);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (year < MIN_YEAR || year > MAX_YEAR || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return null;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) return null;
  // A leap second (":60") is allowed by RFC 3339; count it as the next second's start.
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const micros = Number(((m[7] ?? '') + '000000').slice(0, 6));
  return ms * 1000 + micros;
}

/** Milliseconds since the epoch (what the store keeps), or null when invalid. */
export function parseStixTimeMs(s: unknown): number | null {
  const us = parseStixTimeMicros(s);
  return us === null ? null : Math.floor(us / 1000);
}

/** `2026-11-28T20:41:43.123456Z`: fixed width, so these strings sort like the times they name. */
export function formatStixMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms).toISOString(); // 2026-11-28T20:41:43.123Z
  return `${iso.slice(0, 23)}${String(micros % 1000).padStart(3, '0')}Z`;
}

/** Normalises a valid STIX timestamp to the fixed-width form; null when invalid. */
export function normalizeStixTime(s: unknown): string | null {
  const us = parseStixTimeMicros(s);
  return us === null ? null : formatStixMicros(us);
}
