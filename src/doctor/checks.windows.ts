// doctor on Windows: can the ETW kernel layer run here, and if not, what to do. Elsewhere it says
// plainly that this is not its platform (and warns when enable_etw is set there, where it does nothing).
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import type { CliContext } from '../cli/context.ts';
import { ETW_ADDON_PATH, loadEtwAddon, type EtwAddon } from '../sources/etw/etw-addon.ts';
import type { CheckResult } from './check.ts';

export interface EtwDoctorHost {
  readonly platform: NodeJS.Platform;
  /** os.release() on Windows: "10.0.22631" */
  readonly release: string;
  readonly addonPath: string;
}

const ERROR_ACCESS_DENIED = 5;
const ERROR_WMI_INSTANCE_NOT_FOUND = 4201;

export function etwCheck(ctx: CliContext, host: EtwDoctorHost = { platform: process.platform, release: release(), addonPath: ETW_ADDON_PATH }): CheckResult {
  const k = ctx.config.enterprise.kernel_monitoring;
  const name = 'etw';
  if (host.platform !== 'win32') {
    return k.enable_etw
      ? { name, status: 'warn', detail: `enable_etw is set, but this is ${host.platform}: ETW is Windows-only and the setting does nothing here`, fix: 'turn enterprise.kernel_monitoring.enable_etw off on this host (its kernel layer is chosen by platform)' }
      : { name, status: 'ok', detail: `not this platform (${host.platform}): ETW is the Windows kernel layer` };
  }
  const off = (detail: string, fix: string): CheckResult => ({ name, status: k.enable_etw ? 'fail' : 'warn', detail, fix });
  const [major = 0, minor = 0] = host.release.split('.').map(Number);
  if (major < 6 || (major === 6 && minor < 2)) {
    return off(`Windows ${host.release} predates Windows 8 / Server 2012: no Microsoft-Windows-Kernel-Process provider`, 'upgrade Windows; until then the agent keeps to process scans');
  }
  if (!existsSync(host.addonPath)) {
    return off(`the ETW addon is not built (${host.addonPath})`, 'build it once: `cd native/etw && npx node-gyp rebuild` (Visual Studio Build Tools with the C workload and the Windows SDK)');
  }
  let addon: EtwAddon;
  try {
    addon = loadEtwAddon(host.addonPath, host.platform);
  } catch (e) {
    return off(`the ETW addon does not load: ${(e as Error).message}`, 'rebuild it for this Node version: `cd native/etw && npx node-gyp rebuild`');
  }
  if (!addon.isElevated()) {
    return off('this process is not elevated: starting a real-time ETW session needs Administrator rights', 'run `daemoneye run` (and doctor) from an elevated prompt, or as a service under LocalSystem');
  }
  const session = k.etw_session_name;
  const q = addon.querySession(session);
  if (q.running) {
    // Either a running agent (fine) or a stale session left by a crash (the agent replaces it at start).
    return {
      name, status: 'warn',
      detail: `a session named "${session}" is running (events lost so far: ${q.eventsLost}, real-time buffers lost: ${q.realTimeBuffersLost}): a running agent, or a stale one left by a crash`,
      fix: `if no agent runs, the next \`daemoneye run\` stops and replaces it; to stop it now: \`logman stop "${session}" -ets\`. Use another etw_session_name for a second agent`,
    };
  }
  if (q.win32Error === ERROR_ACCESS_DENIED) return off(`cannot query session "${session}": access denied`, 'run elevated');
  if (q.win32Error !== ERROR_WMI_INSTANCE_NOT_FOUND) return off(`querying session "${session}" failed with Win32 error ${q.win32Error}`, '`logman query -ets` lists the sessions; 64 is the system-wide limit');
  const detail = `Windows ${host.release}, addon built, elevated, no session named "${session}" running`;
  return k.enable_etw ? { name, status: 'ok', detail } : { name, status: 'ok', detail: `${detail}; ready, not enabled (set enterprise.kernel_monitoring.enable_etw: true)` };
}
