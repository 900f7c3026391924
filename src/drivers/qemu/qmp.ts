// A client for QEMU's machine protocol (QMP) on a unix socket: greeting, capabilities
// negotiation, commands matched to replies by id (any number in flight), asynchronous events,
// per-command timeouts, descriptor passing (getfd), and one 'close' when the socket dies, which
// the driver reads as "QEMU is gone" whether or not QEMU is its child.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorDomain, ErrorNumber, VirtError, fromSystemError, virtError } from '../../errors/index.js';
import { sendWithFds } from '../../host/syscalls.js';

/** An asynchronous event from QEMU: {"event": "STOP", "data": {...}, "timestamp": {...}}. */
export interface QmpEvent {
  event: string;
  data: Record<string, unknown>;
  timestamp: { seconds: number; microseconds: number };
}

/** The banner QEMU sends first. */
export interface QmpGreeting {
  version: { qemu: { major: number; minor: number; micro: number }; package: string };
  capabilities: string[];
}

export interface QmpCloseInfo {
  /** 'eof': QEMU closed the socket (it exited or is exiting); 'error': the socket failed or
   * QEMU sent something that is not QMP; 'closed': close() was called. */
  reason: 'eof' | 'error' | 'closed';
  error?: VirtError;
}

export interface QmpClientEvents {
  event: [QmpEvent];
  close: [QmpCloseInfo];
}

export interface QmpConnectOptions {
  /** The domain's name, for messages ("vm='NAME'"). */
  vmName?: string;
  /** Keep retrying connect() while the socket is missing or refuses, until this long has
   * passed; also bounds the greeting and qmp_capabilities. Default 30 s. */
  timeoutMs?: number;
  /** Stops the connect loop at once, e.g. when the QEMU being waited for has exited. */
  signal?: AbortSignal;
  /** Default timeout of each command; 0 waits for ever. Default 60 s. */
  commandTimeoutMs?: number;
}

export interface QmpCommandOptions {
  /** This command's timeout, overriding the client's default; 0 waits for ever. */
  timeoutMs?: number;
  /** Descriptors sent along with the command (SCM_RIGHTS): what `getfd` and `add-fd` take. */
  fds?: readonly number[];
}

interface Pending {
  command: string;
  resolve(value: unknown): void;
  reject(err: VirtError): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * One message of real monitor traffic: a command as a client sends it, or an event as it
 * arrives; `path` is the monitor socket (one per domain).
 */
export type QmpTraffic =
  | { path: string; kind: 'command'; command: string; args: Record<string, unknown> | undefined }
  | { path: string; kind: 'event'; event: string; data: Record<string, unknown> };

const trafficObservers = new Set<(m: QmpTraffic) => void>();

/**
 * Calls `fn` for every command any QMP client of this process sends and every event it
 * receives, as they cross the socket (tests check what the driver really asked QEMU, e.g.
 * that no query-rx-filter went out). Returns the function that stops observing.
 */
export function observeQmpTraffic(fn: (m: QmpTraffic) => void): () => void {
  trafficObservers.add(fn);
  return () => trafficObservers.delete(fn);
}

function notifyObservers(m: QmpTraffic): void {
  for (const observe of trafficObservers) {
    try {
      observe(m);
    } catch {
      // an observer's failure is not the monitor's
    }
  }
}

// One reply line of query-qmp-schema is about 0.5 MB on QEMU 7.2; anything past this is not QMP.
const MAX_LINE = 64 * 1024 * 1024;

export class QmpClient extends EventEmitter<QmpClientEvents> {
  readonly greeting: QmpGreeting;
  readonly path: string;
  readonly vmName: string | undefined;
  private readonly socket: net.Socket;
  private readonly pending = new Map<string, Pending>();
  private readonly commandTimeoutMs: number;
  private nextId = 1;
  private buffered = '';
  private closeInfo: QmpCloseInfo | undefined;

  private constructor(socket: net.Socket, path: string, greeting: QmpGreeting, opts: QmpConnectOptions) {
    super();
    this.socket = socket;
    this.path = path;
    this.greeting = greeting;
    this.vmName = opts.vmName;
    this.commandTimeoutMs = opts.commandTimeoutMs ?? 60_000;
  }

  /**
   * Connects to QEMU's QMP socket, reads the greeting and leaves negotiation mode
   * (qmp_capabilities). Retries while the socket does not exist yet or refuses, so it can be
   * called right after spawning QEMU.
   */
  static async connect(path: string, opts: QmpConnectOptions = {}): Promise<QmpClient> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    const socket = await connectWithRetry(path, deadline, opts);
    let client: QmpClient | undefined;
    try {
      const greeting = await readGreeting(socket, path, deadline, opts);
      client = new QmpClient(socket, path, greeting, opts);
      client.listen();
      await client.execute('qmp_capabilities', undefined, { timeoutMs: Math.max(1, deadline - Date.now()) });
      return client;
    } catch (err) {
      if (client) client.close();
      else socket.destroy();
      throw err;
    }
  }

  /** True once the socket is gone (EOF, error or close()). */
  get closed(): boolean {
    return this.closeInfo !== undefined;
  }

  /**
   * Runs one command. Resolves with its `return` value; rejects with a VirtError: QEMU's
   * error (INTERNAL_ERROR, "unable to execute QEMU command 'X': <desc>", the QMP class in
   * `qmpClass`), a timeout (OPERATION_TIMEOUT), or a dead monitor.
   */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, opts: QmpCommandOptions = {}): Promise<T> {
    if (this.closeInfo) return Promise.reject(this.deadError(command));
    const id = `tsvirt-${this.nextId++}`;
    const msg: Record<string, unknown> = { execute: command };
    if (args !== undefined) msg.arguments = args;
    msg.id = id;
    const line = `${JSON.stringify(msg)}\r\n`;
    if (trafficObservers.size) notifyObservers({ path: this.path, kind: 'command', command, args });
    return new Promise<T>((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? this.commandTimeoutMs;
      const p: Pending = { command, resolve: resolve as (v: unknown) => void, reject, timer: undefined };
      if (timeoutMs > 0) {
        p.timer = setTimeout(() => {
          // A late reply with this id is dropped; QEMU may still carry the command out.
          this.pending.delete(id);
          reject(
            virtError(
              ErrorNumber.OPERATION_TIMEOUT,
              ErrorDomain.QEMU,
              `QEMU command '${command}' got no reply within ${timeoutMs} ms${this.vmSuffix()}`,
              { object: command },
            ),
          );
        }, timeoutMs);
      }
      this.pending.set(id, p);
      try {
        if (opts.fds && opts.fds.length > 0) this.writeWithFds(line, opts.fds);
        else this.socket.write(line);
      } catch (err) {
        this.settle(id);
        reject(fromSystemError(err, ErrorDomain.QEMU, `Unable to send QEMU command '${command}'`));
      }
    });
  }

  /**
   * Waits for the next event named `name` (for which `filter`, if given, is true). Rejects
   * with OPERATION_TIMEOUT after timeoutMs (0: never) and with the monitor's error if the
   * socket closes first.
   */
  waitEvent(
    name: string,
    opts: { timeoutMs?: number; filter?: (ev: QmpEvent) => boolean; signal?: AbortSignal } = {},
  ): Promise<QmpEvent> {
    if (this.closeInfo) return Promise.reject(this.deadError(`wait for ${name}`));
    if (opts.signal?.aborted) {
      return Promise.reject(virtError(ErrorNumber.OPERATION_ABORTED, ErrorDomain.QEMU, `wait for QEMU event ${name}`));
    }
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer) clearTimeout(timer);
        this.off('event', onEvent);
        this.off('close', onClose);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      const onEvent = (ev: QmpEvent): void => {
        if (ev.event !== name || (opts.filter && !opts.filter(ev))) return;
        done();
        resolve(ev);
      };
      const onClose = (): void => {
        done();
        reject(this.deadError(`wait for ${name}`));
      };
      const onAbort = (): void => {
        done();
        reject(virtError(ErrorNumber.OPERATION_ABORTED, ErrorDomain.QEMU, `wait for QEMU event ${name}`));
      };
      this.on('event', onEvent);
      this.on('close', onClose);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.timeoutMs && opts.timeoutMs > 0) {
        timer = setTimeout(() => {
          done();
          reject(
            virtError(
              ErrorNumber.OPERATION_TIMEOUT,
              ErrorDomain.QEMU,
              `no QEMU event ${name} within ${opts.timeoutMs} ms${this.vmSuffix()}`,
            ),
          );
        }, opts.timeoutMs);
      }
    });
  }

  /** Closes the socket; pending commands fail; 'close' is emitted (reason 'closed'). */
  close(): void {
    this.shutdown({ reason: 'closed' });
  }

  private listen(): void {
    this.socket.on('data', (chunk: string) => this.onData(chunk));
    this.socket.on('end', () => this.shutdown({ reason: 'eof' }));
    this.socket.on('close', () => this.shutdown({ reason: 'eof' }));
    this.socket.on('error', (err: NodeJS.ErrnoException) => {
      // A QEMU that dies with our bytes unread resets the connection instead of closing it:
      // the same event as an end of file.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') this.shutdown({ reason: 'eof' });
      else this.shutdown({ reason: 'error', error: fromSystemError(err, ErrorDomain.QEMU, `QEMU monitor ${this.path} failed`) });
    });
    this.socket.resume();
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while (!this.closeInfo && (nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl).trim();
      this.buffered = this.buffered.slice(nl + 1);
      if (line) this.onLine(line);
    }
    if (this.buffered.length > MAX_LINE) this.protocolError(`a QMP message longer than ${MAX_LINE} bytes`);
  }

  private onLine(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      this.protocolError(`a line that is not JSON: ${line.slice(0, 200)}`);
      return;
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      this.protocolError(`JSON that is not an object: ${line.slice(0, 200)}`);
      return;
    }
    const m = msg as Record<string, unknown>;
    if (typeof m.event === 'string') {
      const ts = (m.timestamp ?? {}) as { seconds?: number; microseconds?: number };
      const data = (m.data ?? {}) as Record<string, unknown>;
      if (trafficObservers.size) notifyObservers({ path: this.path, kind: 'event', event: m.event, data });
      this.emit('event', {
        event: m.event,
        data,
        timestamp: { seconds: ts.seconds ?? 0, microseconds: ts.microseconds ?? 0 },
      });
      return;
    }
    if (!('return' in m) && !('error' in m)) return; // e.g. a second greeting: not ours to judge
    const id = typeof m.id === 'string' ? m.id : undefined;
    const p = id === undefined ? undefined : this.settle(id);
    if (!p) return; // reply to a command that already timed out
    if ('error' in m) p.reject(qmpError(p.command, m.error, this.vmName));
    else p.resolve(m.return);
  }

  /** Forgets a pending command and its timer. */
  private settle(id: string): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    if (p.timer) clearTimeout(p.timer);
    return p;
  }

  // SCM_RIGHTS needs sendmsg on the socket's own descriptor. It must not overtake bytes Node
  // still holds for this socket, so it goes out only when nothing is queued; otherwise after
  // the queue drains.
  private writeWithFds(line: string, fds: readonly number[]): void {
    const data = Buffer.from(line);
    const fd = (this.socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) throw new Error('the QMP socket has no descriptor');
    if (this.socket.writableLength > 0) {
      this.socket.once('drain', () => {
        try {
          this.writeWithFds(line, fds);
        } catch (err) {
          this.shutdown({ reason: 'error', error: fromSystemError(err, ErrorDomain.QEMU, 'Unable to pass descriptors to QEMU') });
        }
      });
      return;
    }
    const sent = sendWithFds(fd, data, fds);
    if (sent < data.length) this.socket.write(data.subarray(sent));
  }

  private protocolError(what: string): void {
    this.shutdown({
      reason: 'error',
      error: virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, `QEMU monitor sent ${what}${this.vmSuffix()}`),
    });
  }

  private shutdown(info: QmpCloseInfo): void {
    if (this.closeInfo) return;
    this.closeInfo = info;
    this.socket.destroy();
    const err = this.deadError();
    for (const [id, p] of [...this.pending]) {
      this.settle(id);
      p.reject(err);
    }
    this.emit('close', info);
  }

  private deadError(command?: string): VirtError {
    const info = this.closeInfo;
    if (info?.error) return info.error;
    if (info?.reason === 'closed') {
      return virtError(
        ErrorNumber.OPERATION_FAILED,
        ErrorDomain.QEMU,
        `QEMU monitor was closed${command ? ` before '${command}' completed` : ''}${this.vmSuffix()}`,
      );
    }
    // libvirt's words for a monitor whose QEMU went away.
    return virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, `End of file from qemu monitor (vm='${this.vmName ?? this.path}')`);
  }

  private vmSuffix(): string {
    return this.vmName ? ` (vm='${this.vmName}')` : '';
  }
}

/** Extra detail a QMP error carries: QEMU's error class ("GenericError", "DeviceNotFound", …). */
export interface QmpErrorInfo {
  qmpClass: string;
  command: string;
}

/** libvirt's mapping of a QMP error reply. */
export function qmpError(command: string, error: unknown, vmName?: string): VirtError & QmpErrorInfo {
  const e = (typeof error === 'object' && error !== null ? error : {}) as { class?: unknown; desc?: unknown };
  const desc = typeof e.desc === 'string' ? e.desc : 'unknown QEMU command error';
  const err = virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, `unable to execute QEMU command '${command}': ${desc}`, {
    object: vmName ?? command,
  }) as VirtError & QmpErrorInfo;
  err.qmpClass = typeof e.class === 'string' ? e.class : 'GenericError';
  err.command = command;
  return err;
}

/** True for a VirtError that came from a QMP error reply of the given class. */
export function isQmpErrorClass(err: unknown, qmpClass: string): boolean {
  return err instanceof VirtError && (err as Partial<QmpErrorInfo>).qmpClass === qmpClass;
}

async function connectWithRetry(path: string, deadline: number, opts: QmpConnectOptions): Promise<net.Socket> {
  let delay = 2;
  for (;;) {
    try {
      return await connectOnce(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const retriable = code === 'ENOENT' || code === 'ECONNREFUSED';
      if (!retriable || Date.now() + delay > deadline || opts.signal?.aborted) {
        if (opts.signal?.aborted) {
          throw virtError(
            ErrorNumber.OPERATION_FAILED,
            ErrorDomain.QEMU,
            `gave up connecting to the QEMU monitor ${path}${opts.vmName ? ` (vm='${opts.vmName}')` : ''}`,
            undefined,
            { cause: opts.signal.reason },
          );
        }
        throw fromSystemError(err, ErrorDomain.QEMU, `Failed to connect to the QEMU monitor socket '${path}'`);
      }
      await sleep(delay, undefined, { signal: opts.signal }).catch(() => undefined);
      delay = Math.min(delay * 2, 50);
    }
  }
}

function connectOnce(path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(path);
    s.once('connect', () => {
      s.off('error', reject);
      s.setEncoding('utf8');
      resolve(s);
    });
    s.once('error', reject);
  });
}

function readGreeting(socket: net.Socket, path: string, deadline: number, opts: QmpConnectOptions): Promise<QmpGreeting> {
  const vm = opts.vmName ? ` (vm='${opts.vmName}')` : '';
  return new Promise((resolve, reject) => {
    let buf = '';
    const fail = (err: VirtError): void => {
      cleanup();
      reject(err);
    };
    const onData = (chunk: string): void => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > MAX_LINE) fail(virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, `oversized QMP greeting${vm}`));
        return;
      }
      cleanup();
      const rest = buf.slice(nl + 1);
      let msg: { QMP?: QmpGreeting };
      try {
        msg = JSON.parse(buf.slice(0, nl)) as { QMP?: QmpGreeting };
      } catch {
        reject(virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, `QEMU monitor greeting is not JSON${vm}`));
        return;
      }
      if (!msg.QMP) {
        reject(virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, `QEMU monitor sent no QMP greeting${vm}`));
        return;
      }
      // Nothing else is sent before qmp_capabilities, but keep whatever came along.
      if (rest) socket.unshift(rest);
      resolve(msg.QMP);
    };
    const onEnd = (): void =>
      fail(virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, `End of file from qemu monitor (vm='${opts.vmName ?? path}')`));
    const onError = (err: Error): void => fail(fromSystemError(err, ErrorDomain.QEMU, 'Unable to read the QEMU monitor greeting'));
    const timer = setTimeout(
      () => fail(virtError(ErrorNumber.OPERATION_TIMEOUT, ErrorDomain.QEMU, `no QMP greeting from QEMU${vm}`)),
      Math.max(1, deadline - Date.now()),
    );
    function cleanup(): void {
      // Paused until the client's own reader is attached, so no data is dropped in between.
      socket.pause();
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
    }
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onError);
  });
}
