// Error codes for STIX patterns and TAXII feeds (DE_STIX_*, DE_TAXII_*, DE_INTEL_*). Append-only, like the main catalogue.
import type { ErrorSpec } from '../error-spec.ts';

export const INTEL_ERRORS = {
  DE_TAXII_UNAUTHORIZED: {
    summary: 'the TAXII server refused the credentials (HTTP 401)',
    hint: 'check the feed\'s auth block (username/password, token or API key) and that the ${VAR} it names is set',
    exit: 4,
  },
  DE_TAXII_FORBIDDEN: {
    summary: 'the TAXII server does not let these credentials read or write this resource (HTTP 403)',
    hint: 'ask the feed operator for read access to the collection (write access for the share collection)',
    exit: 4,
  },
  DE_TAXII_NOT_FOUND: {
    summary: 'the TAXII API root, collection or object does not exist (HTTP 404)',
    hint: 'check the feed url (an API root, e.g. https://host/api1/) and collection_id; `daemoneye intel collections --feed NAME` lists them',
    exit: 4,
  },
  DE_TAXII_NOT_ACCEPTABLE: {
    summary: 'the server cannot answer in application/taxii+json;version=2.1 (HTTP 406)',
    hint: 'the server is not a TAXII 2.1 server (TAXII 2.0 servers are not supported); check the url',
    exit: 4,
  },
  DE_TAXII_UNSUPPORTED_MEDIA: {
    summary: 'the server refused the media type of what was posted (HTTP 415)',
    hint: 'the server is not a TAXII 2.1 server or does not accept envelopes; check the share collection url',
    exit: 4,
  },
  DE_TAXII_UNPROCESSABLE: {
    summary: 'the server refused the objects posted (HTTP 422)',
    hint: 'the message shows the server\'s description; the sightings stay unshared and are retried on the next share',
    exit: 4,
  },
  DE_TAXII_SERVER: {
    summary: 'the TAXII server failed (HTTP 5xx or another unexpected status) after every retry',
    hint: 'the sync resumes from its stored cursor next time; check the server\'s status with its operator',
    exit: 4,
  },
  DE_TAXII_NETWORK: {
    summary: 'the TAXII server could not be reached (DNS, connection refused, TLS failure) after every retry',
    hint: 'check the url, the network path and, for https, the tls.ca_file that signs the server certificate',
    exit: 4,
  },
  DE_TAXII_TIMEOUT: {
    summary: 'the TAXII server did not answer within the timeout',
    hint: 'raise the feed\'s timeout_ms if the server is slow; nothing of the unfinished page was stored',
    exit: 4,
  },
  DE_TAXII_TOO_LARGE: {
    summary: 'a TAXII response exceeded the size limit and was abandoned',
    hint: 'lower the feed\'s page_size or raise max_response_mb; nothing of the oversized page was stored',
    exit: 4,
  },
  DE_TAXII_INVALID_JSON: {
    summary: 'a TAXII response is not valid JSON, or nests deeper than the limit',
    hint: 'the server sent something other than a TAXII resource; nothing of that page was stored',
    exit: 4,
  },
  DE_TAXII_CONTENT_TYPE: {
    summary: 'a TAXII response has a content type other than application/taxii+json;version=2.1',
    hint: 'the url probably points at a web page or a TAXII 2.0 server rather than a TAXII 2.1 API root',
    exit: 4,
  },
  DE_TAXII_PROTOCOL: {
    summary: 'a TAXII response does not have the shape TAXII 2.1 requires',
    hint: 'the message names the field; report it to the feed operator',
    exit: 4,
  },
  DE_TAXII_PAGINATION: {
    summary: 'a TAXII page says there are more objects but gives no `next` token, or `more` is not a boolean',
    hint: 'the server\'s pagination is broken; the objects received so far are kept and the cursor resumes from them',
    exit: 4,
  },
  DE_TAXII_TIMESTAMP: {
    summary: 'a TAXII timestamp (X-TAXII-Date-Added-*, date_added, created/modified/valid_*) is not a valid RFC 3339 UTC time',
    hint: 'the server or producer sent a malformed or out-of-range time (e.g. year 99999); the object or page was rejected',
    exit: 4,
  },
  DE_TAXII_INVALID_OBJECT: {
    summary: 'a STIX object from a feed is invalid (missing id/type/spec_version, bad timestamps, bad pattern fields)',
    hint: 'the object was skipped and counted; the rest of the page was stored. Report it to the feed producer',
    exit: 4,
  },
  DE_TAXII_STATUS: {
    summary: 'objects posted to a TAXII collection were not all accepted (status failures or still pending)',
    hint: 'the status resource lists the failures; pending ones are re-checked on the next share',
    exit: 4,
  },
  DE_INTEL_FEED_UNKNOWN: {
    summary: 'no configured TAXII feed has this name',
    hint: 'list the feeds with `daemoneye config check --print`; the single-feed form is named "default"',
    exit: 2,
  },
  DE_INTEL_NO_FEEDS: {
    summary: 'no TAXII feed is configured',
    hint: 'set enterprise.stix_taxii.taxii_endpoint and collection_id, or add enterprise.stix_taxii.feeds (docs/taxii.md)',
    exit: 2,
  },
  DE_INTEL_TLS_FILE: {
    summary: 'a TLS file named in a TAXII feed (ca_file, cert_file, key_file) cannot be read',
    hint: 'check the path and permissions; relative paths are relative to the working directory',
    exit: 2,
  },
  DE_INTEL_NO_SHARE: {
    summary: 'sharing is asked for but enterprise.stix_taxii.share is not configured',
    hint: 'add a share block naming a writable collection (url, collection_id, auth) — docs/taxii.md',
    exit: 2,
  },
  DE_STIX_PATTERN: {
    summary: 'a STIX 2.1 pattern does not follow the pattern grammar',
    hint: 'the message names the column and what was expected there; patterns look like [file:hashes.\'SHA-256\' = \'...\'] (docs/intel.md)',
    exit: 2,
  },
  DE_STIX_PATTERN_INVALID: {
    summary: 'a STIX 2.1 pattern parses but cannot be matched (impossible date, bad hash value, mixed-type set, WITHIN 0, REPEATS 0, a regex RE2 refuses, a bad CIDR)',
    hint: 'fix the part the message quotes; `daemoneye intel validate PATTERN` re-checks it',
    exit: 2,
  },
  DE_STIX_PATTERN_LIMIT: {
    summary: 'a STIX 2.1 pattern exceeds a safety bound (length, nesting depth, set size, repeat count, regex size)',
    hint: 'the message names the bound; such patterns are refused so a hostile feed cannot stall the agent (docs/intel.md lists the bounds)',
    exit: 2,
  },
  DE_STIX_OBSERVED_DATA: {
    summary: 'observed data given to the matcher is invalid (not JSON, not a bundle of observed-data, bad timestamp, number_observed below 1, a reference that is not a string)',
    hint: 'the message names the object and field; `daemoneye intel match --help` shows the expected file shape',
    exit: 2,
  },
  DE_STIX_MATCH_LIMIT: {
    summary: 'matching a pattern against observed data produced more candidate bindings than the limit',
    hint: 'the pattern combines many observations (REPEATS, AND, FOLLOWEDBY over large data); narrow it or the data',
    exit: 2,
  },
} as const satisfies Record<string, ErrorSpec>;
