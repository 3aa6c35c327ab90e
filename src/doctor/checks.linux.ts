// The troubleshooting checks on Linux. Each is small and independent, so one broken thing never hides
// the rest; later capabilities (eBPF hooks, capture interfaces, federation) add their checks here.
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, statfsSync } from 'node:fs';
import { release } from 'node:os';
import type { CliContext } from '../cli/context.ts';
import { loadRules } from '../detect/sql/load-rules.ts';
import { isDaemonEyeError } from '../errors/catalogue.ts';
import { openStoreReadOnly, storePath } from '../store/open-store.ts';
import type { CheckResult } from './check.ts';
import { ADDON_PATH, loadBpfAddon } from '../sources/ebpf/native-addon.ts';

const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
const warn = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'warn', detail, fix });
const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'fail', detail, fix });

export function runtimeCheck(): CheckResult {
  const major = Number(process.versions.node.split('.')[0]);
  return major >= 24
    ? ok('runtime', `Node.js ${process.versions.node}`)
    : fail('runtime', `Node.js ${process.versions.node} is too old`, 'install Node 24 LTS (scripts/setup.sh does it)');
}

export function procfsCheck(): CheckResult {
  try {
    const pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
    if (pids.length === 0) return fail('procfs', '/proc lists no processes', 'mount procfs: mount -t proc proc /proc');
    const mount = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.includes(' /proc ') && l.includes(' proc '));
    if (mount !== undefined && /hidepid=(1|2|invisible|noaccess)/.test(mount)) {
      return warn('procfs', `${pids.length} processes visible, but /proc is mounted with hidepid`, 'run the agent as root, or in the group named by gid= of the /proc mount');
    }
    return ok('procfs', `${pids.length} processes visible`);
  } catch (e) {
    return fail('procfs', `cannot read /proc: ${(e as Error).message}`, 'DaemonEye needs procfs mounted at /proc');
  }
}

export function privilegeCheck(): CheckResult {
  if (process.getuid?.() === 0) return ok('privileges', 'running as root: every process is fully visible');
  return warn('privileges', `running as uid ${process.getuid?.()}: other users' executables, environments and cwd are unreadable (rows stored with accessible = 0)`,
    'run `daemoneye run` as root (or with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH) for full visibility');
}

export function dataDirCheck(ctx: CliContext): CheckResult {
  try {
    mkdirSync(ctx.dataDir, { recursive: true });
    accessSync(ctx.dataDir, constants.W_OK);
    const fs = statfsSync(ctx.dataDir);
    const free = fs.bavail * fs.bsize;
    const freeMb = Math.round(free / 2 ** 20);
    if (free < ctx.config.store.max_size_mb * 2 ** 20) {
      return warn('data_dir', `${ctx.dataDir}: ${freeMb} MiB free, less than store.max_size_mb (${ctx.config.store.max_size_mb})`,
        'free disk space or lower store.max_size_mb');
    }
    return ok('data_dir', `${ctx.dataDir} is writable, ${freeMb} MiB free`);
  } catch (e) {
    return fail('data_dir', `${ctx.dataDir}: ${(e as Error).message}`, 'pass --data-dir to a writable directory or fix its permissions');
  }
}

export function storeCheck(ctx: CliContext): CheckResult {
  const path = storePath(ctx.dataDir);
  if (!existsSync(path)) return warn('store', `no store yet at ${path}`, 'run `daemoneye run --once` to create it');
  try {
    const db = openStoreReadOnly(path);
    try {
      const check = db.pragma('quick_check', { simple: true }) as string;
      if (check !== 'ok') return fail('store', `${path}: integrity check says ${check}`, 'move the file aside (keep it as evidence); a new store is created on the next run');
      const last = db.prepare(`SELECT max(finished_at) AS t, count(*) AS n FROM scans WHERE status = 'complete'`).get() as { t: number | null; n: number };
      const version = db.pragma('user_version', { simple: true });
      if (last.t === null) return warn('store', `${path} (schema v${version}) holds no scan yet`, 'run `daemoneye run --once`');
      const ageS = Math.round((Date.now() - last.t) / 1000);
      const stale = ageS > ctx.config.agent.scan_interval * 3;
      const detail = `${path} (schema v${version}): ${last.n} scans, last ${ageS} s ago`;
      return stale ? warn('store', detail, 'is `daemoneye run` running? the last scan is older than 3 scan intervals') : ok('store', detail);
    } finally {
      db.close();
    }
  } catch (e) {
    const code = isDaemonEyeError(e) ? `${e.code}: ` : '';
    return fail('store', `${code}${(e as Error).message}`, isDaemonEyeError(e) ? e.hint : 'see the error');
  }
}

export function rulesCheck(ctx: CliContext): CheckResult {
  const { rules, problems } = loadRules({ builtin: ctx.config.detection.builtin_rules, dirs: ctx.config.detection.rule_dirs });
  const enabled = rules.filter((r) => r.enabled && !ctx.config.detection.disabled_rules.includes(r.id)).length;
  if (problems.length > 0) {
    return warn('rules', `${enabled} rules enabled, ${problems.length} rejected: ${problems.map((p) => p.message.split('\n')[0]).join('; ')}`,
      '`daemoneye rules validate FILE` shows the reason for each rejected file');
  }
  if (enabled === 0) return warn('rules', 'no rule is enabled', 'enable detection.builtin_rules or add detection.rule_dirs');
  return ok('rules', `${enabled} rules enabled`);
}

/** Facts the kernel layer needs; only a warning while kernel monitoring is not switched on. */
export function kernelCheck(ctx: CliContext): CheckResult {
  const btf = existsSync('/sys/kernel/btf/vmlinux');
  const tracefs = existsSync('/sys/kernel/tracing/events') || existsSync('/sys/kernel/debug/tracing/events');
  const detail = `kernel ${release()}, BTF ${btf ? 'present' : 'missing'}, tracefs ${tracefs ? 'mounted' : 'not mounted'}`;
  const wanted = ctx.config.enterprise.kernel_monitoring.enable_ebpf;
  if (!btf) return (wanted ? fail : warn)('kernel', detail, 'eBPF CO-RE needs a kernel built with CONFIG_DEBUG_INFO_BTF=y');
  return ok('kernel', detail);
}

/** The eBPF sensor: built, loadable, and allowed to load programs (root). */
export function ebpfCheck(ctx: CliContext): CheckResult {
  const wanted = ctx.config.enterprise.kernel_monitoring.enable_ebpf;
  const off = (detail: string, fix: string) => (wanted ? fail : warn)('ebpf', detail, fix);
  if (!existsSync(ADDON_PATH)) return off(`the kernel sensor is not built (${ADDON_PATH})`, 'run scripts/setup.sh (or `npm run build:native`)');
  try {
    loadBpfAddon();
  } catch (e) {
    return off(`the kernel sensor does not load: ${(e as Error).message}`, 'rebuild it with `npm run build:native` for this Node version');
  }
  if (process.getuid?.() !== 0) return off('built, but loading eBPF programs needs root', 'run `daemoneye run` as root: it starts the privileged collector');
  const hooks = probeHooks();
  if (typeof hooks === 'string') return off(`the kernel refused the sensor: ${hooks}`, 'needs BTF and CAP_BPF/CAP_PERFMON; see the message for the hook and the kernel error');
  const attached = hooks.filter((h) => h.attached).map((h) => h.section);
  const missing = hooks.filter((h) => !h.attached).map((h) => `${h.section} (${(h.error ?? 'not attached').split('\n')[0]})`);
  const detail = `hooks attached: ${attached.join(', ') || 'none'}${missing.length ? `; not attached: ${missing.join('; ')}` : ''}`;
  if (!hooks.some((h) => h.section.endsWith('sched_process_exec') && h.attached)) return off(detail, 'the exec hook is required: check BTF and the kernel version (tp_btf needs 5.5+)');
  if (!wanted) return ok('ebpf', `sensor ready, not enabled (set enterprise.kernel_monitoring.enable_ebpf: true); ${detail}`);
  return missing.length > 0 ? warn('ebpf', detail, 'the hooks not attached are optional; their events are missing on this kernel') : ok('ebpf', detail);
}

/** Loads and attaches the sensor for a moment, as the collector would, and reports every hook. */
function probeHooks(): { section: string; attached: boolean; error?: string }[] | string {
  const addon = loadBpfAddon();
  try {
    const { programs } = addon.open({ ringBytes: 1 << 20, batchMs: 100 }, () => {});
    return Object.values(programs);
  } catch (e) {
    return (e as Error).message;
  } finally {
    addon.close();
  }
}
