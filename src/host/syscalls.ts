// The system calls Node lacks, through one FFI package (koffi, prebuilt binaries). Everything
// in tsvirt that needs libc directly goes through this module.
import { createRequire } from 'node:module';
import { ErrorDomain, systemError } from '../errors/index.js';

const require = createRequire(import.meta.url);
// koffi is CommonJS; loaded lazily so modules that import this file but never call into libc
// do not pay for it at start-up.
type Koffi = typeof import('koffi');
let koffi: Koffi | undefined;
let libc: ReturnType<Koffi['load']> | undefined;
const fns = new Map<string, (...args: unknown[]) => unknown>();

function lib(): { koffi: Koffi; libc: ReturnType<Koffi['load']> } {
  if (!koffi) koffi = require('koffi') as Koffi;
  if (!libc) libc = koffi.load('libc.so.6');
  return { koffi, libc };
}

/** A libc function by its C prototype, bound once. */
export function libcFunc(prototype: string): (...args: unknown[]) => unknown {
  let fn = fns.get(prototype);
  if (!fn) {
    fn = lib().libc.func(prototype) as (...args: unknown[]) => unknown;
    fns.set(prototype, fn);
  }
  return fn;
}

/** errno of the last failed libc call on this thread. */
export function lastErrno(): number {
  return lib().koffi.errno();
}

// ---- link-layer multicast lists (SIOCADDMULTI / SIOCDELMULTI) ----
// Netlink has no request for a device's link-layer multicast list, so libvirt (and `ip maddr`)
// use these ioctls on an ordinary socket; tsvirt does the same.

export const SIOCADDMULTI = 0x8931;
export const SIOCDELMULTI = 0x8932;

/**
 * ioctl(2) `request` with a struct ifreq naming `ifname` whose ifr_hwaddr is {AF_UNSPEC, mac},
 * on a fresh AF_INET datagram socket (in the calling thread's network namespace).
 * Returns 0 or the errno of the failure.
 */
export function ifreqHwaddrIoctl(request: number, ifname: string, mac: Uint8Array): number {
  // struct ifreq (40 bytes on 64-bit Linux): ifr_name[IFNAMSIZ = 16], then the union, whose
  // ifr_hwaddr is a struct sockaddr {u16 sa_family; u8 sa_data[14]}.
  const nameSize = 16;
  const name = Buffer.from(ifname, 'utf8');
  if (name.length >= nameSize) return 34; // ERANGE, as libvirt's virNetDevSetupControl
  const ifr = Buffer.alloc(40);
  name.copy(ifr, 0);
  ifr.writeUInt16LE(0, nameSize); // AF_UNSPEC
  Buffer.from(mac.subarray(0, 6)).copy(ifr, nameSize + 2);
  const AF_INET = 2;
  const SOCK_DGRAM_CLOEXEC = 2 | 0o2000000;
  const fd = libcFunc('int socket(int domain, int type, int protocol)')(AF_INET, SOCK_DGRAM_CLOEXEC, 0) as number;
  if (fd < 0) return lastErrno();
  try {
    const rc = libcFunc('int ioctl(int fd, unsigned long request, ...)')(fd, request, 'void *', ifr) as number;
    return rc < 0 ? lastErrno() : 0;
  } finally {
    libcFunc('int close(int fd)')(fd);
  }
}

export const CLONE_NEWNET = 0x40000000;

/**
 * setns(2): moves the calling thread (Node's main thread) into the namespace behind fd. Sockets
 * and child processes created afterwards from JavaScript live in that namespace.
 */
export function setns(fd: number, nstype: number): void {
  const rc = libcFunc('int setns(int fd, int nstype)')(fd, nstype) as number;
  if (rc !== 0) throw systemError(ErrorDomain.NONE, lastErrno(), `Unable to enter namespace (fd ${fd})`);
}
