// Error codes for Windows ETW and macOS EndpointSecurity (DE_ETW_*, DE_ES_*). Append-only, like the main catalogue.
import type { ErrorSpec } from '../error-spec.ts';

export const PLATFORM_ERRORS = {
  DE_ETW_UNAVAILABLE: {
    summary: 'the ETW kernel source cannot run here: not Windows, or the ETW addon is not built or does not load',
    hint: 'on Windows build it once with `cd native/etw && npx node-gyp rebuild` (Visual Studio Build Tools + Windows SDK); `daemoneye doctor` shows the reason',
    exit: 4,
  },
  DE_ETW_ACCESS: {
    summary: 'Windows refused to start or enable the ETW session (access denied)',
    hint: 'run `daemoneye run` from an elevated (Administrator) prompt or as a service under LocalSystem; members of "Performance Log Users" may also start sessions',
    exit: 4,
  },
  DE_ETW_SESSION: {
    summary: 'the real-time ETW session could not be started or opened for reading',
    hint: 'the message names the call and the Win32 error; 1450 (no system resources) means all 64 sessions are in use: `logman query -ets` lists them, `logman stop NAME -ets` frees one',
    exit: 4,
  },
  DE_ETW_ENABLE: {
    summary: 'a kernel provider (Microsoft-Windows-Kernel-Process or -Network) could not be enabled on the session',
    hint: 'the message names the provider and the Win32 error; check `logman query providers Microsoft-Windows-Kernel-Process` lists it (Windows 8 / Server 2012 or later)',
    exit: 4,
  },
  DE_ETW_BUSY: {
    summary: 'an ETW session is already open in this process',
    hint: 'one kernel source per agent: stop the running one first (this is a bug if you did not start two)',
    exit: 4,
  },
  DE_ES_UNAVAILABLE: {
    summary: 'the EndpointSecurity source cannot run here: not macOS, or /usr/bin/eslogger is missing',
    hint: 'eslogger ships with macOS 13 (Ventura) and later; upgrade macOS, or leave enterprise.kernel_monitoring.enable_endpoint_security off',
    exit: 4,
  },
  DE_ES_OS_VERSION: {
    summary: 'macOS is older than 13 (Ventura): it has no eslogger',
    hint: 'upgrade to macOS 13 or later; until then the agent keeps to process scans',
    exit: 4,
  },
  DE_ES_NOT_ROOT: {
    summary: 'eslogger refused to start: EndpointSecurity clients must run as root (ES_NEW_CLIENT_RESULT_ERR_NOT_PRIVILEGED)',
    hint: 'run `sudo daemoneye run`, or install the agent as a LaunchDaemon (runs as root)',
    exit: 4,
  },
  DE_ES_NO_FULL_DISK_ACCESS: {
    summary: 'eslogger refused to start: the responsible process lacks Full Disk Access (ES_NEW_CLIENT_RESULT_ERR_NOT_PERMITTED)',
    hint: 'System Settings > Privacy & Security > Full Disk Access: enable the app that starts the agent (Terminal, or the node binary for a LaunchDaemon; MDM can grant it with a PPPC profile)',
    exit: 4,
  },
  DE_ES_TOO_MANY_CLIENTS: {
    summary: 'eslogger refused to start: the system has too many EndpointSecurity clients (ES_NEW_CLIENT_RESULT_ERR_TOO_MANY_CLIENTS)',
    hint: 'stop a client you do not need (`sudo launchctl list | grep -i endpoint`, other eslogger runs: `pgrep -lf eslogger`) and restart the agent',
    exit: 4,
  },
  DE_ES_EXITED: {
    summary: 'eslogger exited unexpectedly',
    hint: 'the message carries its exit status and last stderr line; run `sudo eslogger exec` by hand to see the reason, then `daemoneye doctor`',
    exit: 4,
  },
  DE_ES_SCHEMA: {
    summary: 'eslogger emits a JSON schema_version this build does not know',
    hint: 'its events are counted and skipped rather than misread; upgrade DaemonEye (eslogger\'s output is not a stable API, see eslogger(1))',
    exit: 4,
  },
} as const satisfies Record<string, ErrorSpec>;
