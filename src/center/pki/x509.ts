// The center's certificate authority: ECDSA P-256 keys (every TLS stack and OpenSSL accept them,
// unlike Ed25519 certificates), certificates built with @peculiar/x509 over node:crypto's WebCrypto.
// Agent certificates carry the agent id as CN and as a URI SAN (urn:daemoneye:ROLE:ID): the
// center takes the identity from the verified certificate, never from what a request says.
import './reflect-metadata-shim.ts';
import { createHash, randomBytes, webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

export const ROLES = ['agent', 'center', 'analyst'] as const;
export type Role = (typeof ROLES)[number];

export interface KeyPairPem {
  readonly privateKeyPem: string;
  readonly keys: CryptoKeyPair;
}

const pem = (label: string, der: ArrayBuffer) =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;

export async function generateKeyPair(): Promise<KeyPairPem> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as CryptoKeyPair;
  return { keys, privateKeyPem: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) };
}

export async function importPrivateKey(privateKeyPem: string): Promise<CryptoKey> {
  const b64 = privateKeyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return webcrypto.subtle.importKey('pkcs8', Buffer.from(b64, 'base64'), EC, false, ['sign']) as Promise<CryptoKey>;
}

const serial = () => {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // positive INTEGER
  return b.toString('hex');
};

/**
 * Certificates start an hour in the past: a host whose clock is behind the issuer's (or an issuer
 * whose clock is fast) would otherwise refuse a fresh certificate as "not yet valid".
 */
const BACKDATE_MS = 3_600_000;

export async function createCa(commonName: string, days: number): Promise<{ certPem: string; key: KeyPairPem }> {
  const key = await generateKeyPair();
  const now = new Date(Date.now() - BACKDATE_MS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(), name: `CN=${commonName}, O=DaemonEye`, notBefore: now, notAfter: new Date(now.getTime() + days * 86_400_000),
    signingAlgorithm: SIGN, keys: key.keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(key.keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), key };
}

export interface Issuer {
  readonly certPem: string;
  readonly signingKey: CryptoKey;
}

export interface IssueOptions {
  readonly commonName: string;
  /** Hex; random when omitted. */
  readonly serialNumber?: string;
  readonly notBefore?: Date;
  readonly notAfter: Date;
  readonly server?: { dns: readonly string[]; ips: readonly string[] };
  readonly client?: { role: Role; id: string };
}

/** Signs a certificate for `publicKey` (a CryptoKey or a CSR's key) with the CA. */
export async function issueCertificate(ca: Issuer, publicKey: x509.PublicKeyType | CryptoKey, o: IssueOptions): Promise<string> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const names: x509.JsonGeneralName[] = [];
  const usages: x509.ExtendedKeyUsageType[] = [];
  if (o.server) {
    for (const d of o.server.dns) names.push({ type: 'dns', value: d });
    for (const i of o.server.ips) names.push({ type: 'ip', value: i });
    usages.push(x509.ExtendedKeyUsage.serverAuth);
  }
  if (o.client) {
    names.push({ type: 'url', value: identityUri(o.client.role, o.client.id) });
    usages.push(x509.ExtendedKeyUsage.clientAuth);
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: o.serialNumber ?? serial(), subject: `CN=${o.commonName}, O=DaemonEye`, issuer: caCert.subject,
    notBefore: o.notBefore ?? new Date(Date.now() - BACKDATE_MS), notAfter: o.notAfter,
    signingAlgorithm: SIGN, publicKey: publicKey as x509.PublicKeyType, signingKey: ca.signingKey as never,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(usages, false),
      new x509.SubjectAlternativeNameExtension(names, false),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return cert.toString('pem');
}

export function identityUri(role: Role, id: string): string {
  return `urn:daemoneye:${role}:${id}`;
}

/** A CSR (PEM) for a fresh key; the subject is informative only: the center assigns the identity. */
export async function createCsr(key: KeyPairPem, commonName: string): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${commonName.replace(/[,=+<>#;"\\]/g, '_')}`, keys: key.keys, signingAlgorithm: SIGN });
  return csr.toString('pem');
}

/** Parses and verifies a CSR's self-signature; returns its public key. Throws on anything else. */
export async function verifiedCsrKey(csrPem: string): Promise<x509.PublicKey> {
  const csr = new x509.Pkcs10CertificateRequest(csrPem);
  if (!(await csr.verify())) throw new Error('the CSR signature does not verify');
  const alg = csr.publicKey.algorithm as { name: string; namedCurve?: string };
  if (alg.name !== 'ECDSA' || alg.namedCurve !== 'P-256') throw new Error(`CSR key must be ECDSA P-256, not ${alg.name} ${alg.namedCurve ?? ''}`);
  return csr.publicKey;
}

/** SHA-256 of the certificate's SubjectPublicKeyInfo, hex: what kubeadm's discovery hash pins. */
export function spkiSha256(certPem: string): string {
  const der = new NodeX509(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex');
}

/** The identity a certificate names: role and id from its urn:daemoneye URI SAN. */
export function identityOf(cert: { subjectaltname?: string | undefined }): { role: Role; id: string } | null {
  const m = /URI:urn:daemoneye:(agent|center|analyst):([A-Za-z0-9-]{1,64})(?:,|$)/.exec(cert.subjectaltname ?? '');
  return m ? { role: m[1] as Role, id: m[2]! } : null;
}
