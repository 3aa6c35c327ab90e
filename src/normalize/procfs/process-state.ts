// The state letter of /proc/PID/stat spelled out, so rules say status = 'zombie' rather than 'Z'.
// Letters from fs/proc/array.c (task_state_array) plus those of older kernels (W, K, P).

const STATES: Readonly<Record<string, string>> = {
  R: 'running',
  S: 'sleeping',
  D: 'disk_sleep',
  Z: 'zombie',
  T: 'stopped',
  t: 'tracing_stop',
  X: 'dead',
  x: 'dead',
  I: 'idle',
  P: 'parked',
  W: 'waking',
  K: 'wakekill',
};

/** The word for a state letter, or null for a letter this build does not know. */
export function processStateName(letter: string): string | null {
  return Object.hasOwn(STATES, letter) ? STATES[letter]! : null;
}
