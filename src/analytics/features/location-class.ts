// Where an executable lives says how it got there: system and package-managed binaries are installed
// by root through a package manager; binaries in home directories, temp directories or deleted after
// start are how droppers and miners usually run. The numeric code orders the classes by that risk so
// the isolation forest can split on it.

export const LOCATION_CLASSES = ['system', 'package', 'other', 'home', 'temp', 'deleted', 'unknown'] as const;
export type LocationClass = (typeof LOCATION_CLASSES)[number];

const SYSTEM = /^\/(?:usr\/)?(?:s?bin|lib|lib64|libexec)\//;
const PACKAGE = /^\/(?:usr\/(?:local\/)?(?:share|lib)\/|opt\/|snap\/|usr\/local\/s?bin\/|nix\/store\/|var\/lib\/(?:docker|containerd)\/)/;
const HOME = /^\/(?:home\/|root\/|Users\/)/;
const TEMP = /^\/(?:tmp|var\/tmp|dev\/shm|run\/user\/\d+)\/|^\/run\/shm\//;

export function locationClass(path: string | null, fileExists: boolean | null): LocationClass {
  if (path === null || path === '') return 'unknown';
  if (fileExists === false || path.endsWith(' (deleted)') || path.startsWith('/memfd:')) return 'deleted';
  if (TEMP.test(path)) return 'temp';
  if (HOME.test(path)) return 'home';
  if (SYSTEM.test(path)) return 'system';
  if (PACKAGE.test(path)) return 'package';
  return 'other';
}

export function locationCode(c: LocationClass): number {
  return { system: 0, package: 1, unknown: 1, other: 2, home: 3, temp: 4, deleted: 5 }[c];
}
