// The TAXII 2.1 media type and the checks both our client and our server apply to it.
// TAXII 2.1 section 1.6.8: every request and response carries exactly this type with version=2.1;
// a TAXII 2.0 server (application/vnd.oasis.taxii+json) speaks a different protocol.

export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';
export const STIX_MEDIA_TYPE = 'application/stix+json;version=2.1';

interface MediaType {
  readonly type: string;
  readonly params: ReadonlyMap<string, string>;
}

/** `Application/TAXII+json; Version="2.1"` -> {type: 'application/taxii+json', params: {version: '2.1'}}. */
export function parseMediaType(value: string): MediaType | null {
  const [head, ...rest] = value.split(';');
  const type = head?.trim().toLowerCase() ?? '';
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type)) return null;
  const params = new Map<string, string>();
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'));
  }
  return { type, params };
}

/** True for application/taxii+json;version=2.1 however it is spaced or cased. */
export function isTaxii21(value: string | undefined): boolean {
  if (value === undefined) return false;
  const m = parseMediaType(value);
  return m !== null && m.type === 'application/taxii+json' && m.params.get('version') === '2.1';
}

/**
 * Whether an Accept header lets a server answer with TAXII 2.1. `application/taxii+json` without a
 * version means the newest the server supports (2.1 here); `*\/*` is not enough: the spec requires
 * clients to ask for TAXII explicitly, and a browser should not get TAXII by accident.
 */
export function acceptsTaxii21(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.split(',').some((part) => {
    const m = parseMediaType(part);
    if (m === null || m.type !== 'application/taxii+json') return false;
    const v = m.params.get('version');
    return v === undefined || v === '2.1';
  });
}
