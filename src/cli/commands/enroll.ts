// `daemoneye enroll`: join a security center with a one-time token.
import type { Command } from 'commander';
import { enroll } from '../../center-client/enroll.ts';
import { buildContext, type GlobalOptions } from '../context.ts';

export function registerEnroll(program: Command): void {
  program
    .command('enroll')
    .description('enrol this agent (or regional center, or analyst CLI) with a security center')
    .requiredOption('--center <url>', "the center's URL, https://HOST:PORT")
    .requiredOption('--token <token>', 'the token printed by `daemoneye center token` on the center')
    .option('--name <name>', 'how the center lists this host (default: the host name)')
    .addHelpText('after', `
The token carries the SHA-256 of the center CA's public key: enrolment refuses a server whose CA
does not match, so no CA file needs copying. The key pair is generated here; the certificate and
the center's URL are stored in DATA_DIR/identity, and \`daemoneye run\` then reports to the center.

Examples:
  daemoneye enroll --center https://center.example.com:8443 --token de1.0a1b...
  daemoneye enroll --center https://primary:8443 --token "$T" --data-dir /var/lib/daemoneye-center   # a regional center`)
    .action(async (opts: { center: string; token: string; name?: string }, cmd: Command) => {
      const ctx = buildContext(cmd.optsWithGlobals<GlobalOptions>());
      const id = await enroll({ centerUrl: opts.center, token: opts.token, dataDir: ctx.dataDir, name: opts.name });
      ctx.log.info('enrolled', { id: id.id, role: id.role, center: id.center_url, certificate_expires: id.notAfter.toISOString() });
      process.stdout.write(`enrolled as ${id.role} ${id.id} with ${id.center_url} (certificate valid until ${id.notAfter.toISOString()})\n`);
    });
}
