// The system calls Node lacks, through one FFI package (koffi, prebuilt binaries). Everything
// in tsvirt that needs libc directly goes through this module.
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
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

// ---- advisory locks (the QEMU driver's state-directory lock).

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

/** flock(2); returns 0 or the errno of the failure (EWOULDBLOCK = 11 when held elsewhere). */
export function flock(fd: number, operation: number): number {
  const rc = libcFunc('int flock(int fd, int operation)')(fd, operation) as number;
  return rc === 0 ? 0 : lastErrno();
}

// ---- listening unix sockets (QEMU's monitor socket: tsvirt creates it and hands QEMU the
// descriptor, as libvirt does, so the driver can connect at once instead of waiting for QEMU).

/**
 * A listening AF_UNIX stream socket bound to `path` (close-on-exec; the caller closes it with
 * fs.closeSync). A stale file at `path` is removed first. Throws a system error naming the path.
 */
export function unixListenSocket(path: string, backlog = 1): number {
  const AF_UNIX = 1;
  const SOCK_STREAM_CLOEXEC = 1 | 0o2000000;
  const name = Buffer.from(path, 'utf8');
  if (name.length > 107) throw systemError(ErrorDomain.NONE, 36 /* ENAMETOOLONG */, `UNIX socket path '${path}' too long`);
  const addr = Buffer.alloc(110);
  addr.writeUInt16LE(AF_UNIX, 0);
  name.copy(addr, 2);
  if ((libcFunc('int unlink(const char *path)')(path) as number) !== 0 && lastErrno() !== 2 /* ENOENT */) {
    throw systemError(ErrorDomain.NONE, lastErrno(), `Unable to unlink ${path}`);
  }
  const fd = libcFunc('int socket(int domain, int type, int protocol)')(AF_UNIX, SOCK_STREAM_CLOEXEC, 0) as number;
  if (fd < 0) throw systemError(ErrorDomain.NONE, lastErrno(), 'Unable to create UNIX socket');
  const fail = (what: string): never => {
    const errno = lastErrno();
    libcFunc('int close(int fd)')(fd);
    throw systemError(ErrorDomain.NONE, errno, `${what} '${path}'`);
  };
  if ((libcFunc('int bind(int fd, void *addr, uint32_t len)')(fd, addr, 2 + name.length + 1) as number) !== 0) {
    fail('Unable to bind to UNIX socket path');
  }
  if ((libcFunc('int listen(int fd, int backlog)')(fd, backlog) as number) !== 0) fail('Unable to listen to UNIX socket path');
  return fd;
}

// ---- terminals (a QEMU pty console opened on its slave side, as libvirt's virFDStreamOpenPTY) ----

/**
 * Puts the terminal `fd` in raw mode (cfmakeraw: no echo, no line editing, no CR/NL changes,
 * 8-bit), so console bytes pass through unchanged. Throws a system error naming `what`.
 */
export function makeRawTerminal(fd: number, what: string): void {
  // struct termios is 60 bytes on Linux/glibc; the functions only see it through the pointer.
  const termios = Buffer.alloc(64);
  if ((libcFunc('int tcgetattr(int fd, void *t)')(fd, termios) as number) !== 0) {
    throw systemError(ErrorDomain.NONE, lastErrno(), `Unable to get terminal attributes of ${what}`);
  }
  libcFunc('void cfmakeraw(void *t)')(termios);
  // TCSANOW = 0
  if ((libcFunc('int tcsetattr(int fd, int action, void *t)')(fd, 0, termios) as number) !== 0) {
    throw systemError(ErrorDomain.NONE, lastErrno(), `Unable to set terminal attributes of ${what}`);
  }
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

const SO_PEERCRED = 17;

/** The process on the other end of a connected unix socket (getsockopt SO_PEERCRED). */
export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/** SO_PEERCRED of a unix socket fd: who connected, as the kernel recorded it at connect(). */
export function getPeerCredentials(fd: number): PeerCredentials {
  // struct ucred { pid_t pid; uid_t uid; gid_t gid; } — three 32-bit fields.
  const cred = Buffer.alloc(12);
  const len = Buffer.alloc(4);
  const be = endianness() === 'BE';
  if (be) len.writeUInt32BE(12, 0);
  else len.writeUInt32LE(12, 0);
  const rc = libcFunc('int getsockopt(int sockfd, int level, int optname, void *optval, void *optlen)')(
    fd,
    SOL_SOCKET,
    SO_PEERCRED,
    cred,
    len,
  ) as number;
  if (rc !== 0) throw systemError(ErrorDomain.NONE, lastErrno(), `Failed to get client socket identity (fd ${fd})`);
  // Host byte order.
  if (be) return { pid: cred.readInt32BE(0), uid: cred.readUInt32BE(4), gid: cred.readUInt32BE(8) };
  return { pid: cred.readInt32LE(0), uid: cred.readUInt32LE(4), gid: cred.readUInt32LE(8) };
}
