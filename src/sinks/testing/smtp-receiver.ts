// A real SMTP server on 127.0.0.1 (smtp-server, by nodemailer's authors) that offers STARTTLS
// with the test CA's certificate, requires AUTH (only after TLS), and parses each message it
// accepts (mailparser). A test can make it refuse recipients or the message with a given code.
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { testPki } from './test-cert.ts';

export interface ReceivedMail {
  readonly mail: ParsedMail;
  readonly raw: Buffer;
  /** TLS was on when the message was sent (STARTTLS happened). */
  readonly secure: boolean;
  readonly user: string | undefined;
}

export interface SmtpRefusal { readonly code: number; readonly text: string }

export class SmtpReceiver {
  readonly mails: ReceivedMail[] = [];
  /** When set, RCPT TO / DATA are answered with this code. */
  refuseRcpt: SmtpRefusal | null = null;
  refuseData: SmtpRefusal | null = null;
  readonly #server: SMTPServer;
  #port = 0;

  private constructor(server: SMTPServer) {
    this.#server = server;
  }

  static async start(credentials: { user: string; pass: string }): Promise<SmtpReceiver> {
    const pki = testPki();
    let r!: SmtpReceiver;
    const refusal = (x: SmtpRefusal) => Object.assign(new Error(x.text), { responseCode: x.code });
    const server = new SMTPServer({
      secure: false,
      key: pki.serverKey,
      cert: pki.serverCert,
      authMethods: ['PLAIN', 'LOGIN'],
      allowInsecureAuth: false,
      logger: false,
      onAuth(auth, _session, cb) {
        if (auth.username === credentials.user && auth.password === credentials.pass) return cb(null, { user: auth.username });
        cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      },
      onRcptTo(_address, _session, cb) {
        cb(r.refuseRcpt ? refusal(r.refuseRcpt) : undefined);
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (r.refuseData) return cb(refusal(r.refuseData));
          const raw = Buffer.concat(chunks);
          simpleParser(raw).then((mail) => {
            r.mails.push({ mail, raw, secure: session.secure, user: session.user as string | undefined });
            cb();
          }, (e: Error) => cb(e));
        });
      },
    });
    server.on('error', () => {});
    r = new SmtpReceiver(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    r.#port = (server.server.address() as { port: number }).port;
    return r;
  }

  get port(): number {
    return this.#port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
