// Why eslogger could not run, in our codes. eslogger creates an EndpointSecurity client with
// es_new_client(); on failure it reports the es_new_client_result_t by name on stderr and exits, and
// libEndpointSecurity logs its own reason ("Caller lacks TCC authorization for Full Disk Access").
// We match those names (stable API constants in EndpointSecurity/ESClient.h) and the library's
// wording, not eslogger's exact sentence, which eslogger(1) says may change between releases.
import { release } from 'node:os';
import { DaemonEyeError, type ErrorCode } from '../../errors/catalogue.ts';

export const ESLOGGER_PATH = '/usr/bin/eslogger';
/** macOS 13 Ventura is Darwin 22: the first release with eslogger. */
export const MIN_DARWIN_MAJOR = 22;

const PATTERNS: readonly [RegExp, ErrorCode][] = [
  [/ERR_NOT_PRIVILEGED|not privileged|must be run as (?:root|super-?user)/i, 'DE_ES_NOT_ROOT'],
  [/ERR_NOT_PERMITTED|not permitted|Full Disk Access|TCC/i, 'DE_ES_NO_FULL_DISK_ACCESS'],
  [/ERR_TOO_MANY_CLIENTS|too many (?:ES )?clients/i, 'DE_ES_TOO_MANY_CLIENTS'],
];

/** Classifies an early exit of eslogger from its stderr and exit status. */
export function classifyEsloggerFailure(stderr: string, code: number | null, signal: string | null, clientName: string): DaemonEyeError {
  const last = stderr.trim().split('\n').filter(Boolean).slice(-3).join(' | ');
  for (const [re, errorCode] of PATTERNS) {
    if (re.test(stderr)) return new DaemonEyeError(errorCode, `EndpointSecurity client ${clientName}: eslogger refused to start: ${last}`);
  }
  const how = signal !== null ? `signal ${signal}` : `exit status ${code}`;
  return new DaemonEyeError('DE_ES_EXITED', `EndpointSecurity client ${clientName}: eslogger ended (${how})${last ? `: ${last}` : ''}`);
}

/** A spawn error (eslogger missing, not executable). */
export function classifySpawnError(e: NodeJS.ErrnoException, path: string, clientName: string): DaemonEyeError {
  if (e.code === 'ENOENT') {
    return new DaemonEyeError('DE_ES_UNAVAILABLE', `EndpointSecurity client ${clientName}: ${path} does not exist (eslogger ships with macOS 13 and later)`, { cause: e });
  }
  return new DaemonEyeError('DE_ES_EXITED', `EndpointSecurity client ${clientName}: cannot start ${path}: ${e.message}`, { cause: e });
}

export interface EsHost {
  readonly platform: NodeJS.Platform;
  /** os.release(): the Darwin kernel version, e.g. "22.6.0" on macOS 13.5. */
  readonly release: string;
  readonly uid: number | undefined;
}

export const thisHost = (): EsHost => ({ platform: process.platform, release: release(), uid: process.getuid?.() });

/** What can be known before starting eslogger: platform, macOS version, root. Full Disk Access and
 * the client limit are only known by trying (eslogger reports them; classifyEsloggerFailure). */
export function esPreflight(host: EsHost, clientName: string): DaemonEyeError | null {
  if (host.platform !== 'darwin') return new DaemonEyeError('DE_ES_UNAVAILABLE', `EndpointSecurity is a macOS facility; this is ${host.platform}`);
  const major = Number(host.release.split('.')[0]);
  if (!(major >= MIN_DARWIN_MAJOR)) {
    return new DaemonEyeError('DE_ES_OS_VERSION', `EndpointSecurity client ${clientName}: Darwin ${host.release} is older than macOS 13 (Darwin ${MIN_DARWIN_MAJOR}), which has no eslogger`);
  }
  if (host.uid !== 0) return new DaemonEyeError('DE_ES_NOT_ROOT', `EndpointSecurity client ${clientName}: running as uid ${host.uid}; EndpointSecurity clients must run as root`);
  return null;
}
