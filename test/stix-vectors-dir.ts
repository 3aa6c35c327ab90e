// Where the OASIS STIX conformance vectors are: DAEMONEYE_STIX_VECTORS when set, else the project's
// shared folder beside the checkout (../shared/stix-vectors). Tests only read them. When neither
// exists the vector tests skip and say which path was tried.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const STIX_VECTOR_CANDIDATES: readonly string[] = [
  ...(process.env['DAEMONEYE_STIX_VECTORS'] ? [process.env['DAEMONEYE_STIX_VECTORS']] : []),
  join(here, '..', '..', 'shared', 'stix-vectors'),
];

/** The first folder that holds matcher-vectors.json, or the first candidate (so a skip names it). */
export const STIX_VECTORS_DIR: string = STIX_VECTOR_CANDIDATES.find((d) => existsSync(join(d, 'matcher-vectors.json'))) ?? STIX_VECTOR_CANDIDATES[0]!;
