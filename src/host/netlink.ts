// Route netlink (NETLINK_ROUTE) for tsvirt, on the `netlink` package: one socket, opened on first
// use and reused, with the package's sequence numbers and request/ACK matching. This module
// interprets replies: an NLMSG_ERROR carries the kernel's errno (0 is the ACK). A failure of the
// socket itself (send, timeout, a reply that cannot be parsed) is a thrown VirtError and never an
// errno value, so callers that tolerate a kernel errno (EPERM when clearing a VF VLAN) cannot
// mistake a transport failure for it.
import { createRequire } from 'node:module';
import type * as NetlinkPackage from 'netlink';
import type { NetlinkMessage, NetlinkSocket, RawNetlinkSocket } from 'netlink';
import { Errno, ErrorDomain, ErrorNumber, VirtError, errnoOf, systemError, virtError } from '../errors/index.js';

let pkg: typeof NetlinkPackage | undefined;

/**
 * The `netlink` package, loaded on first use: it is a native addon and several MiB of code, and
 * most tsvirt processes (a CLI command, a daemon without running guests) never send a request.
 */
export function netlinkPackage(): typeof NetlinkPackage {
  return (pkg ??= createRequire(import.meta.url)('netlink') as typeof NetlinkPackage);
}

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_SETLINK = 19;

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;


/** Default wait for a reply; the VF requests use libvirt's 2000 ms. */
export const DEFAULT_TIMEOUT_MS = 5000;

/**
 * The datagram side of a netlink socket: what the package's RawNetlinkSocket offers. Tests hand
 * RtNetlink a simulated kernel with this shape, so everything above the raw datagrams (message
 * framing, sequence numbers, reply matching, attribute codecs) runs unchanged against it.
 */
export interface NetlinkEndpoint {
  send(msg: Uint8Array | Uint8Array[], options?: unknown, callback?: (error?: Error) => void): void;
  address(): { port: number; groups: number };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: string, listener: (...args: any[]) => void): unknown;
  ref(): void;
  unref(): void;
  close(): void;
}

/** One message of a reply (header fields and payload). */
export type NetlinkReplyMessage = NetlinkMessage;

/** What came back for a request. */
export type NetlinkReply =
  /** NLMSG_ERROR with error 0, or NLMSG_DONE. */
  | { kind: 'ack' }
  /** NLMSG_ERROR with a kernel errno (positive here). */
  | { kind: 'error'; errno: number }
  /** Data messages (a multipart reply without its DONE). */
  | { kind: 'messages'; messages: NetlinkReplyMessage[] };

export interface NetlinkRequestOptions {
  /** What is being done, for error messages: "set MAC of interface 'vnet0'". */
  op: string;
  /** The device concerned, recorded in the error's fault. */
  dev?: string;
  timeoutMs?: number;
}

export function malformedReply(op: string, dev?: string): VirtError {
  return virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, 'malformed netlink response message', {
    object: dev ?? op,
  });
}

/** A NETLINK_ROUTE socket, opened lazily and kept for every request. */
export class RtNetlink {
  private socket: NetlinkSocket | undefined;

  /** `open` makes the endpoint; by default a real NETLINK_ROUTE socket of this process. */
  constructor(private readonly open: () => NetlinkEndpoint = openRouteSocket) {}

  private sock(): NetlinkSocket {
    if (this.socket) return this.socket;
    let raw: NetlinkEndpoint;
    try {
      raw = this.open();
    } catch (err) {
      throw systemError(ErrorDomain.NET, errnoOf(err) ?? Errno.EIO, 'cannot open netlink socket', undefined, { cause: err });
    }
    // The package types its constructor with its own raw class; the endpoint has the same shape.
    const sock = new (netlinkPackage().NetlinkSocket)(raw as unknown as RawNetlinkSocket);
    // A socket error (e.g. ENOBUFS) would otherwise be thrown from the event emitter: drop the
    // socket instead, so the next request opens a fresh one; waiting requests time out.
    sock.on('error', () => {
      if (this.socket === sock) this.socket = undefined;
      try {
        sock.close();
      } catch {
        // already closed
      }
    });
    this.socket = sock;
    return sock;
  }

  /**
   * Sends one request (REQUEST|ACK added) and resolves with the reply. Rejects with a NET system
   * error when the socket fails or no reply arrives in time, and with an internal error
   * "malformed netlink response message" when the reply cannot be parsed.
   */
  async request(type: number, flags: number, payload: Uint8Array[], opts: NetlinkRequestOptions): Promise<NetlinkReply> {
    const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let messages: NetlinkMessage[];
    try {
      [messages] = await this.sock().request(type, payload, { flags, timeout, checkError: false });
    } catch (err) {
      throw transportError(err, opts, timeout);
    }
    return interpretReply(messages, opts);
  }

  /** Closes the socket; a later request opens a new one. */
  close(): void {
    const sock = this.socket;
    this.socket = undefined;
    sock?.close();
  }
}

function openRouteSocket(): NetlinkEndpoint {
  const nl = netlinkPackage();
  return new nl.RawNetlinkSocket(nl.Protocol.ROUTE);
}

function interpretReply(messages: NetlinkMessage[], opts: NetlinkRequestOptions): NetlinkReply {
  // The package strips the DONE of a multipart reply; a lone DONE arrives as no message at all.
  if (messages.length === 0) return { kind: 'ack' };
  const first = messages[0]!;
  if (first.type === NLMSG_DONE) return { kind: 'ack' };
  if (first.type === NLMSG_ERROR) {
    // struct nlmsgerr: int error, then the request's nlmsghdr.
    if (first.data.length < 4 + 16) throw malformedReply(opts.op, opts.dev);
    const error = first.data.readInt32LE(0);
    return error === 0 ? { kind: 'ack' } : { kind: 'error', errno: -error };
  }
  return { kind: 'messages', messages };
}

function transportError(err: unknown, opts: NetlinkRequestOptions, timeout: number): VirtError {
  if (err instanceof VirtError) return err;
  const fault = opts.dev ? { object: opts.dev } : undefined;
  const errno = errnoOf(err);
  if (errno !== undefined) return systemError(ErrorDomain.NET, errno, `netlink request failed: ${opts.op}`, fault, { cause: err });
  const msg = err instanceof Error ? err.message : String(err);
  if (/timeout/i.test(msg)) {
    return systemError(ErrorDomain.NET, Errno.ETIMEDOUT, `no netlink reply within ${timeout} ms: ${opts.op}`, fault, { cause: err });
  }
  // e.g. a multipart reply without its DONE
  return virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, 'malformed netlink response message', { object: opts.dev ?? opts.op }, { cause: err });
}

/**
 * For a request that only expects an acknowledgement: 0 on ACK/DONE, the negative kernel errno
 * on NLMSG_ERROR; any other reply is malformed (thrown).
 */
export function ackResult(reply: NetlinkReply, opts: NetlinkRequestOptions): number {
  if (reply.kind === 'ack') return 0;
  if (reply.kind === 'error') return -reply.errno;
  throw malformedReply(opts.op, opts.dev);
}
