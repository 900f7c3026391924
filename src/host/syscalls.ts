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

export const CLONE_NEWNET = 0x40000000;

/**
 * setns(2): moves the calling thread (Node's main thread) into the namespace behind fd. Sockets
 * and child processes created afterwards from JavaScript live in that namespace.
 */
export function setns(fd: number, nstype: number): void {
  const rc = libcFunc('int setns(int fd, int nstype)')(fd, nstype) as number;
  if (rc !== 0) throw systemError(ErrorDomain.NONE, lastErrno(), `Unable to enter namespace (fd ${fd})`);
}

// --- tun/tap ioctls (linux/if_tun.h). A tap is a file descriptor on /dev/net/tun bound to an
// interface with TUNSETIFF; Node has no ioctl, so the calls are made here.

export const TUNSETIFF = 0x400454ca;
export const TUNSETPERSIST = 0x400454cb;
export const TUNGETIFF = 0x800454d2;

/** ifr_flags of struct ifreq for TUNSETIFF/TUNGETIFF. */
export const IFF_TUN = 0x0001;
export const IFF_TAP = 0x0002;
export const IFF_MULTI_QUEUE = 0x0100;
export const IFF_NO_PI = 0x1000;
export const IFF_VNET_HDR = 0x4000;
/** Fail with EBUSY instead of attaching when the interface already exists. */
export const IFF_TUN_EXCL = 0x8000;

/** IFNAMSIZ: interface names are at most 15 bytes plus the terminating NUL. */
export const IFNAMSIZ = 16;
// struct ifreq is 40 bytes on 64-bit Linux: ifr_name[16], then a union whose first short is
// ifr_flags.
const IFREQ_SIZE = 40;

/** ioctl(2) with a pointer argument; returns 0 or the errno of the failure. */
function ioctlPointer(fd: number, request: number, arg: Buffer): number {
  const rc = libcFunc('int ioctl(int fd, unsigned long request, ...)')(fd, request, 'void *', arg) as number;
  return rc < 0 ? lastErrno() : 0;
}

/** ioctl(2) with an int argument; returns 0 or the errno of the failure. */
function ioctlInt(fd: number, request: number, arg: number): number {
  const rc = libcFunc('int ioctl(int fd, unsigned long request, ...)')(fd, request, 'int', arg) as number;
  return rc < 0 ? lastErrno() : 0;
}

/** The outcome of a tun ioctl: the interface name and flags, or the errno of the failure. */
export type TunResult = { ok: true; name: string; flags: number } | { ok: false; errno: number };

/**
 * TUNSETIFF: binds the tun fd to interface `name` (created if absent, attached if it exists and
 * the caller may use it) with `flags`. A name with `%d` lets the kernel pick the number.
 */
export function tunSetIff(fd: number, name: string, flags: number): TunResult {
  const ifr = Buffer.alloc(IFREQ_SIZE);
  if (Buffer.byteLength(name) >= IFNAMSIZ) return { ok: false, errno: 34 /* ERANGE */ };
  ifr.write(name, 0, 'latin1');
  ifr.writeUInt16LE(flags & 0xffff, IFNAMSIZ);
  const errno = ioctlPointer(fd, TUNSETIFF, ifr);
  if (errno) return { ok: false, errno };
  return { ok: true, ...readIfreq(ifr) };
}

/** TUNGETIFF: the interface name and flags a tun (or macvtap) fd is bound to. */
export function tunGetIff(fd: number): TunResult {
  const ifr = Buffer.alloc(IFREQ_SIZE);
  const errno = ioctlPointer(fd, TUNGETIFF, ifr);
  if (errno) return { ok: false, errno };
  return { ok: true, ...readIfreq(ifr) };
}

/** TUNSETPERSIST: whether the interface outlives its last fd. Returns 0 or errno. */
export function tunSetPersist(fd: number, persist: boolean): number {
  return ioctlInt(fd, TUNSETPERSIST, persist ? 1 : 0);
}

function readIfreq(ifr: Buffer): { name: string; flags: number } {
  const end = ifr.indexOf(0);
  return { name: ifr.toString('latin1', 0, end < 0 || end > IFNAMSIZ ? IFNAMSIZ : end), flags: ifr.readUInt16LE(IFNAMSIZ) };
}

/** S_IFCHR for mknod. */
export const S_IFCHR = 0o020000;

/**
 * mknod(2) of a character device node (glibc's makedev encoding of major:minor). Used to reach a
 * macvtap's /dev/tapN where no devtmpfs/udev node exists for it. Throws a system error.
 */
export function mknodChar(path: string, mode: number, major: number, minor: number): void {
  const dev =
    (BigInt(minor & 0xff) |
      (BigInt(major & 0xfff) << 8n) |
      (BigInt(minor & ~0xff) << 12n) |
      (BigInt(major & ~0xfff) << 32n));
  const rc = libcFunc('int mknod(const char *path, uint32_t mode, uint64_t dev)')(path, S_IFCHR | (mode & 0o7777), dev) as number;
  if (rc !== 0) throw systemError(ErrorDomain.NONE, lastErrno(), `Unable to create device node ${path}`);
}
