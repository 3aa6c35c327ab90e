// Enrolment tokens, printed by `daemoneye center token`: de1.ID.SECRET.CAHASH. The CA hash is the
// SHA-256 of the center CA's SubjectPublicKeyInfo (kubeadm's discovery hash), so the enrolling
// side can pin the center with nothing else. The center keeps only SHA-256(SECRET); a token is
// single-use (consumed by a conditional UPDATE that also works across center processes) and expires.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DaemonEyeError } from '../errors/catalogue.ts';

export interface ParsedToken {
  readonly id: string;
  readonly secret: string;
  readonly caSha256: string;
}

const FORMAT = /^de1\.([0-9a-f]{12})\.([A-Za-z0-9_-]{32})\.([0-9a-f]{64})$/;

export function newToken(caSha256: string): ParsedToken & { readonly text: string } {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(24).toString('base64url');
  return { id, secret, caSha256, text: `de1.${id}.${secret}.${caSha256}` };
}

export function parseToken(text: string): ParsedToken {
  const m = FORMAT.exec(text.trim());
  if (!m) {
    throw new DaemonEyeError('DE_ENROLL_TOKEN', 'the token is not a DaemonEye enrolment token (expected de1.ID.SECRET.CAHASH)', {
      hint: 'copy the whole line printed by `daemoneye center token`',
    });
  }
  return { id: m[1]!, secret: m[2]!, caSha256: m[3]! };
}

export const secretHash = (secret: string) => createHash('sha256').update(secret).digest('hex');

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(secretHash(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
