// Features of a DNS name that tunnelling detection needs, computed once at write time because SQL
// has no entropy function: the part left of the registered domain, its length and entropy.

/**
 * The name without its last two labels (`x1.t.example.com` → `x1.t`). Two labels approximate the
 * registered domain; under multi-label public suffixes (co.uk) one more label stays in, which only
 * makes the subdomain look slightly longer.
 */
export function subdomainOf(name: string): string {
  const labels = name.split('.');
  return labels.length <= 2 ? '' : labels.slice(0, -2).join('.');
}

/** Shannon entropy in bits per character (0 for the empty string). */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return Math.round(h * 1000) / 1000;
}
