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

// The structs poll(2) and sendmsg(2) take, declared to koffi by name, once per process.
let structsDeclared = false;
function declareStructs(): void {
  if (structsDeclared) return;
  const k = lib().koffi;
  k.struct('tsvirt_pollfd', { fd: 'int', events: 'short', revents: 'short' });
  k.struct('tsvirt_iovec', { iov_base: 'void *', iov_len: 'size_t' });
  k.struct('tsvirt_msghdr', {
    msg_name: 'void *',
    msg_namelen: 'uint32_t',
    msg_iov: 'tsvirt_iovec *',
    msg_iovlen: 'size_t',
    msg_control: 'void *',
    msg_controllen: 'size_t',
    msg_flags: 'int',
  });
  structsDeclared = true;
}

const POLLIN = 0x1;

/**
 * pidfd_open(2): a descriptor that refers to this very process (not to whatever later reuses
 * its pid); it becomes readable when the process exits, whoever its parent is.
 */
export function pidfdOpen(pid: number): number {
  const fd = libcFunc('int pidfd_open(int pid, unsigned int flags)')(pid, 0) as number;
  if (fd < 0) throw systemError(ErrorDomain.NONE, lastErrno(), `Unable to open pidfd of process ${pid}`);
  return fd;
}

/** poll(2) on one descriptor for readability, without waiting. */
export function isReadable(fd: number): boolean {
  declareStructs();
  const pfd = { fd, events: POLLIN, revents: 0 };
  const rc = libcFunc('int poll(_Inout_ tsvirt_pollfd *fds, unsigned long nfds, int timeout)')(pfd, 1, 0) as number;
  return rc > 0;
}

/**
 * poll(2) on one descriptor for readability, on a worker thread so the event loop keeps
 * running: true once readable, false after timeoutMs. Holds one libuv pool thread while it
 * waits, so keep the timeout short.
 */
export function waitReadable(fd: number, timeoutMs: number): Promise<boolean> {
  declareStructs();
  const poll = libcFunc('int poll(_Inout_ tsvirt_pollfd *fds, unsigned long nfds, int timeout)') as unknown as {
    async(pfd: unknown, n: number, timeout: number, cb: (err: unknown, rc: number) => void): void;
  };
  const pfd = { fd, events: POLLIN, revents: 0 };
  return new Promise((resolve, reject) => {
    poll.async(pfd, 1, Math.max(0, Math.floor(timeoutMs)), (err, rc) => {
      if (err) reject(err);
      else resolve(rc > 0);
    });
  });
}

const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_NOSIGNAL = 0x4000;

/**
 * sendmsg(2) of `data` with descriptors attached (SCM_RIGHTS) on a connected unix socket: how
 * QEMU's `getfd`/`add-fd` receive a descriptor. Returns the bytes of `data` sent.
 */
export function sendWithFds(sockFd: number, data: Uint8Array, fds: readonly number[]): number {
  declareStructs();
  // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } then the ints, padded
  // to 8 bytes (CMSG_SPACE).
  const len = 16 + 4 * fds.length;
  const control = Buffer.alloc((len + 7) & ~7);
  control.writeBigUInt64LE(BigInt(len), 0);
  control.writeInt32LE(SOL_SOCKET, 8);
  control.writeInt32LE(SCM_RIGHTS, 12);
  fds.forEach((fd, i) => control.writeInt32LE(fd, 16 + 4 * i));
  const msg = {
    msg_name: null,
    msg_namelen: 0,
    msg_iov: { iov_base: data, iov_len: data.length },
    msg_iovlen: 1,
    msg_control: control,
    msg_controllen: control.length,
    msg_flags: 0,
  };
  const sent = libcFunc('long sendmsg(int sockfd, const tsvirt_msghdr *msg, int flags)')(sockFd, msg, MSG_NOSIGNAL);
  const n = Number(sent);
  if (n < 0) throw systemError(ErrorDomain.NONE, lastErrno(), `Unable to send descriptors on socket ${sockFd}`);
  return n;
}

/**
 * pidfd_send_signal(2): signals the process behind a pidfd, never a stranger that reused its
 * pid. Returns false when the process has already exited (ESRCH).
 */
export function pidfdSendSignal(pidfd: number, signal: number): boolean {
  const rc = libcFunc('int pidfd_send_signal(int pidfd, int sig, void *info, unsigned int flags)')(pidfd, signal, null, 0) as number;
  if (rc === 0) return true;
  const errno = lastErrno();
  if (errno === 3) return false;
  throw systemError(ErrorDomain.NONE, errno, `Unable to send signal ${signal} through pidfd ${pidfd}`);
}
