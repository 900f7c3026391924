// The server end of one accepted connection, below any program: framing with its limits,
// the program/version/type/status checks of libvirt's server (answered as libvirtd answers them),
// keepalive, at most `maxRequests` calls in flight (more are held by not reading the socket),
// replies written as calls finish, and asynchronous messages (events) through a bounded queue:
// a client that does not read is disconnected with a log line instead of growing the daemon's
// memory or delaying anyone else.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { VirtError } from '../errors/index.js';
import { FrameError, FrameReader } from './frameReader.js';
import { isKeepalive, KeepAlive, PING_FRAME, PONG_FRAME } from './keepalive.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import {
  decodeHeader,
  encodeMessage,
  KeepaliveProcedure,
  MESSAGE_HEADER_MAX,
  MessageStatus,
  MessageType,
  messageTypeName,
  type MessageHeader,
} from './message.js';
import { NetMessageError, rpcError, virtErrorToNetError } from './netError.js';
import { RpcStream } from './stream.js';
import type { Codec } from './xdr.js';

/** Who is on the other end, for access control and logs. */
export interface ClientIdentity {
  transport: 'unix' | 'tcp' | 'tls' | 'stream';
  /** From SO_PEERCRED on unix sockets; null elsewhere. */
  uid: number | null;
  gid: number | null;
  pid: number | null;
  /** 'ip:port' for tcp/tls, the socket path for unix. */
  address: string;
  /** Subject of the client's x509 certificate (TLS). */
  x509dname: string | null;
}

/** The reply to one call. */
export interface Reply {
  codec: Codec<any>;
  value: unknown;
  /** Runs once the reply is written (e.g. start pumping a stream). */
  afterSend?: () => void;
  /** Close the connection after this reply (CONNECT_CLOSE). */
  close?: boolean;
}

/** A program served on this connection (remote, qemu, admin …). */
export interface ServerProgram {
  readonly prog: number;
  readonly vers: number;
  /**
   * Handles one CALL whose header passed the generic checks. Resolves to the reply, or rejects
   * with the VirtError the client gets back.
   */
  dispatch(conn: ServerConnection, header: MessageHeader, payload: Buffer): Promise<Reply>;
  /** The connection has ended (EOF, error, keepalive, close()). */
  connectionClosed?(conn: ServerConnection): void;
}

export interface ServerConnectionOptions {
  /** Daemon-wide client number, for logs. */
  id?: number;
  /** Accepted on a read-only socket. */
  readonly?: boolean;
  /** The listener's authentication scheme ('none', 'polkit', 'sasl'); programs enforce it. */
  auth?: string;
  identity?: ClientIdentity;
  /** Calls in flight before the connection stops reading (libvirtd: max_client_requests 5). */
  maxRequests?: number;
  /** Messages (events) waiting for a slow client before it is disconnected. */
  maxQueuedMessages?: number;
  /** Used once a program calls startKeepAlive(): seconds and count (libvirtd: 5, 5). */
  keepaliveInterval?: number;
  keepaliveCount?: number;
  /** Largest header + payload accepted. */
  maxMessage?: number;
  logger?: Logger;
}

const key = (prog: number, vers: number): string => `${prog >>> 0}/${vers >>> 0}`;

/** Emits 'close' (reason: string) once. */
export class ServerConnection extends EventEmitter {
  readonly id: number;
  readonly readonly: boolean;
  readonly auth: string;
  readonly identity: ClientIdentity;
  /** Program-specific state of this client (the remote program's session lives here). */
  readonly programs = new Map<string, ServerProgram>();
  private readonly reader: FrameReader;
  private readonly keepalive: KeepAlive;
  private readonly streams = new Map<number, RpcStream>();
  private readonly queue: Buffer[] = [];
  private readonly maxRequests: number;
  private readonly maxQueued: number;
  private readonly log: Logger;
  private inFlight = 0;
  /** Calls read while max_client_requests were in flight (one socket read's worth at most). */
  private readonly held: { h: MessageHeader; payload: Buffer }[] = [];
  private paused = false;
  private closing = false;
  private closed = false;

  constructor(
    private readonly stream: Duplex,
    opts: ServerConnectionOptions = {},
  ) {
    super();
    this.id = opts.id ?? 0;
    this.readonly = opts.readonly ?? false;
    this.auth = opts.auth ?? 'none';
    this.identity = opts.identity ?? { transport: 'stream', uid: null, gid: null, pid: null, address: '', x509dname: null };
    this.maxRequests = Math.max(1, opts.maxRequests ?? 5);
    this.maxQueued = Math.max(1, opts.maxQueuedMessages ?? 1024);
    this.log = opts.logger ?? silentLogger;
    this.reader = new FrameReader((f) => this.onFrame(f), { maxMessage: opts.maxMessage });
    this.keepalive = new KeepAlive({
      interval: opts.keepaliveInterval ?? 5,
      count: opts.keepaliveCount ?? 5,
      sendPing: () => this.write(PING_FRAME),
      onDead: () => {
        this.log.warn(`client ${this.describe()}: no response to keepalive, closing (connection closed due to keepalive timeout)`);
        this.close('keepalive timeout');
      },
    });
    stream.on('data', (chunk: Buffer) => {
      if (this.closed) return;
      try {
        this.reader.push(chunk);
      } catch (err) {
        // A bad length word: libvirtd drops the connection without a reply.
        this.log.warn(`client ${this.describe()}: ${err instanceof FrameError ? err.message : String(err)}, closing`);
        this.close('bad frame');
      }
    });
    stream.on('drain', () => this.flush());
    stream.on('end', () => this.close('eof'));
    stream.on('error', (err) => {
      this.log.debug(`client ${this.describe()}: ${err.message}`);
      this.close('error');
    });
    stream.on('close', () => this.close('eof'));
  }

  /** 'uid 0 pid 123 on unix /run/x/sock' — for log lines. */
  describe(): string {
    const i = this.identity;
    const who = i.uid !== null ? `uid ${i.uid} pid ${i.pid}` : i.address;
    return `${this.id} (${who}, ${i.transport})`;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Messages waiting in the event queue. */
  get queuedMessages(): number {
    return this.queue.length;
  }

  addProgram(p: ServerProgram): void {
    this.programs.set(key(p.prog, p.vers), p);
  }

  /** Begins pinging the client (it asked for keepalive, feature 10). */
  startKeepAlive(): void {
    if (!this.closed) this.keepalive.start();
  }

  private onFrame(frame: Buffer): void {
    let h: MessageHeader;
    try {
      h = decodeHeader(frame);
    } catch {
      this.close('bad frame');
      return;
    }
    this.keepalive.received();
    const payload = frame.subarray(MESSAGE_HEADER_MAX);
    switch (h.type) {
      case MessageType.CALL:
      case MessageType.CALL_WITH_FDS:
        this.onCall(h, payload);
        return;
      case MessageType.MESSAGE:
        if (isKeepalive(h) && h.proc === KeepaliveProcedure.PING) this.write(PONG_FRAME);
        return;
      case MessageType.STREAM: {
        const st = this.streams.get(h.serial);
        if (st && st.target.proc === h.proc && st.target.prog === h.prog) st.receive(h, payload);
        else this.log.debug(`client ${this.describe()}: ignoring unexpected stream data serial=${h.serial} proc=${h.proc}`);
        return;
      }
      default:
        // REPLY and the rest from a client: libvirtd ignores them without an answer.
        this.log.debug(`client ${this.describe()}: ignoring ${messageTypeName(h.type)} message`);
    }
  }

  private onCall(h: MessageHeader, payload: Buffer): void {
    if (this.closing) return;
    const program = this.programs.get(key(h.prog, h.vers));
    if (!program) {
      this.sendError(h, rpcError(`Cannot find program ${h.prog | 0} version ${h.vers | 0}`));
      return;
    }
    if (h.status !== MessageStatus.OK) {
      this.sendError(h, rpcError(`Unexpected message status ${h.status >>> 0}`));
      return;
    }
    if (h.type === MessageType.CALL_WITH_FDS) {
      // Passing FDs needs SCM_RIGHTS on the socket; tsvirtd does not offer FD_PASSING (feature 8).
      this.sendError(h, rpcError('Unable to receive file descriptors: not supported'));
      return;
    }
    if (this.inFlight >= this.maxRequests) {
      this.held.push({ h, payload });
      this.updateReading();
      return;
    }
    this.run(program, h, payload);
  }

  private run(program: ServerProgram, h: MessageHeader, payload: Buffer): void {
    this.inFlight++;
    this.updateReading();
    let p: Promise<Reply>;
    try {
      p = program.dispatch(this, h, payload);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (reply) => {
        this.finishCall();
        this.sendReply(h, reply);
      },
      (err) => {
        this.finishCall();
        if (!(err instanceof VirtError)) this.log.error(`client ${this.describe()}: procedure ${h.proc} failed: ${(err as Error)?.stack ?? err}`);
        this.sendError(h, err);
      },
    );
  }

  private finishCall(): void {
    this.inFlight--;
    const next = this.held.shift();
    if (next && !this.closed) {
      const program = this.programs.get(key(next.h.prog, next.h.vers));
      if (program) this.run(program, next.h, next.payload);
    }
    this.updateReading();
  }

  private sendReply(h: MessageHeader, reply: Reply): void {
    if (this.closed) return;
    let frame: Buffer;
    try {
      frame = encodeMessage({ ...h, type: MessageType.REPLY, status: MessageStatus.OK }, reply.codec, reply.value);
    } catch (err) {
      this.log.error(`client ${this.describe()}: cannot encode reply to procedure ${h.proc}: ${(err as Error).message}`);
      this.sendError(h, rpcError('Unable to encode message payload'));
      return;
    }
    this.write(frame);
    reply.afterSend?.();
    if (reply.close) this.closeGracefully();
  }

  /** An error reply (type REPLY, status ERROR) echoing the call's prog/vers/proc/serial. */
  sendError(h: MessageHeader, err: unknown): void {
    if (this.closed) return;
    this.write(encodeMessage({ ...h, type: MessageType.REPLY, status: MessageStatus.ERROR }, NetMessageError, virtErrorToNetError(err)));
  }

  /**
   * An asynchronous MESSAGE (an event): queued behind earlier ones while the client is slow;
   * false when the client was dropped for a full queue (or is gone).
   */
  sendMessage<T>(prog: number, vers: number, proc: number, codec: Codec<T>, body: T): boolean {
    if (this.closed || this.closing) return false;
    // libvirtd puts serial 1 on every event message.
    const frame = encodeMessage({ prog, vers, proc, type: MessageType.MESSAGE, serial: 1, status: MessageStatus.OK }, codec, body);
    if (this.queue.length === 0 && !this.stream.writableNeedDrain) {
      this.stream.write(frame);
      return true;
    }
    this.queue.push(frame);
    if (this.queue.length > this.maxQueued) {
      this.log.warn(`client ${this.describe()}: event queue full (${this.queue.length} messages not read), disconnecting`);
      this.queue.length = 0;
      this.close('event queue overflow');
      return false;
    }
    return true;
  }

  private write(frame: Buffer): boolean {
    if (this.closed || this.closing) return false;
    this.stream.write(frame);
    if (this.stream.writableNeedDrain) this.updateReading();
    return true;
  }

  private flush(): void {
    while (this.queue.length > 0 && !this.stream.writableNeedDrain && !this.closed) this.stream.write(this.queue.shift()!);
    this.updateReading();
  }

  /** Stops reading while too many calls are in flight or the client is not reading replies. */
  private updateReading(): void {
    if (this.closed) return;
    const stop = this.inFlight >= this.maxRequests || this.held.length > 0 || this.stream.writableNeedDrain;
    if (stop && !this.paused) {
      this.paused = true;
      this.stream.pause();
    } else if (!stop && this.paused) {
      this.paused = false;
      this.stream.resume();
    }
  }

  /**
   * A stream for the call `h` (replies and data share its proc and serial). The client's end
   * is answered when the caller ends the stream (once its source has finished).
   */
  createStream(h: MessageHeader): RpcStream {
    const st = new RpcStream(
      { prog: h.prog, vers: h.vers, proc: h.proc, serial: h.serial },
      (frame) => this.write(frame),
      () => {
        if (this.streams.get(h.serial) === st) this.streams.delete(h.serial);
      },
      { answerEnd: false },
    );
    this.streams.set(h.serial, st);
    return st;
  }

  /** Ends the connection after what is written has gone out. */
  closeGracefully(): void {
    if (this.closed || this.closing) return;
    this.closing = true;
    this.stream.end();
    setTimeout(() => this.close('closed'), 2000).unref();
  }

  /** Drops the connection now. Idempotent; programs hear about it once. */
  close(reason = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    this.keepalive.stop();
    this.queue.length = 0;
    this.held.length = 0;
    const err = rpcError('connection closed');
    for (const st of this.streams.values()) st.connectionClosed(err);
    this.streams.clear();
    this.stream.destroy();
    for (const p of this.programs.values()) {
      try {
        p.connectionClosed?.(this);
      } catch (e) {
        this.log.error(`client ${this.describe()}: cleanup failed: ${(e as Error).message}`);
      }
    }
    this.emit('close', reason);
  }
}
