// Error codes for security centers, enrolment and federation (DE_CENTER_*, DE_ENROLL_*, DE_FED_*). Append-only, like the main catalogue.
import type { ErrorSpec } from '../error-spec.ts';

export const CENTER_ERRORS = {
  DE_CENTER_NOT_INITIALISED: {
    summary: 'the data directory holds no security center (no CA or server certificate)',
    hint: 'run `daemoneye center init --data-dir DIR` first, or pass the --data-dir that `center init` used',
    exit: 2,
  },
  DE_CENTER_EXISTS: {
    summary: '`center init` found a center already set up in this data directory',
    hint: 'the existing CA was kept (agents trust it); use another --data-dir for a new center',
    exit: 2,
  },
  DE_CENTER_DB: {
    summary: "the center's database (SQLite file or PostgreSQL) cannot be opened or migrated",
    hint: 'check the path or the postgres:// URL in center.json (and that PostgreSQL accepts the connection)',
    exit: 3,
  },
  DE_CENTER_LISTEN: {
    summary: 'the center cannot listen on the address given',
    hint: 'pass --listen HOST:PORT with a free port (ports below 1024 need privileges)',
    exit: 2,
  },
  DE_CENTER_REQUEST: {
    summary: 'the center refused or could not answer a request',
    hint: 'the message gives the center\'s reason; the center logs every refusal (`GET /api/v1/refusals`)',
    exit: 4,
  },
  DE_ENROLL_TOKEN: {
    summary: 'the enrolment token is malformed, expired, already used or unknown to the center',
    hint: 'ask the center\'s operator for a new one: `daemoneye center token` (tokens are single-use and short-lived)',
    exit: 2,
  },
  DE_ENROLL_PIN: {
    summary: "the center's CA does not match the fingerprint carried by the token",
    hint: 'you may be talking to another server than the center: check the URL; do not enrol until the fingerprint matches',
    exit: 2,
  },
  DE_ENROLL_UNREACHABLE: {
    summary: 'the center cannot be reached over HTTPS',
    hint: 'check the URL (https://HOST:PORT), that `daemoneye center` runs there, and firewalls',
    exit: 4,
  },
  DE_ENROLL_MISSING: {
    summary: 'this data directory is not enrolled with a security center',
    hint: 'run `daemoneye enroll --center URL --token T` (get T from `daemoneye center token` on the center)',
    exit: 2,
  },
  DE_FED_CONFIG: {
    summary: 'enterprise.federation is enabled but incomplete',
    hint: 'a regional center needs primary_endpoint and an identity from `daemoneye enroll --center PRIMARY --token T --data-dir CENTER_DIR`',
    exit: 2,
  },
  DE_FED_CONFLICT: {
    summary: 'the triage conflict named does not exist or is already resolved',
    hint: 'list open conflicts with `daemoneye center conflicts` (or GET /api/v1/federation/conflicts)',
    exit: 2,
  },
} as const satisfies Record<string, ErrorSpec>;
