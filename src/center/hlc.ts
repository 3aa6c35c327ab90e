// Hybrid logical clock stamps for mutable triage state (status, assignee). A stamp is
// "WALL.COUNTER.NODE" with fixed-width numbers, so stamps compare as strings. A new stamp for an
// object is computed from the object's stored stamp (never from a per-process clock), which keeps
// several center processes on one PostgreSQL consistent: an edit made after seeing another always
// carries a larger stamp. The wall part is the local clock corrected by the offset to the primary
// measured at each federation sync (src/federation/), so a region whose clock is 10 minutes off
// does not win `timestamp_wins` because of it.

export interface HlcParts {
  readonly wall: number;
  readonly counter: number;
  readonly node: string;
}

export function formatHlc(p: HlcParts): string {
  return `${String(p.wall).padStart(15, '0')}.${String(p.counter).padStart(6, '0')}.${p.node}`;
}

export function parseHlc(s: string): HlcParts {
  const m = /^(\d{15})\.(\d{6})\.(.+)$/.exec(s);
  if (!m) throw new Error(`not an HLC stamp: ${s}`);
  return { wall: Number(m[1]), counter: Number(m[2]), node: m[3]! };
}

/** The stamp of a local edit to an object whose last stamp is `previous`. */
export function tick(previous: string | null, now: number, node: string): string {
  if (previous === null) return formatHlc({ wall: now, counter: 0, node });
  const p = parseHlc(previous);
  return now > p.wall ? formatHlc({ wall: now, counter: 0, node }) : formatHlc({ wall: p.wall, counter: p.counter + 1, node });
}

export function compareHlc(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
