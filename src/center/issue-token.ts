// `daemoneye center token`: a single-use enrolment token, recorded (hashed) in the center's
// database so any center process sharing it can accept the enrolment.
import { databaseLocation, readCenterSettings } from './center-settings.ts';
import { CenterRepo } from './center-repo.ts';
import { openCenterDb } from './db/open-center-db.ts';
import { loadCenterCa } from './center-ca.ts';
import { newToken, secretHash } from './enrollment-token.ts';
import type { Role } from './pki/x509.ts';

export async function issueToken(dataDir: string, role: Role, ttlSeconds?: number): Promise<{ text: string; id: string; expiresAt: Date }> {
  const settings = readCenterSettings(dataDir);
  const ca = await loadCenterCa(dataDir);
  const opened = await openCenterDb(databaseLocation(dataDir, settings));
  try {
    const t = newToken(ca.caSha256);
    const now = Date.now();
    const ttlMs = (ttlSeconds ?? settings.token_ttl_s) * 1000;
    await new CenterRepo(opened.db).createToken(t.id, secretHash(t.secret), role, now, ttlMs);
    return { text: t.text, id: t.id, expiresAt: new Date(now + ttlMs) };
  } finally {
    await opened.close();
  }
}

export async function revokeIdentity(dataDir: string, id: string, reason: string): Promise<number> {
  const settings = readCenterSettings(dataDir);
  const opened = await openCenterDb(databaseLocation(dataDir, settings));
  try {
    return await new CenterRepo(opened.db).revokeIdentity(id, reason, Date.now());
  } finally {
    await opened.close();
  }
}
