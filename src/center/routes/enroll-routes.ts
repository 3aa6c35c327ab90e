// Enrolment (public endpoints, reached before the caller has a certificate) and renewal.
// GET /api/v1/enroll/ca gives the CA certificate, which the enrolling side checks against the hash
// in its token before trusting it; POST /api/v1/enroll trades a valid token and a CSR for a
// certificate. POST /api/v1/renew (mutual TLS) gives an identity a new certificate for a new key.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { CenterContext } from '../center-context.ts';
import { recordCertificate } from '../center-init.ts';
import { parseToken } from '../enrollment-token.ts';
import { issueCertificate, verifiedCsrKey, type Role } from '../pki/x509.ts';
import { DaemonEyeError } from '../../errors/catalogue.ts';

const enrollInput = z.strictObject({
  token: z.string().max(200),
  csr: z.string().max(16_384),
  name: z.string().min(1).max(255),
});
const renewInput = z.strictObject({ csr: z.string().max(16_384) });

export function enrollRoutes(app: FastifyInstance, ctx: CenterContext): void {
  app.get('/api/v1/enroll/ca', async () => ({ ca_pem: ctx.ca.certPem, ca_sha256: ctx.ca.caSha256, center_id: ctx.centerId }));

  app.post('/api/v1/enroll', { bodyLimit: 64 * 1024 }, async (req, reply) => {
    const parsed = enrollInput.safeParse(req.body);
    if (!parsed.success) return ctx.refusals.refuse(req, reply, 400, 'malformed_enrolment', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    let token;
    try {
      token = parseToken(parsed.data.token);
    } catch (e) {
      return ctx.refusals.refuse(req, reply, 401, 'token_malformed', (e as DaemonEyeError).message);
    }
    if (token.caSha256 !== ctx.ca.caSha256) return ctx.refusals.refuse(req, reply, 401, 'token_for_another_center', 'the token names another CA');
    let publicKey;
    try {
      publicKey = await verifiedCsrKey(parsed.data.csr);
    } catch (e) {
      return ctx.refusals.refuse(req, reply, 400, 'csr_invalid', (e as Error).message);
    }
    const id = randomUUID();
    const now = Date.now();
    const check = await ctx.repo.consumeToken(token.id, token.secret, id, now);
    if (!check.ok) return ctx.refusals.refuse(req, reply, 401, `token_${check.reason}`, `token ${token.id}`);
    const role = check.role as Role;
    const certPem = await issueCertificate(ctx.ca, publicKey, {
      commonName: id, notAfter: new Date(now + ctx.settings.cert_days * 86_400_000), client: { role, id },
    });
    await recordCertificate(ctx.repo, certPem, { id, role, name: parsed.data.name, centerId: ctx.centerId, now });
    ctx.log.info('enrolled', { id, role, name: parsed.data.name, token: token.id, remote: req.ip });
    return reply.code(201).send({ id, role, cert_pem: certPem, ca_pem: ctx.ca.certPem, center_id: ctx.centerId });
  });

  app.post('/api/v1/renew', { config: { roles: ['agent', 'center', 'analyst'] }, bodyLimit: 64 * 1024 }, async (req, reply) => {
    const parsed = renewInput.safeParse(req.body);
    if (!parsed.success) return ctx.refusals.refuse(req, reply, 400, 'malformed_renewal', parsed.error.message);
    let publicKey;
    try {
      publicKey = await verifiedCsrKey(parsed.data.csr);
    } catch (e) {
      return ctx.refusals.refuse(req, reply, 400, 'csr_invalid', (e as Error).message);
    }
    const who = req.caller!;
    const now = Date.now();
    const certPem = await issueCertificate(ctx.ca, publicKey, {
      commonName: who.id, notAfter: new Date(now + ctx.settings.cert_days * 86_400_000), client: { role: who.role, id: who.id },
    });
    // The old certificate stays valid until it expires: requests already in flight with it succeed.
    await recordCertificate(ctx.repo, certPem, { id: who.id, role: who.role, name: '', centerId: ctx.centerId, now }, false);
    ctx.log.info('certificate renewed', { id: who.id, role: who.role });
    return reply.code(201).send({ id: who.id, role: who.role, cert_pem: certPem, ca_pem: ctx.ca.certPem });
  });
}
