// doctor on macOS: can the EndpointSecurity layer (eslogger) run here, and if not, what to do:
// macOS version, root, Full Disk Access, other ES clients. It probes as the agent would: eslogger is
// started for a moment, and its refusal (if any) is reported with its reason. Elsewhere it says
// plainly that this is not its platform.
import { spawnSync } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import type { CliContext } from '../cli/context.ts';
import { classifyEsloggerFailure, ESLOGGER_PATH, esPreflight, thisHost, type EsHost } from '../sources/eslogger/eslogger-errors.ts';
import type { CheckResult } from './check.ts';

export interface EsDoctorHost extends EsHost {
  readonly esloggerPath: string;
  /** The system TCC database: readable only by a process with Full Disk Access. */
  readonly tccDbPath: string;
  /** How long the probe lets eslogger run before calling it started. */
  readonly probeMs: number;
}

export const defaultEsDoctorHost = (): EsDoctorHost => ({
  ...thisHost(), esloggerPath: ESLOGGER_PATH, tccDbPath: '/Library/Application Support/com.apple.TCC/TCC.db', probeMs: 1500,
});

function canRead(path: string): boolean | string {
  try {
    closeSync(openSync(path, 'r'));
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    return code === 'EPERM' || code === 'EACCES' ? false : code;
  }
}

export function endpointSecurityCheck(ctx: CliContext, host: EsDoctorHost = defaultEsDoctorHost()): CheckResult {
  const k = ctx.config.enterprise.kernel_monitoring;
  const name = 'eslogger';
  const client = k.es_client_name;
  if (host.platform !== 'darwin') {
    return k.enable_endpoint_security
      ? { name, status: 'warn', detail: `enable_endpoint_security is set, but this is ${host.platform}: EndpointSecurity is macOS-only and the setting does nothing here`, fix: 'turn enterprise.kernel_monitoring.enable_endpoint_security off on this host (its kernel layer is chosen by platform)' }
      : { name, status: 'ok', detail: `not this platform (${host.platform}): EndpointSecurity is the macOS kernel layer` };
  }
  const off = (detail: string, fix: string): CheckResult => ({ name, status: k.enable_endpoint_security ? 'fail' : 'warn', detail, fix });
  const refused = esPreflight(host, client);
  if (refused !== null) return off(refused.message, refused.hint);
  if (!existsSync(host.esloggerPath)) return off(`${host.esloggerPath} is missing`, 'eslogger ships with macOS 13 and later; reinstall or update macOS');
  const fda = canRead(host.tccDbPath);
  const others = spawnSync('pgrep', ['-x', 'eslogger'], { encoding: 'utf8' }).stdout?.trim().split('\n').filter(Boolean) ?? [];
  // The probe: eslogger refuses at once when it cannot be a client (no Full Disk Access, too many
  // clients); still running when the timeout kills it means it can.
  const probe = spawnSync(host.esloggerPath, ['exit'], { encoding: 'utf8', timeout: host.probeMs, killSignal: 'SIGTERM' });
  const ran = probe.error !== undefined && (probe.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
  const context = `client ${client}; Darwin ${host.release}; Full Disk Access ${fda === true ? 'granted' : fda === false ? 'NOT granted' : `unknown (${fda})`}; other eslogger processes: ${others.length > 0 ? others.join(', ') : 'none'}`;
  if (!ran) {
    const e = classifyEsloggerFailure(probe.stderr ?? '', probe.status, probe.signal, client);
    return off(`${e.code}: ${e.message} (${context})`, e.hint);
  }
  if (fda === false) {
    return { name, status: 'warn', detail: `eslogger ran, but the TCC database is unreadable (${context})`, fix: 'if events stop, grant Full Disk Access to the app that starts the agent (System Settings > Privacy & Security)' };
  }
  const detail = `eslogger can be an EndpointSecurity client (${context})`;
  return k.enable_endpoint_security ? { name, status: 'ok', detail } : { name, status: 'ok', detail: `${detail}; ready, not enabled (set enterprise.kernel_monitoring.enable_endpoint_security: true)` };
}
