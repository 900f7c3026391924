// Kernel tunables under /proc/sys (IP forwarding, a bridge's IPv6 settings).
//
// The net.* entries belong to the network namespace of the thread that opens them. Node runs
// asynchronous file operations on libuv pool threads, which keep the namespace they were created
// in, so a process that moved its main thread into another namespace (setns, as tests do) would
// change the host's settings from a pool thread. These functions therefore use synchronous file
// calls, which run on the calling (main) thread.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorDomain, fromSystemError } from '../errors/index.js';

export const SYSCTL_ROOT = '/proc/sys';

/** "net/ipv4/ip_forward" or "net.ipv4.ip_forward" → its path. */
export function sysctlPath(key: string, root = SYSCTL_ROOT): string {
  const rel = key.includes('/') ? key : key.replace(/\./g, '/');
  if (rel.split('/').some((p) => p === '..' || p === '')) throw new RangeError(`bad sysctl key '${key}'`);
  return join(root, rel);
}

/** The value (trimmed), or null when the entry does not exist. */
export function readSysctl(key: string, root = SYSCTL_ROOT): string | null {
  try {
    return readFileSync(sysctlPath(key, root), 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fromSystemError(err, ErrorDomain.NONE, `cannot read from '${sysctlPath(key, root)}'`, { object: key });
  }
}

/** Writes `value` followed by a newline; failure is a system error naming the file. */
export function writeSysctl(key: string, value: string, root = SYSCTL_ROOT): void {
  const path = sysctlPath(key, root);
  try {
    writeFileSync(path, `${value}\n`, { flag: 'w' });
  } catch (err) {
    throw fromSystemError(err, ErrorDomain.NONE, `cannot write to '${path}'`, { object: key, value });
  }
}
