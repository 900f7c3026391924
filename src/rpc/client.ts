// The client end of one RPC connection: calls multiplexed by serial (the first call has serial
// 0), replies matched back in any order, per-call timeouts, asynchronous MESSAGEs (events)
// handed to the program that registered for them, keepalive both ways, and streams.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { Errno, ErrorDomain, ErrorNumber, VirtError, errnoOf, systemError, virtError } from '../errors/index.js';
import { FrameError, FrameReader } from './frameReader.js';
import { isKeepalive, KeepAlive, PING_FRAME, PONG_FRAME } from './keepalive.js';
import {
  decodeHeader,
  encodeMessage,
  KeepaliveProcedure,
  MESSAGE_HEADER_MAX,
  MessageStatus,
  MessageType,
  type MessageHeader,
} from './message.js';
import { NetMessageError, netErrorToVirtError } from './netError.js';
import { RpcStream } from './stream.js';
import * as x from './xdr.js';
import type { Codec } from './xdr.js';

/** Why a connection ended; the numbers are virConnectCloseReason. */
export const CloseReason = { ERROR: 0, EOF: 1, KEEPALIVE: 2, CLIENT: 3 } as const;
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];

export interface CallOptions {
  /** Milliseconds to wait for the reply; 0 = forever. Defaults to the client's callTimeout. */
  timeout?: number;
  /** Procedure name for error messages ('DOMAIN_GET_XML_DESC'). */
  name?: string;
}

export interface RpcClientOptions {
  /** Default per-call timeout in milliseconds; 0 (the default) waits forever, as libvirt does. */
  callTimeout?: number;
  /** Largest header + payload accepted from the server. */
  maxMessage?: number;
}

export type MessageHandler = (header: MessageHeader, payload: Buffer) => void;

interface Pending {
  retCodec: Codec<unknown>;
  /** The procedure's name (or 'procedure N'), for the errors about its reply. */
  name: string;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  timer: ReturnType<typeof setTimeout> | null;
}

/**
 * Emits 'close' (reason: CloseReason, error: VirtError | null) once, when the connection ends for
 * any reason.
 */
export class RpcClient extends EventEmitter {
  private serial = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly streams = new Map<number, RpcStream>();
  private readonly messageHandlers = new Map<number, MessageHandler>();
  private readonly reader: FrameReader;
  private keepalive: KeepAlive | null = null;
  private closeReason: CloseReason | null = null;
  private closeError: VirtError | null = null;
  private readonly callTimeout: number;

  constructor(
    private readonly stream: Duplex,
    opts: RpcClientOptions = {},
  ) {
    super();
    this.callTimeout = opts.callTimeout ?? 0;
    this.reader = new FrameReader((frame) => this.onFrame(frame), { maxMessage: opts.maxMessage });
    stream.on('data', (chunk: Buffer) => {
      try {
        this.reader.push(chunk);
      } catch (err) {
        const msg = err instanceof FrameError ? err.message : String(err);
        this.shutdown(CloseReason.ERROR, virtError(ErrorNumber.RPC, ErrorDomain.RPC, msg));
      }
    });
    stream.on('end', () => this.shutdown(CloseReason.EOF, eofError()));
    stream.on('error', (err) =>
      this.shutdown(CloseReason.ERROR, err instanceof VirtError ? err : systemError(ErrorDomain.RPC, errnoOf(err) ?? Errno.EIO, 'Cannot recv data')),
    );
    stream.on('close', () => this.shutdown(CloseReason.EOF, eofError()));
    stream.resume();
  }

  /** True until the connection ends. */
  get isOpen(): boolean {
    return this.closeReason === null;
  }

  /** Calls in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Receives asynchronous MESSAGEs of a program (events); serials on MESSAGEs are ignored. */
  onMessage(prog: number, handler: MessageHandler): void {
    this.messageHandlers.set(prog, handler);
  }

  private nextSerial(): number {
    const s = this.serial;
    this.serial = (this.serial + 1) >>> 0;
    return s;
  }

  private closedError(): VirtError {
    return this.closeError ?? virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.RPC, 'client socket is closed');
  }

  /**
   * One call: encodes args in one allocation, waits for the reply with the same serial, decodes
   * it with retCodec or turns an error reply into the VirtError the server raised.
   */
  call<A, R>(prog: number, vers: number, proc: number, argsCodec: Codec<A>, args: A, retCodec: Codec<R>, opts: CallOptions = {}): Promise<R> {
    if (this.closeReason !== null) return Promise.reject(this.closedError());
    const serial = this.nextSerial();
    let frame: Buffer;
    try {
      frame = encodeMessage({ prog, vers, proc, type: MessageType.CALL, serial, status: MessageStatus.OK }, argsCodec, args);
    } catch (err) {
      return Promise.reject(
        virtError(ErrorNumber.RPC, ErrorDomain.RPC, `Unable to encode message payload: ${(err as Error).message}`, { object: opts.name }),
      );
    }
    return new Promise<R>((resolve, reject) => {
      const name = opts.name ?? `procedure ${proc}`;
      const p: Pending = { retCodec: retCodec as Codec<unknown>, name, resolve: resolve as (v: unknown) => void, reject, timer: null };
      const timeout = opts.timeout ?? this.callTimeout;
      if (timeout > 0) {
        p.timer = setTimeout(() => {
          if (this.pending.get(serial) !== p) return;
          // A late reply to a forgotten serial is dropped when it comes.
          this.pending.delete(serial);
          reject(
            virtError(
              ErrorNumber.OPERATION_TIMEOUT,
              ErrorDomain.RPC,
              `no reply to ${name} within ${timeout} ms`,
              { object: opts.name },
            ),
          );
        }, timeout);
        (p.timer as { unref?: () => void }).unref?.();
      }
      this.pending.set(serial, p);
      this.stream.write(frame);
    });
  }

  /**
   * A call that opens a stream (e.g. DOMAIN_OPEN_CONSOLE). The stream is registered before the
   * call is sent, so data the server sends right after its reply is not lost; it is returned
   * once the reply says OK.
   */
  async openStream<A>(prog: number, vers: number, proc: number, argsCodec: Codec<A>, args: A, opts: CallOptions = {}): Promise<RpcStream> {
    if (this.closeReason !== null) throw this.closedError();
    const serial = this.serial; // the serial call() is about to take
    const st = new RpcStream(
      { prog, vers, proc, serial },
      (frame) => this.writeFrame(frame),
      () => {
        if (this.streams.get(serial) === st) this.streams.delete(serial);
      },
    );
    this.streams.set(serial, st);
    try {
      await this.call(prog, vers, proc, argsCodec, args, x.xdrVoid, opts);
    } catch (err) {
      this.streams.delete(serial);
      st.discard();
      throw err;
    }
    return st;
  }

  private writeFrame(frame: Buffer): boolean {
    if (this.closeReason !== null) return false;
    this.stream.write(frame);
    return true;
  }

  /**
   * Starts sending PINGs after `interval` idle seconds and closing the connection after `count`
   * unanswered ones (only once the server said it supports keepalive, feature 10).
   */
  startKeepAlive(interval: number, count: number): void {
    if (this.keepalive || this.closeReason !== null || interval <= 0) return;
    this.keepalive = new KeepAlive({
      interval,
      count,
      sendPing: () => this.writeFrame(PING_FRAME),
      onDead: () =>
        this.shutdown(
          CloseReason.KEEPALIVE,
          virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.RPC, 'connection closed due to keepalive timeout'),
        ),
    });
    this.keepalive.start();
  }

  private onFrame(frame: Buffer): void {
    let h: MessageHeader;
    try {
      h = decodeHeader(frame);
    } catch {
      return;
    }
    this.keepalive?.received();
    const payload = frame.subarray(MESSAGE_HEADER_MAX);
    switch (h.type) {
      case MessageType.REPLY:
      case MessageType.REPLY_WITH_FDS: {
        const p = this.pending.get(h.serial);
        if (!p) return; // timed out or never ours
        this.pending.delete(h.serial);
        if (p.timer) clearTimeout(p.timer);
        try {
          if (h.status === MessageStatus.OK) {
            // *_WITH_FDS replies carry a count before the body; we never ask for FDs.
            const start = h.type === MessageType.REPLY_WITH_FDS ? 4 : 0;
            p.resolve(x.decode(p.retCodec, payload, start));
          } else if (h.status === MessageStatus.ERROR) {
            p.reject(netErrorToVirtError(x.decode(NetMessageError, payload)));
          } else {
            p.reject(virtError(ErrorNumber.RPC, ErrorDomain.RPC, `Unexpected message status ${h.status} in the reply to ${p.name}`, { object: p.name }));
          }
        } catch (err) {
          p.reject(
            virtError(ErrorNumber.RPC, ErrorDomain.RPC, `Unable to decode message payload of the reply to ${p.name}: ${(err as Error).message}`, {
              object: p.name,
            }),
          );
        }
        return;
      }
      case MessageType.MESSAGE:
        if (isKeepalive(h)) {
          if (h.proc === KeepaliveProcedure.PING) this.writeFrame(PONG_FRAME);
          return;
        }
        try {
          this.messageHandlers.get(h.prog)?.(h, payload);
        } catch (err) {
          this.emit('warning', err);
        }
        return;
      case MessageType.STREAM: {
        const st = this.streams.get(h.serial);
        if (st && st.target.proc === h.proc && st.target.prog === h.prog) st.receive(h, payload);
        return;
      }
      default:
        // STREAM_HOLE and anything unknown: not used by tsvirt's client.
        return;
    }
  }

  /** Closes the connection; calls in flight fail. Idempotent. */
  close(): void {
    this.shutdown(CloseReason.CLIENT, virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.RPC, 'client socket is closed'));
  }

  private shutdown(reason: CloseReason, err: VirtError): void {
    if (this.closeReason !== null) return;
    this.closeReason = reason;
    this.closeError = err;
    this.keepalive?.stop();
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    for (const st of this.streams.values()) st.connectionClosed(err);
    this.streams.clear();
    if (reason === CloseReason.CLIENT) {
      // Let what is written go out; a peer that does not hang up in turn is cut off.
      this.stream.end();
      setTimeout(() => this.stream.destroy(), 1000).unref();
    } else this.stream.destroy();
    this.emit('close', reason, reason === CloseReason.CLIENT ? null : err);
  }
}

/** libvirt's text when the server hangs up: "End of file while reading data: Input/output error". */
function eofError(): VirtError {
  return systemError(ErrorDomain.RPC, Errno.EIO, 'End of file while reading data');
}
