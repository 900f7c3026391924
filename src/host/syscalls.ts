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

export const CLONE_NEWNET = 0x40000000;

/**
 * setns(2): moves the calling thread (Node's main thread) into the namespace behind fd. Sockets
 * and child processes created afterwards from JavaScript live in that namespace.
 */
export function setns(fd: number, nstype: number): void {
  const rc = libcFunc('int setns(int fd, int nstype)')(fd, nstype) as number;
  if (rc !== 0) throw systemError(ErrorDomain.NONE, lastErrno(), `Unable to enter namespace (fd ${fd})`);
}

const SOL_SOCKET = 1;
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
