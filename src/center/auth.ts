// Who is calling: the verified client certificate, checked against the center's records on every
// request (revocation takes effect at once, in every center process sharing the database). Every
// refusal is logged and recorded in the refusals table; nothing of a refused request is stored.
import type { TLSSocket } from 'node:tls';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../agent/logger.ts';
import type { CenterRepo } from './center-repo.ts';
import { normalSerial } from './center-init.ts';
import { identityOf, type Role } from './pki/x509.ts';

export interface CallerIdentity {
  readonly id: string;
  readonly role: Role;
  readonly serial: string;
  readonly notAfter: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: CallerIdentity;
  }
  interface FastifyContextConfig {
    /** Roles allowed on the route; absent: public (enrolment, the OpenAPI document). */
    roles?: readonly Role[];
  }
}

export class Refusals {
  readonly #repo: CenterRepo;
  readonly #log: Logger;
  constructor(repo: CenterRepo, log: Logger) {
    this.#repo = repo;
    this.#log = log;
  }

  /** Logs and records a refusal, then answers it. */
  async refuse(req: FastifyRequest, reply: FastifyReply, status: number, reason: string, detail = ''): Promise<FastifyReply> {
    await this.record(req, reason, detail);
    return reply.code(status).send({ code: 'DE_CENTER_REQUEST', reason, message: detail === '' ? reason : `${reason}: ${detail}` });
  }

  async record(req: FastifyRequest, reason: string, detail = ''): Promise<void> {
    const remote = `${req.ip}:${req.socket.remotePort ?? ''}`;
    const path = req.url.split('?')[0]!.slice(0, 300);
    this.#log.warn('request refused', { reason, path, remote, identity: req.caller?.id ?? '', detail: detail.slice(0, 300) });
    try {
      await this.#repo.refusal({ at: Date.now(), reason, path, remote, identity: req.caller?.id ?? null, detail: detail.slice(0, 1000) || null });
    } catch (e) {
      this.#log.error('cannot record a refusal', { reason: (e as Error).message });
    }
  }
}

/** The onRequest hook: authenticates every non-public route and checks its role. */
export function authenticate(repo: CenterRepo, refusals: Refusals) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const roles = req.routeOptions.config?.roles;
    if (roles === undefined) return undefined;
    const socket = req.raw.socket as TLSSocket;
    const cert = socket.getPeerCertificate?.();
    if (cert === undefined || cert === null || Object.keys(cert).length === 0) {
      return refusals.refuse(req, reply, 401, 'no_client_certificate', 'this endpoint needs the certificate from `daemoneye enroll`');
    }
    if (!socket.authorized) {
      return refusals.refuse(req, reply, 401, 'certificate_not_trusted', String(socket.authorizationError ?? 'not signed by this center'));
    }
    const who = identityOf({ subjectaltname: cert.subjectaltname });
    if (who === null) return refusals.refuse(req, reply, 403, 'certificate_without_identity', `serial ${cert.serialNumber}`);
    const serial = normalSerial(cert.serialNumber);
    const row = await repo.certificate(serial);
    if (row === undefined) return refusals.refuse(req, reply, 403, 'certificate_unknown', `serial ${serial} was never issued by this center`);
    if (row.identity_id !== who.id) return refusals.refuse(req, reply, 403, 'certificate_identity_mismatch', `serial ${serial}`);
    req.caller = { id: who.id, role: who.role, serial, notAfter: row.not_after };
    if (row.revoked_at !== null) return refusals.refuse(req, reply, 403, 'certificate_revoked', `${who.role} ${who.id}: ${row.revoke_reason ?? ''}`);
    // A resumed TLS session is not re-verified by OpenSSL: the record's validity still applies.
    if (row.not_after <= Date.now()) return refusals.refuse(req, reply, 401, 'certificate_expired', `${who.role} ${who.id}`);
    if (!roles.includes(who.role)) return refusals.refuse(req, reply, 403, 'role_not_allowed', `${who.role} may not call this endpoint`);
    return undefined;
  };
}
