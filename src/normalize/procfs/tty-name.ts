// tty_nr in /proc/PID/stat is the kernel's encoded dev_t of the controlling terminal: major in bits
// 8-19, minor in bits 0-7 and 20-31. Names follow Documentation/admin-guide/devices.txt, as ps does.

/** The device name of an encoded tty_nr (pts/3, tty1, ttyS0), null when there is no terminal. */
export function ttyName(ttyNr: number): string | null {
  if (!Number.isInteger(ttyNr) || ttyNr === 0 || ttyNr < -0x80000000 || ttyNr > 0xffffffff) return null;
  // The kernel prints tty_nr with %d, so a minor with bit 31 set reads as negative.
  const dev = ttyNr < 0 ? ttyNr + 0x100000000 : ttyNr;
  const major = Math.floor(dev / 256) & 0xfff;
  const minor = (dev & 0xff) | (Math.floor(dev / 4096) & 0xfff00);
  if (major >= 136 && major <= 143) return `pts/${(major - 136) * 256 + minor}`;
  if (major === 4) return minor < 64 ? `tty${minor}` : `ttyS${minor - 64}`;
  if (major === 5 && minor === 1) return 'console';
  if (major === 5 && minor === 0) return 'tty';
  if (major === 188) return `ttyUSB${minor}`;
  if (major === 166) return `ttyACM${minor}`;
  if (major === 204 && minor >= 64) return `ttyAMA${minor - 64}`;
  if (major === 229) return `hvc${minor}`;
  // Unknown driver: keep the fact there is a terminal, named as /dev/char/MAJOR:MINOR names it.
  return `${major}:${minor}`;
}
