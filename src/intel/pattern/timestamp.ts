// STIX timestamps as exact microseconds since the epoch (bigint: a double cannot hold microseconds
// for all years 1-9999). The reference matcher parses with Python's strptime and datetime, so a
// timestamp must be upper case, have a 4-digit year, and name a real date and time (no Feb 30, no
// second 60, no year 0); the fraction is cut to microseconds (the reference 3.0.0 accepts nanoseconds). A year like 99999 is refused, not wrapped.

export interface StixTime {
  /** Microseconds since 1970-01-01T00:00:00Z. */
  readonly us: bigint;
}

// strptime's own field patterns (%Y %m %d %H %M %S %f); it matches case-insensitively, hence the
// separate upper-case check.
const FORMAT = /^(\d{4})-(1[0-2]|0[1-9]|[1-9])-(3[01]|[12]\d|0[1-9]|[1-9]| [1-9])T(2[0-3]|[0-1]\d|\d):([0-5]\d|\d):(6[0-1]|[0-5]\d|\d)(?:\.(\d{1,12}))?Z$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Parses a STIX timestamp; returns null when the reference would refuse it. */
export function parseStixTime(text: string): StixTime | null {
  if (typeof text !== 'string' || text.length > 40 || /[a-z]/.test(text)) return null;
  const m = FORMAT.exec(text);
  if (m === null) return null;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((s) => Number(s!.trim()));
  if (year! < 1 || day! > daysInMonth(year!, month!) || second! > 59) return null;
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  const d = new Date(0);
  d.setUTCFullYear(year!, month! - 1, day!);
  d.setUTCHours(hour!, minute!, second!, 0);
  const base = BigInt(d.getTime()) * 1000n;
  const fraction = m[7] === undefined ? 0n : BigInt(m[7].slice(0, 6).padEnd(6, '0'));
  return { us: base + fraction };
}

/** Milliseconds as a StixTime (event timestamps from the agent). */
export function stixTimeFromMs(ms: number): StixTime {
  return { us: BigInt(Math.trunc(ms)) * 1000n };
}

export function compareStixTime(a: StixTime, b: StixTime): number {
  return a.us < b.us ? -1 : a.us > b.us ? 1 : 0;
}

export function formatStixTime(t: StixTime): string {
  const ms = Number(t.us / 1000n);
  return new Date(ms).toISOString();
}
