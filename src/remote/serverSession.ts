// The remote program on one client connection — tsvirtd's server core. It answers the checks
// libvirtd makes, in libvirtd's order (unknown procedure, authentication, argument decoding,
// connection open, read-only, access control), opens the connection's Driver through the
// factory the daemon passes in, dispatches each procedure onto it, converts errors exactly,
// and relays the events the client registered for through the connection's bounded queue.
import type { Duplex } from 'node:stream';
import { ErrorDomain, ErrorNumber, VirtError, virtError } from '../errors/index.js';
import { DrvFeature } from '../drivers/constants.js';
import type { CloseCallback, DomainEvent, Driver, NetworkEvent } from '../drivers/driver.js';
import { EventBroker } from '../drivers/events.js';
import type { Logger } from '../rpc/logger.js';
import { silentLogger } from '../rpc/logger.js';
import type { MessageHeader } from '../rpc/message.js';
import { rpcError } from '../rpc/netError.js';
import type { ClientIdentity, Reply, ServerConnection, ServerProgram } from '../rpc/serverConnection.js';
import * as x from '../rpc/xdr.js';
import { handlers } from './dispatch.js';
import { readonlyRefusal } from './readonly.js';
import {
  CONNECTION_CLOSED_PROC,
  domainEventToLegacyMessage,
  domainEventToMessage,
  messageCodec,
  NETWORK_EVENT_LIFECYCLE_PROC,
  networkEventToMessage,
} from './events.js';
import * as P from './protocol.js';

const Proc = P.Procedure;
const { LAST_DOMAIN_EVENT, LAST_NETWORK_EVENT } = EventBroker;

/** What the daemon hands the server core. */
export interface RemoteProgramOptions {
  /**
   * Opens the Driver for a CONNECT_OPEN: `uri` as the client sent it ('' when it let the
   * server choose). The driver is closed when the client closes or goes away.
   */
  openDriver(uri: string, opts: { readonly: boolean; identity: ClientIdentity }): Promise<Driver>;
  /**
   * Access control, asked before every call that passed the read-only rule: throw a VirtError
   * (e.g. ACCESS_DENIED) to refuse.
   */
  authorize?(req: AccessRequest): void | Promise<void>;
  /** On a 'polkit' listener, decides AUTH_POLKIT for non-root clients (default: refuse). */
  polkitCheck?(identity: ClientIdentity): boolean | Promise<boolean>;
  /** Daemon-wide event callback numbering (libvirtd's ids are not per connection). */
  nextCallbackId?: () => number;
  logger?: Logger;
}

export interface AccessRequest {
  identity: ClientIdentity;
  readonly: boolean;
  procedure: P.ProcedureInfo;
  args: unknown;
}

let sharedCallbackId = 0;
const defaultNextCallbackId = (): number => sharedCallbackId++;

interface DomainCallback {
  driverId: number;
  eventId: number;
  /** uuid of the domain filter, null for all domains. */
  dom: string | null;
  /** Registered with 105/167: messages without callbackID where the protocol has them. */
  legacy: boolean;
}

const AUTH_PROCS = new Set<number>([Proc.AUTH_LIST, Proc.AUTH_SASL_INIT, Proc.AUTH_SASL_START, Proc.AUTH_SASL_STEP, Proc.AUTH_POLKIT]);
const BARRIER_PROCS = new Set<number>([...AUTH_PROCS, Proc.CONNECT_OPEN, Proc.CONNECT_CLOSE]);

/** The body libvirtd sends when a call failed without reporting an error. */
function noErrorSet(): VirtError {
  return new VirtError({
    code: ErrorNumber.INTERNAL_ERROR,
    domain: ErrorDomain.RPC,
    message: 'Library function returned error but did not set virError',
    int1: 0,
    int2: 0,
  });
}

/** libvirtd's refusal text: "authentication failed: authentication failed". */
function authFailed(): VirtError {
  return virtError(ErrorNumber.AUTH_FAILED, ErrorDomain.RPC, 'authentication failed');
}

/** The remote program (0x20008086 v1) for one client connection. */
export class RemoteSession implements ServerProgram {
  readonly prog = P.REMOTE_PROGRAM;
  readonly vers = P.REMOTE_PROTOCOL_VERSION;
  private driver: Driver | null = null;
  private opening = false;
  private readonlyConn: boolean;
  private authenticated: boolean;
  private readonly domainCallbacks = new Map<number, DomainCallback>();
  private readonly networkCallbacks = new Map<number, number>();
  private closeCallback: CloseCallback | null = null;
  private ended = false;
  /**
   * A call that changes the connection's state (CONNECT_OPEN, AUTH_*, CONNECT_CLOSE) holds back
   * the calls that arrive after it, so a client that pipelines gets them answered as if it had
   * waited (and in order).
   */
  private barrier: Promise<unknown> | null = null;
  private readonly log: Logger;
  private readonly nextCallbackId: () => number;

  constructor(
    private readonly conn: ServerConnection,
    private readonly opts: RemoteProgramOptions,
  ) {
    this.readonlyConn = conn.readonly;
    this.authenticated = conn.auth === 'none';
    this.log = opts.logger ?? silentLogger;
    this.nextCallbackId = opts.nextCallbackId ?? defaultNextCallbackId;
  }

  /** Sets up the remote program on a new connection. */
  static attach(conn: ServerConnection, opts: RemoteProgramOptions): RemoteSession {
    const s = new RemoteSession(conn, opts);
    conn.addProgram(s);
    return s;
  }

  /** Read-only, by socket or by CONNECT_OPEN flag. */
  get readonly(): boolean {
    return this.readonlyConn;
  }

  get isOpen(): boolean {
    return this.driver !== null;
  }

  dispatch(conn: ServerConnection, h: MessageHeader, payload: Buffer): Promise<Reply> {
    const run = () => this.dispatchNow(conn, h, payload);
    const p = this.barrier ? this.barrier.then(run, run) : run();
    if (BARRIER_PROCS.has(h.proc)) {
      const b: Promise<unknown> = p.catch(() => {});
      this.barrier = b;
      void b.then(() => {
        if (this.barrier === b) this.barrier = null;
      });
    }
    return p;
  }

  private async dispatchNow(conn: ServerConnection, h: MessageHeader, payload: Buffer): Promise<Reply> {
    const info = P.procedures[h.proc];
    if (!info || info.message) throw rpcError(`unknown procedure: ${h.proc}`);
    if (!this.authenticated && !AUTH_PROCS.has(h.proc)) throw rpcError('authentication required');
    let args: any;
    try {
      args = x.decode(info.args, payload);
    } catch {
      throw rpcError('Unable to decode message payload');
    }
    const reply = (value: unknown = undefined): Reply => ({ codec: info.ret, value });

    // Procedures that work without an open connection.
    switch (h.proc) {
      case Proc.AUTH_LIST:
        return reply(this.authList());
      case Proc.AUTH_POLKIT:
        return reply(await this.authPolkit());
      case Proc.AUTH_SASL_INIT:
      case Proc.AUTH_SASL_START:
      case Proc.AUTH_SASL_STEP:
        throw authFailed();
      case Proc.CONNECT_OPEN:
        await this.open(args as P.ConnectOpenArgs);
        return reply();
      case Proc.CONNECT_CLOSE:
        return { codec: info.ret, value: undefined, close: true };
      case Proc.CONNECT_SUPPORTS_FEATURE:
        if ((args as P.ConnectSupportsFeatureArgs).feature === DrvFeature.PROGRAM_KEEPALIVE) {
          conn.startKeepAlive();
          return reply({ supported: 1 });
        }
        break;
    }

    const driver = this.driver;
    if (!driver) throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.RPC, 'hypervisor connection not open');
    if (this.readonlyConn) {
      const refusal = readonlyRefusal(info, args);
      if (refusal) throw refusal;
    }
    if (this.opts.authorize) await this.opts.authorize({ identity: conn.identity, readonly: this.readonlyConn, procedure: info, args });

    switch (h.proc) {
      case Proc.CONNECT_SUPPORTS_FEATURE:
        return reply({ supported: await this.supportsFeature(driver, (args as P.ConnectSupportsFeatureArgs).feature) });
      case Proc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: {
        const a = args as P.ConnectDomainEventCallbackRegisterAnyArgs;
        return reply({ callbackID: await this.registerDomainEvent(driver, a.eventID, a.dom, false) });
      }
      case Proc.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY:
        await this.deregisterDomainEvent(driver, (args as P.ConnectDomainEventCallbackDeregisterAnyArgs).callbackID);
        return reply();
      case Proc.CONNECT_DOMAIN_EVENT_REGISTER:
        await this.registerDomainEvent(driver, 0, null, true);
        return reply({ cb_registered: 1 });
      case Proc.CONNECT_DOMAIN_EVENT_DEREGISTER:
        await this.deregisterLegacy(driver, 0);
        return reply({ cb_registered: 0 });
      case Proc.CONNECT_DOMAIN_EVENT_REGISTER_ANY:
        await this.registerDomainEvent(driver, (args as P.ConnectDomainEventRegisterAnyArgs).eventID, null, true);
        return reply();
      case Proc.CONNECT_DOMAIN_EVENT_DEREGISTER_ANY:
        await this.deregisterLegacy(driver, (args as P.ConnectDomainEventDeregisterAnyArgs).eventID);
        return reply();
      case Proc.CONNECT_NETWORK_EVENT_REGISTER_ANY: {
        const a = args as P.ConnectNetworkEventRegisterAnyArgs;
        return reply({ callbackID: await this.registerNetworkEvent(driver, a.eventID, a.net) });
      }
      case Proc.CONNECT_NETWORK_EVENT_DEREGISTER_ANY:
        await this.deregisterNetworkEvent(driver, (args as P.ConnectNetworkEventDeregisterAnyArgs).callbackID);
        return reply();
      case Proc.CONNECT_REGISTER_CLOSE_CALLBACK:
        await this.registerCloseCallback(driver);
        return reply();
      case Proc.CONNECT_UNREGISTER_CLOSE_CALLBACK:
        await this.unregisterCloseCallback(driver);
        return reply();
      case Proc.DOMAIN_OPEN_CONSOLE:
        return this.openConsole(driver, h, args as P.DomainOpenConsoleArgs);
    }

    const handler = (handlers as Record<number, ((d: Driver, a: unknown) => Promise<unknown>) | undefined>)[h.proc];
    if (!handler) throw virtError(ErrorNumber.NO_SUPPORT, info.apiDomain, info.api ?? `vir${info.name}`, { object: info.api ?? info.name });
    return reply(await handler(driver, args));
  }

  // ---------------------------------------------------------------- authentication and open

  private authList(): P.AuthListRet {
    if (this.conn.auth === 'polkit') {
      // Root is authenticated by this very call (libvirtd's polkit bypass for uid 0).
      if (this.conn.identity.uid === 0) {
        this.authenticated = true;
        return { types: [P.AuthType.REMOTE_AUTH_NONE] };
      }
      return { types: this.authenticated ? [P.AuthType.REMOTE_AUTH_NONE] : [P.AuthType.REMOTE_AUTH_POLKIT] };
    }
    if (this.conn.auth === 'sasl') return { types: this.authenticated ? [P.AuthType.REMOTE_AUTH_NONE] : [P.AuthType.REMOTE_AUTH_SASL] };
    return { types: [P.AuthType.REMOTE_AUTH_NONE] };
  }

  private async authPolkit(): Promise<P.AuthPolkitRet> {
    // libvirtd refuses this on a non-polkit socket without setting an error: its reply is the
    // generic body for "no error set".
    if (this.conn.auth !== 'polkit') throw noErrorSet();
    if (this.authenticated) return { complete: 1 };
    const ok = this.conn.identity.uid === 0 || (this.opts.polkitCheck ? await this.opts.polkitCheck(this.conn.identity) : false);
    if (!ok) {
      this.log.warn(`client ${this.conn.describe()}: polkit authentication refused`);
      throw authFailed();
    }
    this.authenticated = true;
    return { complete: 1 };
  }

  private async open(a: P.ConnectOpenArgs): Promise<void> {
    if (this.driver || this.opening) {
      // libvirtd also drops the connection that was open.
      this.releaseDriver();
      throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.RPC, 'connection already open');
    }
    this.readonlyConn = this.conn.readonly || (a.flags & 1) !== 0;
    this.opening = true;
    try {
      const driver = await this.opts.openDriver(a.name ?? '', { readonly: this.readonlyConn, identity: this.conn.identity });
      if (this.ended) {
        await driver.close().catch(() => {});
        return;
      }
      this.driver = driver;
    } finally {
      this.opening = false;
    }
  }

  private async supportsFeature(driver: Driver, feature: number): Promise<number> {
    switch (feature) {
      case DrvFeature.REMOTE_EVENT_CALLBACK:
      case DrvFeature.REMOTE_CLOSE_CALLBACK:
        return 1;
      case DrvFeature.FD_PASSING: // needs SCM_RIGHTS on the socket, which tsvirtd does not do
        return 0;
      default:
        return (await driver.supportsFeature(feature)) ? 1 : 0;
    }
  }

  // ---------------------------------------------------------------- events

  private sendEvent(proc: number, body: unknown): void {
    try {
      this.conn.sendMessage(P.REMOTE_PROGRAM, P.REMOTE_PROTOCOL_VERSION, proc, messageCodec(proc), body);
    } catch (err) {
      this.log.error(`client ${this.conn.describe()}: cannot encode event ${P.procedures[proc]?.name}: ${(err as Error).message}`);
    }
  }

  private relayDomainEvent(callbackID: number, legacy: boolean, ev: DomainEvent): void {
    if (this.ended) return;
    const m = (legacy ? domainEventToLegacyMessage(ev) : null) ?? domainEventToMessage(callbackID, ev);
    this.sendEvent(m.proc, m.body);
  }

  private async registerDomainEvent(driver: Driver, eventId: number, dom: P.NonnullDomain | null, legacy: boolean): Promise<number> {
    if (!Number.isInteger(eventId) || eventId < 0 || eventId > LAST_DOMAIN_EVENT) {
      throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.RPC, `unsupported event ID ${eventId}`, { value: String(eventId) });
    }
    // libvirt tracks one callback per (event, domain filter) and connection.
    const key = dom ? dom.uuid : null;
    for (const cb of this.domainCallbacks.values()) {
      if (cb.eventId === eventId && cb.dom === key && cb.legacy === legacy) {
        throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, 'event callback already tracked', { value: String(eventId) });
      }
    }
    const callbackID = this.nextCallbackId();
    const driverId = await driver.domainEventRegisterAny(dom, eventId, (ev) => this.relayDomainEvent(callbackID, legacy, ev));
    this.domainCallbacks.set(callbackID, { driverId, eventId, dom: key, legacy });
    return callbackID;
  }

  private async deregisterDomainEvent(driver: Driver, callbackID: number): Promise<void> {
    const cb = this.domainCallbacks.get(callbackID);
    if (!cb || cb.legacy) {
      throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.RPC, `domain event callback ${callbackID} not registered`, { value: String(callbackID) });
    }
    this.domainCallbacks.delete(callbackID);
    await driver.domainEventDeregisterAny(cb.driverId);
  }

  private legacyFor(eventId: number): number | undefined {
    for (const [id, cb] of this.domainCallbacks) if (cb.legacy && cb.eventId === eventId) return id;
    return undefined;
  }

  private async deregisterLegacy(driver: Driver, eventId: number): Promise<void> {
    const id = this.legacyFor(eventId);
    if (id === undefined) throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.RPC, `domain event ${eventId} not registered`, { value: String(eventId) });
    const cb = this.domainCallbacks.get(id)!;
    this.domainCallbacks.delete(id);
    await driver.domainEventDeregisterAny(cb.driverId);
  }

  private async registerNetworkEvent(driver: Driver, eventId: number, net: P.NonnullNetwork | null): Promise<number> {
    if (!Number.isInteger(eventId) || eventId < 0 || eventId > LAST_NETWORK_EVENT) {
      throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.RPC, `unsupported network event ID ${eventId}`, { value: String(eventId) });
    }
    const callbackID = this.nextCallbackId();
    const driverId = await driver.networkEventRegisterAny(net, eventId, (ev: NetworkEvent) => {
      if (!this.ended) this.sendEvent(NETWORK_EVENT_LIFECYCLE_PROC, networkEventToMessage(callbackID, ev));
    });
    this.networkCallbacks.set(callbackID, driverId);
    return callbackID;
  }

  private async deregisterNetworkEvent(driver: Driver, callbackID: number): Promise<void> {
    const driverId = this.networkCallbacks.get(callbackID);
    if (driverId === undefined) {
      throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.RPC, `network event callback ${callbackID} not registered`, { value: String(callbackID) });
    }
    this.networkCallbacks.delete(callbackID);
    await driver.networkEventDeregisterAny(driverId);
  }

  private async registerCloseCallback(driver: Driver): Promise<void> {
    if (this.closeCallback) return;
    const cb: CloseCallback = (reason) => {
      if (!this.ended) this.sendEvent(CONNECTION_CLOSED_PROC, { reason });
    };
    await driver.registerCloseCallback(cb);
    this.closeCallback = cb;
  }

  private async unregisterCloseCallback(driver: Driver): Promise<void> {
    const cb = this.closeCallback;
    if (!cb) return;
    this.closeCallback = null;
    await driver.unregisterCloseCallback(cb);
  }

  // ---------------------------------------------------------------- streams

  private async openConsole(driver: Driver, h: MessageHeader, a: P.DomainOpenConsoleArgs): Promise<Reply> {
    const source: Duplex = await driver.domainOpenConsole(a.dom, a.dev_name, a.flags);
    const st = this.conn.createStream(h);
    // Data starts flowing once the OK reply is out: the client registers the stream with it.
    return {
      codec: x.xdrVoid,
      value: undefined,
      afterSend: () => {
        // Client data to the console, console data to the client; the client's end finishes
        // the console, and the console's end (or failure) finishes the client's stream.
        source.pipe(st);
        st.pipe(source);
        source.on('error', (err: Error) => st.destroy(err));
        st.on('error', () => source.destroy());
        st.once('close', () => source.destroy());
      },
    };
  }

  // ---------------------------------------------------------------- teardown

  private releaseDriver(): void {
    const driver = this.driver;
    this.driver = null;
    if (!driver) return;
    const regs = [...this.domainCallbacks.values()];
    const nets = [...this.networkCallbacks.values()];
    const closeCb = this.closeCallback;
    this.domainCallbacks.clear();
    this.networkCallbacks.clear();
    this.closeCallback = null;
    void (async () => {
      for (const r of regs) await driver.domainEventDeregisterAny(r.driverId).catch(() => {});
      for (const id of nets) await driver.networkEventDeregisterAny(id).catch(() => {});
      if (closeCb) await driver.unregisterCloseCallback(closeCb).catch(() => {});
      await driver.close().catch((err: unknown) => this.log.warn(`closing driver failed: ${(err as Error).message}`));
    })();
  }

  /** EOF, error or CONNECT_CLOSE: drop registrations and close the driver (guests stay). */
  connectionClosed(): void {
    if (this.ended) return;
    this.ended = true;
    this.releaseDriver();
  }
}
