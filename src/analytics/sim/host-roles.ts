// What ordinary days look like on four kinds of host: each behaviour is a parent starting a child
// with a command-line template, a daily rate, the hours it happens, and its resource profile.
// Rates and shapes follow what these hosts really do (cron and monitoring every minute, admins in
// office hours, image conversion through a shell on PHP sites, WAL archiving on PostgreSQL, builds
// and curl-pipe-sh installers on CI), including the awkward parts that make detection hard: the web
// server's PHP already spawns shells, CI already downloads and runs scripts.
import type { Prng } from '../models/prng.ts';

export type Hours = 'always' | 'business' | 'night';

export interface Behaviour {
  readonly parent: readonly [name: string, path: string];
  readonly child: readonly [name: string, path: string];
  readonly user: string;
  readonly cmd: (r: Prng) => string;
  readonly perDay: number;
  readonly hours: Hours;
  /** Median lifetime in seconds (log-normal around it). */
  readonly lifetime: number;
  /** Median CPU % and resident memory in MiB. */
  readonly cpu: number;
  readonly memMb: number;
  /** Remote endpoints it connects to (0 for most). */
  readonly fanOut?: number;
}

export const ROLES = ['web', 'db', 'dev', 'ci'] as const;
export type Role = (typeof ROLES)[number];

const hex = (r: Prng, n: number) => Array.from({ length: n }, () => '0123456789abcdef'[r.int(16)]).join('');
const b = (parent: readonly [string, string], child: readonly [string, string], user: string, cmd: (r: Prng) => string,
  perDay: number, hours: Hours, lifetime: number, cpu: number, memMb: number, fanOut = 0): Behaviour =>
  ({ parent, child, user, cmd, perDay, hours, lifetime, cpu, memMb, fanOut });

const CRON: [string, string] = ['cron', '/usr/sbin/cron'];
const SYSTEMD: [string, string] = ['systemd', '/usr/lib/systemd/systemd'];
const SSHD: [string, string] = ['sshd', '/usr/sbin/sshd'];
const BASH: [string, string] = ['bash', '/usr/bin/bash'];
const SH: [string, string] = ['sh', '/usr/bin/dash'];

/** Every Linux server: cron, timers, monitoring, an admin logging in during office hours. */
const COMMON: Behaviour[] = [
  b(CRON, SH, 'root', () => 'sh -c cd / && run-parts --report /etc/cron.hourly', 24, 'always', 1, 0.5, 2),
  b(CRON, SH, 'root', () => '/bin/sh -c /usr/local/bin/collect-smart.sh > /var/lib/node_exporter/smart.prom', 1440, 'always', 2, 1, 3),
  b(SH, ['smartctl', '/usr/sbin/smartctl'], 'root', () => 'smartctl -A /dev/sda', 1440, 'always', 1, 2, 4),
  b(SYSTEMD, ['logrotate', '/usr/sbin/logrotate'], 'root', () => '/usr/sbin/logrotate /etc/logrotate.conf', 1, 'night', 3, 5, 6),
  b(SYSTEMD, ['apt-get', '/usr/bin/apt-get'], 'root', () => 'apt-get -qq update', 2, 'always', 20, 20, 60, 3),
  b(SYSTEMD, ['systemd-tmpfiles', '/usr/bin/systemd-tmpfiles'], 'root', () => 'systemd-tmpfiles --clean', 1, 'always', 1, 2, 5),
  b(SYSTEMD, ['fstrim', '/usr/sbin/fstrim'], 'root', () => '/sbin/fstrim --listed-in /etc/fstab:/proc/self/mountinfo --verbose', 1 / 7, 'night', 5, 3, 3),
  b(SSHD, BASH, 'admin', () => '-bash', 3, 'business', 1800, 0.1, 5),
  b(BASH, ['sudo', '/usr/bin/sudo'], 'admin', (r) => `sudo ${r.pick(['systemctl status nginx', 'journalctl -u postgresql --since today', 'tail -n 200 /var/log/syslog', 'apt-get upgrade -y', 'systemctl restart node_exporter'])}`, 6, 'business', 10, 1, 8),
  b(BASH, ['ls', '/usr/bin/ls'], 'admin', (r) => `ls ${r.pick(['-la', '-lh /var/log', '/etc', '-la /var/www'])}`, 8, 'business', 0.01, 0, 2),
  b(BASH, ['ps', '/usr/bin/ps'], 'admin', () => 'ps aux', 4, 'business', 0.05, 1, 3),
  b(BASH, ['df', '/usr/bin/df'], 'admin', () => 'df -h', 3, 'business', 0.01, 0, 1),
  b(BASH, ['vim', '/usr/bin/vim.basic'], 'admin', (r) => `vim ${r.pick(['/etc/nginx/sites-enabled/default', '/etc/hosts', 'notes.txt'])}`, 2, 'business', 300, 0.2, 10),
  b(BASH, ['grep', '/usr/bin/grep'], 'admin', (r) => `grep -i ${r.pick(['error', 'timeout', 'denied'])} /var/log/syslog`, 4, 'business', 0.2, 5, 2),
];

const WEB: Behaviour[] = [
  b(CRON, ['php', '/usr/bin/php8.2'], 'www-data', () => 'php /var/www/app/artisan schedule:run', 1440, 'always', 2, 30, 40),
  b(['php-fpm', '/usr/sbin/php-fpm8.2'], SH, 'www-data', (r) => { const h = hex(r, 12); return `sh -c /usr/bin/convert /var/www/app/storage/uploads/${h}.jpg -resize 800x600 /var/www/app/public/thumbs/${h}.jpg`; }, 250, 'business', 0.5, 40, 30),
  b(SH, ['convert', '/usr/bin/convert-im6.q16'], 'www-data', (r) => { const h = hex(r, 12); return `/usr/bin/convert /var/www/app/storage/uploads/${h}.jpg -resize 800x600 /var/www/app/public/thumbs/${h}.jpg`; }, 250, 'business', 0.5, 60, 50),
  b(SYSTEMD, ['certbot', '/usr/bin/certbot'], 'root', () => '/usr/bin/certbot -q renew', 2, 'always', 5, 10, 50, 2),
  b(['certbot', '/usr/bin/certbot'], ['nginx', '/usr/sbin/nginx'], 'root', () => 'nginx -s reload', 1 / 30, 'always', 0.1, 1, 5),
  b(BASH, ['nginx', '/usr/sbin/nginx'], 'admin', () => 'nginx -t', 1, 'business', 0.1, 1, 5),
];

const DB: Behaviour[] = [
  b(['postgres', '/usr/lib/postgresql/15/bin/postgres'], SH, 'postgres', (r) => { const w = hex(r, 24).toUpperCase(); return `sh -c test ! -f /var/lib/postgresql/wal_archive/${w} && cp pg_wal/${w} /var/lib/postgresql/wal_archive/${w}`; }, 150, 'always', 0.2, 5, 3),
  b(SH, ['cp', '/usr/bin/cp'], 'postgres', (r) => { const w = hex(r, 24).toUpperCase(); return `cp pg_wal/${w} /var/lib/postgresql/wal_archive/${w}`; }, 150, 'always', 0.2, 20, 2),
  b(CRON, SH, 'postgres', () => 'sh -c pg_dumpall | gzip > /var/backups/pg/all-$(date +%F).sql.gz', 1, 'night', 900, 60, 80),
  b(SH, ['pg_dumpall', '/usr/lib/postgresql/15/bin/pg_dumpall'], 'postgres', () => 'pg_dumpall', 1, 'night', 900, 50, 60, 1),
  b(SH, ['gzip', '/usr/bin/gzip'], 'postgres', () => 'gzip', 1, 'night', 900, 90, 4),
  b(CRON, ['psql', '/usr/lib/postgresql/15/bin/psql'], 'postgres', () => 'psql -qc VACUUM ANALYZE', 24, 'always', 30, 5, 12, 1),
  b(BASH, ['psql', '/usr/lib/postgresql/15/bin/psql'], 'admin', () => 'psql -U app appdb', 3, 'business', 600, 1, 12, 1),
];

const DEV: Behaviour[] = [
  b(['gnome-terminal-server', '/usr/libexec/gnome-terminal-server'], BASH, 'alice', () => 'bash', 12, 'business', 3600, 0.1, 6),
  b(BASH, ['git', '/usr/bin/git'], 'alice', (r) => `git ${r.pick(['status', 'diff', 'pull --rebase', 'commit -m wip', 'push', 'log --oneline -20', 'checkout -b feature/' + hex(r, 6)])}`, 150, 'business', 0.3, 10, 8, 0),
  b(['git', '/usr/bin/git'], ['ssh', '/usr/bin/ssh'], 'alice', () => 'ssh git@github.com git-upload-pack \'acme/app.git\'', 40, 'business', 2, 3, 6, 1),
  b(BASH, ['node', '/usr/bin/node'], 'alice', (r) => `node ${r.pick(['--test', 'scripts/dev.js', 'dist/server.js', '--inspect src/index.js'])}`, 60, 'business', 120, 40, 120),
  b(BASH, ['npm', '/usr/bin/npm'], 'alice', (r) => `npm ${r.pick(['test', 'run build', 'install', 'run lint', 'ci'])}`, 30, 'business', 30, 60, 150, 4),
  b(['npm', '/usr/bin/npm'], SH, 'alice', (r) => `sh -c ${r.pick(['tsc -p .', 'eslint src', 'node --test', 'vite build'])}`, 30, 'business', 20, 5, 5),
  b(['code', '/usr/share/code/code'], ['code', '/usr/share/code/code'], 'alice', (r) => `/usr/share/code/code --type=${r.pick(['renderer', 'utility', 'gpu-process'])} --field-trial-handle=${r.int(1e9)}`, 30, 'business', 3600, 15, 300),
  b(['code', '/usr/share/code/code'], BASH, 'alice', () => '/usr/bin/bash --init-file /usr/share/code/resources/app/out/vs/workbench/contrib/terminal/common/scripts/shellIntegration-bash.sh', 6, 'business', 3600, 0.1, 6),
  b(BASH, ['make', '/usr/bin/make'], 'alice', () => 'make -j8', 15, 'business', 60, 5, 10),
  b(['make', '/usr/bin/make'], ['cc1', '/usr/libexec/gcc/x86_64-linux-gnu/12/cc1'], 'alice', (r) => `/usr/libexec/gcc/x86_64-linux-gnu/12/cc1 -quiet src/${r.pick(['main', 'util', 'parse', 'net', 'io'])}.c -O2 -o /tmp/cc${hex(r, 6)}.s`, 300, 'business', 2, 95, 120),
  b(BASH, ['python3', '/usr/bin/python3.11'], 'alice', (r) => `python3 ${r.pick(['-m pytest -q', 'manage.py runserver', 'scripts/report.py --since 7d', '-m venv .venv'])}`, 20, 'business', 60, 30, 80),
  b(BASH, ['curl', '/usr/bin/curl'], 'alice', (r) => `curl -sS ${r.pick(['https://api.github.com/repos/acme/app/pulls', 'https://registry.npmjs.org/zod', 'http://localhost:3000/health', 'https://httpbin.org/get'])}`, 8, 'business', 1, 2, 8, 1),
  b(BASH, ['docker', '/usr/bin/docker'], 'alice', (r) => `docker ${r.pick(['ps', 'compose up -d', 'logs -f api', 'build -t app .'])}`, 15, 'business', 30, 5, 40),
  b(BASH, ['ssh', '/usr/bin/ssh'], 'alice', (r) => `ssh ${r.pick(['web1.acme.internal', 'db1.acme.internal', 'ci1.acme.internal'])}`, 4, 'business', 1200, 0.5, 8, 1),
  b(['firefox-esr', '/usr/lib/firefox-esr/firefox-esr'], ['firefox-esr', '/usr/lib/firefox-esr/firefox-esr'], 'alice', (r) => `/usr/lib/firefox-esr/firefox-esr -contentproc -childID ${r.int(400)} -isForBrowser -prefsLen ${30000 + r.int(9000)} tab`, 80, 'business', 900, 10, 250, 12),
];

const CI: Behaviour[] = [
  b(['gitlab-runner', '/usr/bin/gitlab-runner'], BASH, 'gitlab-runner', (r) => `bash /tmp/ci-job-${40000 + r.int(20000)}/script.sh`, 120, 'always', 300, 1, 6),
  b(BASH, ['git', '/usr/bin/git'], 'gitlab-runner', (r) => `git clone --depth 50 https://gitlab.acme.internal/${r.pick(['web', 'api', 'infra', 'mobile'])}/app.git /builds/${hex(r, 8)}/app`, 120, 'always', 10, 20, 40, 1),
  b(BASH, ['npm', '/usr/bin/npm'], 'gitlab-runner', () => 'npm ci --no-audit', 90, 'always', 60, 70, 300, 6),
  b(['npm', '/usr/bin/npm'], SH, 'gitlab-runner', (r) => `sh -c ${r.pick(['node-gyp rebuild', 'node install.js', 'husky install', 'tsc -p tsconfig.build.json'])}`, 200, 'always', 20, 5, 5),
  b(SH, ['node', '/usr/bin/node'], 'gitlab-runner', (r) => `node ${r.pick(['install.js', '/usr/lib/node_modules/npm/bin/node-gyp-bin/../../node_modules/node-gyp/bin/node-gyp.js rebuild', 'node_modules/.bin/tsc -p tsconfig.build.json'])}`, 200, 'always', 20, 80, 200, 1),
  b(BASH, ['docker', '/usr/bin/docker'], 'gitlab-runner', (r) => `docker build -t registry.acme.internal/app:${hex(r, 8)} .`, 60, 'always', 120, 10, 40, 2),
  b(BASH, ['make', '/usr/bin/make'], 'gitlab-runner', () => 'make -j4 test', 40, 'always', 120, 5, 10),
  b(['make', '/usr/bin/make'], ['cc1', '/usr/libexec/gcc/x86_64-linux-gnu/12/cc1'], 'gitlab-runner', (r) => `/usr/libexec/gcc/x86_64-linux-gnu/12/cc1 -quiet src/${r.pick(['a', 'b', 'c', 'd', 'e', 'f'])}.c -O2`, 800, 'always', 2, 95, 120),
  b(BASH, ['curl', '/usr/bin/curl'], 'gitlab-runner', (r) => `curl -fsSL ${r.pick(['https://get.helm.sh/helm-v3.14.0-linux-amd64.tar.gz', 'https://raw.githubusercontent.com/nvm-sh/nvm/v0.39.7/install.sh', 'https://sh.rustup.rs'])}`, 30, 'always', 3, 5, 8, 1),
  b(BASH, SH, 'gitlab-runner', () => 'sh -s -- -y', 20, 'always', 30, 20, 10, 2),
  b(BASH, ['python3', '/usr/bin/python3.11'], 'gitlab-runner', () => 'python3 -m pytest -q --junitxml=report.xml', 40, 'always', 90, 90, 150),
  b(['gitlab-runner', '/usr/bin/gitlab-runner'], ['/tmp/ci-job-#/build.sh', '/tmp/ci-job-40001/build.sh'], 'gitlab-runner', () => '/tmp/ci-job-40001/build.sh', 60, 'always', 200, 30, 20),
];

export const ROLE_BEHAVIOURS: Readonly<Record<Role, readonly Behaviour[]>> = {
  web: [...COMMON, ...WEB], db: [...COMMON, ...DB], dev: [...COMMON, ...DEV], ci: [...COMMON, ...CI],
};

/**
 * Benign things never seen before that still happen (an admin tries a new tool, a new package gets
 * installed): they are the false alerts an honest benchmark must include. About one every three days per host.
 */
export const BENIGN_NOVELTIES: readonly Behaviour[] = [
  b(BASH, ['htop', '/usr/bin/htop'], 'admin', () => 'htop', 0, 'business', 120, 2, 5),
  b(BASH, ['ncdu', '/usr/bin/ncdu'], 'admin', () => 'ncdu /var', 0, 'business', 60, 30, 20),
  b(['sudo', '/usr/bin/sudo'], ['tcpdump', '/usr/bin/tcpdump'], 'root', () => 'tcpdump -ni eth0 port 443 -c 100', 0, 'business', 30, 5, 10),
  b(BASH, ['jq', '/usr/bin/jq'], 'admin', () => 'jq .status response.json', 0, 'business', 0.1, 1, 3),
  b(['sudo', '/usr/bin/sudo'], ['dpkg', '/usr/bin/dpkg'], 'root', () => 'dpkg -i /tmp/zabbix-release_6.4-1+debian12_all.deb', 0, 'business', 10, 20, 20),
];
