// The remote driver: the Driver interface over libvirt's RPC protocol, to tsvirtd or to a real
// libvirtd. It opens the connection as libvirt's client does (AUTH_LIST first with serial 0,
// the keepalive probe before CONNECT_OPEN, the event and close-callback feature probes after),
// turns every Driver method into the remote program's procedure, keeps the connection alive,
// and — when asked to — reconnects after a loss and registers its event callbacks again.
import type { Duplex } from 'node:stream';
import { ErrorDomain, ErrorNumber, VirtError, virtError } from '../errors/index.js';
import type {
  CloseCallback,
  DomainCapabilitiesQuery,
  DomainEventCallback,
  DomainInfo,
  DomainInterfaceAddresses,
  DomainRef,
  Driver,
  NetworkDHCPLease,
  NetworkEventCallback,
  NetworkRef,
  NodeInfo,
  SecurityLabel,
  SecurityModel,
  StoragePoolRef,
  TypedParam,
} from '../drivers/driver.js';
import { formatConnectURI, parseConnectURI, type ConnectURI } from '../drivers/connectUri.js';
import { DrvFeature } from '../drivers/constants.js';
import { CloseReason, RpcClient } from '../rpc/client.js';
import type { Logger } from '../rpc/logger.js';
import { silentLogger } from '../rpc/logger.js';
import type { MessageHeader } from '../rpc/message.js';
import { connectCommand, connectSsh, connectTcp, connectTls, connectUnix, pkiFiles } from '../rpc/transport.js';
import * as x from '../rpc/xdr.js';
import { cstringFromChars, domainInfoFromWire, nodeInfoFromWire, typedParamFromWire, typedParamToWire } from './convert.js';
import { CONNECTION_CLOSED_PROC, domainEventFromMessage, messageCodec, NETWORK_EVENT_LIFECYCLE_PROC, networkEventFromMessage } from './events.js';
import * as P from './protocol.js';
import { readonlyRefusal } from './readonly.js';
import { remoteTarget, type RemoteTarget } from './remoteTarget.js';

const Proc = P.Procedure;

/** The driver features (the client asks about PROGRAM_KEEPALIVE and the REMOTE_* ones). */
export { DrvFeature };

export interface ReconnectOptions {
  /** Tries before giving up (default 10). */
  attempts?: number;
  /** Milliseconds between tries (default 500). */
  delay?: number;
}

export interface RemoteDriverOptions {
  /** Open read-only (CONNECT_OPEN flag 1); mutating calls are refused locally too, as libvirt does. */
  readonly?: boolean;
  /** Seconds without traffic before a PING (default 5; 0 = no keepalive). */
  keepaliveInterval?: number;
  /** Unanswered PINGs before the connection is declared dead (default 5). */
  keepaliveCount?: number;
  /** Milliseconds to wait for any reply (default 0 = forever, as libvirt). */
  callTimeout?: number;
  /** After an unexpected loss, reconnect and register the event callbacks again. */
  reconnect?: boolean | ReconnectOptions;
  /** Opens the byte stream instead of the URI's transport (tests, custom tunnels). */
  connect?: (target: RemoteTarget) => Promise<Duplex>;
  logger?: Logger;
}

interface DomainReg {
  dom: DomainRef | null;
  eventId: number;
  cb: DomainEventCallback;
  remoteId: number;
}
interface NetworkReg {
  net: NetworkRef | null;
  eventId: number;
  cb: NetworkEventCallback;
  remoteId: number;
}

type Args<N extends keyof P.ProcedureTypes> = P.ProcedureTypes[N]['args'];
type Ret<N extends keyof P.ProcedureTypes> = P.ProcedureTypes[N]['ret'];

export class RemoteDriver implements Driver {
  /** The URI as given. */
  readonly uri: string;
  readonly target: RemoteTarget;
  private client: RpcClient | null = null;
  private readonly readonly: boolean;
  private readonly opts: RemoteDriverOptions;
  private readonly log: Logger;
  private serverEventCallbacks = false;
  private serverCloseCallback = false;
  private serverKeepalive = false;
  private nextLocalId = 1;
  private readonly domainRegs = new Map<number, DomainReg>();
  private readonly networkRegs = new Map<number, NetworkReg>();
  private readonly closeCallbacks = new Set<CloseCallback>();
  private closeRegistered = false;
  private userClosed = false;
  private reconnecting: Promise<void> | null = null;
  private dead: VirtError | null = null;

  private constructor(uri: string, target: RemoteTarget, opts: RemoteDriverOptions) {
    this.uri = uri;
    this.target = target;
    this.readonly = opts.readonly ?? false;
    this.opts = opts;
    this.log = opts.logger ?? silentLogger;
  }

  /** Connects and opens the remote connection named by the URI. */
  static async open(uri: string | ConnectURI, opts: RemoteDriverOptions = {}): Promise<RemoteDriver> {
    const u = typeof uri === 'string' ? parseConnectURI(uri) : uri;
    const d = new RemoteDriver(typeof uri === 'string' ? uri : formatConnectURI(uri), remoteTarget(u, { readonly: opts.readonly }), opts);
    d.client = await d.connect();
    return d;
  }

  // ---------------------------------------------------------------- connection

  private async openStream(): Promise<Duplex> {
    const t = this.target;
    if (this.opts.connect) return this.opts.connect(t);
    switch (t.transport) {
      case 'unix':
        return connectUnix(t.socketPath!);
      case 'tcp':
        return connectTcp(t.host, t.port!);
      case 'tls':
        return connectTls(t.host, t.port!, {
          files: pkiFiles('client', t.options.get('pkipath')),
          noVerify: t.options.get('no_verify') === '1',
        });
      case 'ssh': {
        const proxy = t.options.get('proxy');
        return connectSsh({
          host: t.host,
          port: t.port,
          user: t.user,
          binary: t.options.get('command'),
          keyfile: t.options.get('keyfile'),
          noTty: t.options.get('no_tty') === '1',
          noVerify: t.options.get('no_verify') === '1',
          socketPath: t.options.get('socket') ?? null,
          netcat: t.options.get('netcat'),
          proxy: proxy === 'netcat' || proxy === 'native' || proxy === 'auto' ? proxy : t.session && !t.options.get('socket') ? 'native' : undefined,
          driverURI: t.name,
          readonly: this.readonly,
        });
      }
      case 'ext':
        return connectCommand(t.options.get('command')!, []);
    }
  }

  /** One connection with the whole prologue; registrations are not restored here. */
  private async connect(): Promise<RpcClient> {
    const stream = await this.openStream();
    const client = new RpcClient(stream, { callTimeout: this.opts.callTimeout });
    client.onMessage(P.REMOTE_PROGRAM, (h, payload) => this.onEvent(h, payload));
    const raw = <N extends keyof P.ProcedureTypes>(proc: N, args: Args<N>) => this.rawCall(client, proc, args);
    try {
      await this.authenticate(client);
      const interval = this.opts.keepaliveInterval ?? 5;
      if (interval > 0) {
        this.serverKeepalive = (await raw(Proc.CONNECT_SUPPORTS_FEATURE, { feature: DrvFeature.PROGRAM_KEEPALIVE })).supported === 1;
        if (this.serverKeepalive) client.startKeepAlive(interval, this.opts.keepaliveCount ?? 5);
      }
      await raw(Proc.CONNECT_OPEN, { name: this.target.name, flags: this.readonly ? 1 : 0 });
      this.serverEventCallbacks = (await raw(Proc.CONNECT_SUPPORTS_FEATURE, { feature: DrvFeature.REMOTE_EVENT_CALLBACK })).supported === 1;
      this.serverCloseCallback = (await raw(Proc.CONNECT_SUPPORTS_FEATURE, { feature: DrvFeature.REMOTE_CLOSE_CALLBACK })).supported === 1;
    } catch (err) {
      client.close();
      throw err;
    }
    client.once('close', (reason: CloseReason, err: VirtError | null) => this.onClientClose(client, reason, err));
    return client;
  }

  /** AUTH_LIST first (it is what authenticates root on a polkit socket), then the method it names. */
  private async authenticate(client: RpcClient): Promise<void> {
    let types: number[];
    try {
      types = (await this.rawCall(client, Proc.AUTH_LIST, undefined)).types;
    } catch (err) {
      // An old server without AUTH_LIST: no authentication.
      if (err instanceof VirtError && err.code === ErrorNumber.NO_SUPPORT) return;
      throw err;
    }
    const wanted = this.target.options.get('auth');
    const byName: Record<string, number> = { none: 0, sasl: 1, polkit: 2 };
    let type = types[0];
    if (wanted !== undefined) {
      const w = byName[wanted.split(/[:.]/)[0]!.toLowerCase()];
      if (w === undefined || !types.includes(w)) {
        throw virtError(ErrorNumber.AUTH_FAILED, ErrorDomain.RPC, `requested authentication type ${wanted} rejected`, { value: wanted });
      }
      type = w;
    }
    if (type === undefined || type === P.AuthType.REMOTE_AUTH_NONE) return;
    if (type === P.AuthType.REMOTE_AUTH_POLKIT) {
      const r = await this.rawCall(client, Proc.AUTH_POLKIT, undefined);
      if (r.complete !== 1) throw virtError(ErrorNumber.AUTH_FAILED, ErrorDomain.RPC, 'polkit authentication did not complete');
      return;
    }
    throw virtError(ErrorNumber.AUTH_FAILED, ErrorDomain.RPC, `unsupported authentication type ${type}`, { value: String(type) });
  }

  private rawCall<N extends keyof P.ProcedureTypes>(client: RpcClient, proc: N, args: Args<N>): Promise<Ret<N>> {
    const info = P.procedures[proc]!;
    return client.call(P.REMOTE_PROGRAM, P.REMOTE_PROTOCOL_VERSION, proc, info.args, args, info.ret, { name: info.name }) as Promise<Ret<N>>;
  }

  private async liveClient(): Promise<RpcClient> {
    if (this.reconnecting) await this.reconnecting;
    if (this.client && this.client.isOpen) return this.client;
    throw this.dead ?? virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.RPC, 'client socket is closed');
  }

  /**
   * Any procedure of the remote program by number, with its .x argument and reply types
   * (for what the Driver interface does not cover).
   */
  async call<N extends keyof P.ProcedureTypes>(proc: N, args: Args<N>): Promise<Ret<N>> {
    const { client } = await this.prepare(proc, args);
    return this.rawCall(client, proc, args);
  }

  /** The procedure's table entry and the live client, after the read-only refusal libvirt's client makes. */
  private async prepare(proc: number, args: unknown): Promise<{ info: P.ProcedureInfo; client: RpcClient }> {
    const info = P.procedures[proc];
    if (!info || info.message) throw virtError(ErrorNumber.RPC, ErrorDomain.RPC, `unknown procedure: ${proc}`, { value: String(proc) });
    if (this.readonly) {
      const refusal = readonlyRefusal(info, args);
      if (refusal) throw refusal;
    }
    return { info, client: await this.liveClient() };
  }

  private onClientClose(client: RpcClient, reason: CloseReason, err: VirtError | null): void {
    if (client !== this.client || this.userClosed) return;
    const rc = this.opts.reconnect;
    if (rc) {
      const o: ReconnectOptions = rc === true ? {} : rc;
      this.log.warn(`connection to ${this.uri} lost (${err?.message ?? 'closed'}), reconnecting`);
      this.reconnecting = this.reconnect(o).finally(() => {
        this.reconnecting = null;
      });
      this.reconnecting.catch((e: unknown) => this.giveUp(reason, e as VirtError));
      return;
    }
    this.giveUp(reason, err);
  }

  private giveUp(reason: number, err: VirtError | null): void {
    this.dead = err ?? virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.RPC, 'client socket is closed');
    this.client = null;
    this.fireClose(reason);
  }

  private fireClose(reason: number): void {
    for (const cb of [...this.closeCallbacks]) {
      try {
        cb(reason);
      } catch (e) {
        this.log.error(`close callback failed: ${(e as Error).message}`);
      }
    }
  }

  private async reconnect(o: ReconnectOptions): Promise<void> {
    const attempts = o.attempts ?? 10;
    const delay = o.delay ?? 500;
    let last: unknown;
    for (let i = 0; i < attempts && !this.userClosed; i++) {
      await new Promise((r) => setTimeout(r, i === 0 ? Math.min(delay, 100) : delay));
      try {
        const client = await this.connect();
        this.client = client;
        await this.restoreRegistrations(client);
        this.log.info(`reconnected to ${this.uri}`);
        return;
      } catch (err) {
        last = err;
      }
    }
    throw last instanceof VirtError ? last : virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.RPC, `cannot reconnect to ${this.uri}`);
  }

  /** The server forgot our callbacks with the old connection: register each again. */
  private async restoreRegistrations(client: RpcClient): Promise<void> {
    for (const r of this.domainRegs.values()) {
      const ret = await this.rawCall(client, Proc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, { eventID: r.eventId, dom: r.dom });
      r.remoteId = ret.callbackID;
    }
    for (const r of this.networkRegs.values()) {
      const ret = await this.rawCall(client, Proc.CONNECT_NETWORK_EVENT_REGISTER_ANY, { eventID: r.eventId, net: r.net });
      r.remoteId = ret.callbackID;
    }
    if (this.closeRegistered && this.serverCloseCallback) await this.rawCall(client, Proc.CONNECT_REGISTER_CLOSE_CALLBACK, undefined);
  }

  private onEvent(h: MessageHeader, payload: Buffer): void {
    const info = P.procedures[h.proc];
    if (!info || !info.message) return;
    let body: any;
    try {
      body = x.decode(messageCodec(h.proc), payload);
    } catch (err) {
      this.log.warn(`cannot decode event ${info.name}: ${(err as Error).message}`);
      return;
    }
    if (h.proc === NETWORK_EVENT_LIFECYCLE_PROC) {
      const { callbackID, ev } = networkEventFromMessage(body);
      for (const r of this.networkRegs.values()) if (r.remoteId === callbackID) r.cb(ev);
      return;
    }
    if (h.proc === CONNECTION_CLOSED_PROC) {
      // The server's own connection to its hypervisor went away.
      this.fireClose((body as P.ConnectEventConnectionClosedMsg).reason);
      return;
    }
    const got = domainEventFromMessage(h.proc, body);
    if (!got || got.callbackID === null) return;
    for (const r of this.domainRegs.values()) if (r.remoteId === got.callbackID) r.cb(got.ev);
  }

  // ---------------------------------------------------------------- connection API

  /** The URI this connection was opened with (as libvirt's client answers virConnectGetURI, without a call). */
  async getURI(): Promise<string> {
    if (this.userClosed) throw virtError(ErrorNumber.INVALID_CONN, ErrorDomain.NONE, 'virConnectGetURI');
    return formatConnectURI(parseConnectURI(this.uri));
  }

  /** The URI the server says it opened (CONNECT_GET_URI), e.g. after connecting with remote://. */
  async getServerURI(): Promise<string> {
    return (await this.call(Proc.CONNECT_GET_URI, undefined)).uri;
  }
  async getType(): Promise<string> {
    return (await this.call(Proc.CONNECT_GET_TYPE, undefined)).type;
  }
  async getVersion(): Promise<number> {
    return Number((await this.call(Proc.CONNECT_GET_VERSION, undefined)).hv_ver);
  }
  async getLibVersion(): Promise<number> {
    return Number((await this.call(Proc.CONNECT_GET_LIB_VERSION, undefined)).lib_ver);
  }
  async getHostname(): Promise<string> {
    return (await this.call(Proc.CONNECT_GET_HOSTNAME, undefined)).hostname;
  }
  async getCapabilities(): Promise<string> {
    return (await this.call(Proc.CONNECT_GET_CAPABILITIES, undefined)).capabilities;
  }
  async getDomainCapabilities(q: DomainCapabilitiesQuery, flags: number): Promise<string> {
    const r = await this.call(Proc.CONNECT_GET_DOMAIN_CAPABILITIES, {
      emulatorbin: q.emulatorbin ?? null,
      arch: q.arch ?? null,
      machine: q.machine ?? null,
      virttype: q.virttype ?? null,
      flags,
    });
    return r.capabilities;
  }
  async getMaxVcpus(type: string | null): Promise<number> {
    return (await this.call(Proc.CONNECT_GET_MAX_VCPUS, { type })).max_vcpus;
  }
  async nodeGetInfo(): Promise<NodeInfo> {
    return nodeInfoFromWire(await this.call(Proc.NODE_GET_INFO, undefined));
  }
  async nodeGetSecurityModel(): Promise<SecurityModel> {
    const r = await this.call(Proc.NODE_GET_SECURITY_MODEL, undefined);
    return { model: cstringFromChars(r.model), doi: cstringFromChars(r.doi) };
  }
  async supportsFeature(feature: number): Promise<boolean> {
    return (await this.call(Proc.CONNECT_SUPPORTS_FEATURE, { feature })).supported !== 0;
  }
  private transportSecure(): boolean {
    return this.target.transport === 'unix' || this.target.transport === 'tls' || this.target.transport === 'ssh';
  }
  async isSecure(): Promise<boolean> {
    const r = await this.call(Proc.CONNECT_IS_SECURE, undefined);
    return this.transportSecure() && r.secure === 1;
  }
  async isEncrypted(): Promise<boolean> {
    const r = await this.call(Proc.CONNECT_IS_SECURE, undefined);
    const encrypted = this.target.transport === 'tls' || this.target.transport === 'ssh';
    return encrypted && r.secure === 1;
  }
  async isAlive(): Promise<boolean> {
    return !this.userClosed && (this.reconnecting !== null || (this.client?.isOpen ?? false));
  }

  async close(): Promise<void> {
    if (this.userClosed) return;
    this.userClosed = true;
    const client = this.client;
    this.client = null;
    this.domainRegs.clear();
    this.networkRegs.clear();
    this.closeCallbacks.clear();
    if (!client || !client.isOpen) return;
    try {
      if (this.closeRegistered && this.serverCloseCallback) await this.rawCall(client, Proc.CONNECT_UNREGISTER_CLOSE_CALLBACK, undefined);
      await this.rawCall(client, Proc.CONNECT_CLOSE, undefined);
    } catch {
      // The connection is going away anyway.
    } finally {
      client.close();
    }
  }

  async registerCloseCallback(cb: CloseCallback): Promise<void> {
    if (this.closeCallbacks.has(cb)) {
      throw virtError(ErrorNumber.OPERATION_INVALID, ErrorDomain.NONE, 'A close callback is already registered');
    }
    if (!this.closeRegistered && this.serverCloseCallback) {
      await this.call(Proc.CONNECT_REGISTER_CLOSE_CALLBACK, undefined);
      this.closeRegistered = true;
    }
    this.closeCallbacks.add(cb);
  }

  async unregisterCloseCallback(cb: CloseCallback): Promise<void> {
    if (!this.closeCallbacks.delete(cb)) {
      throw virtError(ErrorNumber.OPERATION_INVALID, ErrorDomain.NONE, 'A different callback was requested');
    }
    if (this.closeCallbacks.size === 0 && this.closeRegistered) {
      this.closeRegistered = false;
      if (this.serverCloseCallback) await this.call(Proc.CONNECT_UNREGISTER_CLOSE_CALLBACK, undefined);
    }
  }

  // ---------------------------------------------------------------- domains

  async listAllDomains(flags: number): Promise<DomainRef[]> {
    return (await this.call(Proc.CONNECT_LIST_ALL_DOMAINS, { need_results: 1, flags })).domains;
  }
  async numOfDomains(): Promise<number> {
    return (await this.call(Proc.CONNECT_NUM_OF_DOMAINS, undefined)).num;
  }
  async listDomains(maxids: number): Promise<number[]> {
    return (await this.call(Proc.CONNECT_LIST_DOMAINS, { maxids })).ids;
  }
  async numOfDefinedDomains(): Promise<number> {
    return (await this.call(Proc.CONNECT_NUM_OF_DEFINED_DOMAINS, undefined)).num;
  }
  async listDefinedDomains(maxnames: number): Promise<string[]> {
    return (await this.call(Proc.CONNECT_LIST_DEFINED_DOMAINS, { maxnames })).names;
  }
  async domainLookupByName(name: string): Promise<DomainRef> {
    return (await this.call(Proc.DOMAIN_LOOKUP_BY_NAME, { name })).dom;
  }
  async domainLookupByUUID(uuid: string): Promise<DomainRef> {
    return (await this.call(Proc.DOMAIN_LOOKUP_BY_UUID, { uuid })).dom;
  }
  async domainLookupByID(id: number): Promise<DomainRef> {
    return (await this.call(Proc.DOMAIN_LOOKUP_BY_ID, { id })).dom;
  }
  async domainDefineXML(xml: string, flags: number): Promise<DomainRef> {
    if (flags === 0) return (await this.call(Proc.DOMAIN_DEFINE_XML, { xml })).dom;
    return (await this.call(Proc.DOMAIN_DEFINE_XML_FLAGS, { xml, flags })).dom;
  }
  async domainCreateXML(xml: string, flags: number): Promise<DomainRef> {
    return (await this.call(Proc.DOMAIN_CREATE_XML, { xml_desc: xml, flags })).dom;
  }
  async domainUndefine(dom: DomainRef, flags: number): Promise<void> {
    if (flags === 0) await this.call(Proc.DOMAIN_UNDEFINE, { dom });
    else await this.call(Proc.DOMAIN_UNDEFINE_FLAGS, { dom, flags });
  }
  /** As libvirt's client: DOMAIN_CREATE then LOOKUP_BY_UUID for the new id; with flags, CREATE_WITH_FLAGS. */
  async domainCreate(dom: DomainRef, flags: number): Promise<DomainRef> {
    if (flags !== 0) return (await this.call(Proc.DOMAIN_CREATE_WITH_FLAGS, { dom, flags })).dom;
    await this.call(Proc.DOMAIN_CREATE, { dom });
    return (await this.call(Proc.DOMAIN_LOOKUP_BY_UUID, { uuid: dom.uuid })).dom;
  }
  async domainDestroy(dom: DomainRef, flags: number): Promise<void> {
    if (flags === 0) await this.call(Proc.DOMAIN_DESTROY, { dom });
    else await this.call(Proc.DOMAIN_DESTROY_FLAGS, { dom, flags });
  }
  async domainShutdown(dom: DomainRef, flags: number): Promise<void> {
    if (flags === 0) await this.call(Proc.DOMAIN_SHUTDOWN, { dom });
    else await this.call(Proc.DOMAIN_SHUTDOWN_FLAGS, { dom, flags });
  }
  async domainReboot(dom: DomainRef, flags: number): Promise<void> {
    await this.call(Proc.DOMAIN_REBOOT, { dom, flags });
  }
  async domainReset(dom: DomainRef, flags: number): Promise<void> {
    await this.call(Proc.DOMAIN_RESET, { dom, flags });
  }
  async domainSuspend(dom: DomainRef): Promise<void> {
    await this.call(Proc.DOMAIN_SUSPEND, { dom });
  }
  async domainResume(dom: DomainRef): Promise<void> {
    await this.call(Proc.DOMAIN_RESUME, { dom });
  }
  async domainGetXMLDesc(dom: DomainRef, flags: number): Promise<string> {
    return (await this.call(Proc.DOMAIN_GET_XML_DESC, { dom, flags })).xml;
  }
  async domainGetInfo(dom: DomainRef): Promise<DomainInfo> {
    return domainInfoFromWire(await this.call(Proc.DOMAIN_GET_INFO, { dom }));
  }
  async domainGetState(dom: DomainRef, flags: number): Promise<{ state: number; reason: number }> {
    const r = await this.call(Proc.DOMAIN_GET_STATE, { dom, flags });
    return { state: r.state, reason: r.reason };
  }
  async domainGetOSType(dom: DomainRef): Promise<string> {
    return (await this.call(Proc.DOMAIN_GET_OS_TYPE, { dom })).type;
  }
  async domainGetMaxMemory(dom: DomainRef): Promise<number> {
    return Number((await this.call(Proc.DOMAIN_GET_MAX_MEMORY, { dom })).memory);
  }
  async domainGetVcpusFlags(dom: DomainRef, flags: number): Promise<number> {
    return (await this.call(Proc.DOMAIN_GET_VCPUS_FLAGS, { dom, flags })).num;
  }
  async domainGetAutostart(dom: DomainRef): Promise<boolean> {
    return (await this.call(Proc.DOMAIN_GET_AUTOSTART, { dom })).autostart !== 0;
  }
  async domainSetAutostart(dom: DomainRef, autostart: boolean): Promise<void> {
    await this.call(Proc.DOMAIN_SET_AUTOSTART, { dom, autostart: autostart ? 1 : 0 });
  }
  async domainIsActive(dom: DomainRef): Promise<boolean> {
    return (await this.call(Proc.DOMAIN_IS_ACTIVE, { dom })).active !== 0;
  }
  async domainIsPersistent(dom: DomainRef): Promise<boolean> {
    return (await this.call(Proc.DOMAIN_IS_PERSISTENT, { dom })).persistent !== 0;
  }
  async domainIsUpdated(dom: DomainRef): Promise<boolean> {
    return (await this.call(Proc.DOMAIN_IS_UPDATED, { dom })).updated !== 0;
  }
  async domainHasManagedSaveImage(dom: DomainRef, flags: number): Promise<boolean> {
    return (await this.call(Proc.DOMAIN_HAS_MANAGED_SAVE_IMAGE, { dom, flags })).result !== 0;
  }
  async domainSnapshotNum(dom: DomainRef, flags: number): Promise<number> {
    return (await this.call(Proc.DOMAIN_SNAPSHOT_NUM, { dom, flags })).num;
  }
  async domainGetSecurityLabel(dom: DomainRef): Promise<SecurityLabel> {
    const r = await this.call(Proc.DOMAIN_GET_SECURITY_LABEL, { dom });
    return { label: cstringFromChars(r.label), enforcing: r.enforcing !== 0 };
  }
  async domainGetMessages(dom: DomainRef, flags: number): Promise<string[]> {
    return (await this.call(Proc.DOMAIN_GET_MESSAGES, { dom, flags })).msgs;
  }
  async domainInterfaceAddresses(dom: DomainRef, source: number, flags: number): Promise<DomainInterfaceAddresses[]> {
    return (await this.call(Proc.DOMAIN_INTERFACE_ADDRESSES, { dom, source, flags })).ifaces;
  }
  async domainAttachDeviceFlags(dom: DomainRef, xml: string, flags: number): Promise<void> {
    await this.call(Proc.DOMAIN_ATTACH_DEVICE_FLAGS, { dom, xml, flags });
  }
  async domainDetachDeviceFlags(dom: DomainRef, xml: string, flags: number): Promise<void> {
    await this.call(Proc.DOMAIN_DETACH_DEVICE_FLAGS, { dom, xml, flags });
  }
  async domainUpdateDeviceFlags(dom: DomainRef, xml: string, flags: number): Promise<void> {
    await this.call(Proc.DOMAIN_UPDATE_DEVICE_FLAGS, { dom, xml, flags });
  }
  async domainSetInterfaceParameters(dom: DomainRef, device: string, params: TypedParam[], flags: number): Promise<void> {
    await this.call(Proc.DOMAIN_SET_INTERFACE_PARAMETERS, { dom, device, params: params.map(typedParamToWire), flags });
  }
  /** libvirt's two steps: ask how many parameters there are, then fetch that many. */
  async domainGetInterfaceParameters(dom: DomainRef, device: string, flags: number): Promise<TypedParam[]> {
    const count = await this.call(Proc.DOMAIN_GET_INTERFACE_PARAMETERS, { dom, device, nparams: 0, flags });
    if (count.nparams === 0) return [];
    const r = await this.call(Proc.DOMAIN_GET_INTERFACE_PARAMETERS, { dom, device, nparams: count.nparams, flags });
    return r.params.map(typedParamFromWire);
  }
  async domainOpenConsole(dom: DomainRef, devName: string | null, flags: number): Promise<Duplex> {
    const args: Args<typeof Proc.DOMAIN_OPEN_CONSOLE> = { dom, dev_name: devName, flags };
    const { info, client } = await this.prepare(Proc.DOMAIN_OPEN_CONSOLE, args);
    return client.openStream(P.REMOTE_PROGRAM, P.REMOTE_PROTOCOL_VERSION, Proc.DOMAIN_OPEN_CONSOLE, info.args, args, { name: info.name });
  }

  // ---------------------------------------------------------------- networks

  async listAllNetworks(flags: number): Promise<NetworkRef[]> {
    return (await this.call(Proc.CONNECT_LIST_ALL_NETWORKS, { need_results: 1, flags })).nets;
  }
  async numOfNetworks(): Promise<number> {
    return (await this.call(Proc.CONNECT_NUM_OF_NETWORKS, undefined)).num;
  }
  async listNetworks(maxnames: number): Promise<string[]> {
    return (await this.call(Proc.CONNECT_LIST_NETWORKS, { maxnames })).names;
  }
  async numOfDefinedNetworks(): Promise<number> {
    return (await this.call(Proc.CONNECT_NUM_OF_DEFINED_NETWORKS, undefined)).num;
  }
  async listDefinedNetworks(maxnames: number): Promise<string[]> {
    return (await this.call(Proc.CONNECT_LIST_DEFINED_NETWORKS, { maxnames })).names;
  }
  async networkLookupByName(name: string): Promise<NetworkRef> {
    return (await this.call(Proc.NETWORK_LOOKUP_BY_NAME, { name })).net;
  }
  async networkLookupByUUID(uuid: string): Promise<NetworkRef> {
    return (await this.call(Proc.NETWORK_LOOKUP_BY_UUID, { uuid })).net;
  }
  async networkDefineXML(xml: string, flags: number): Promise<NetworkRef> {
    if (flags === 0) return (await this.call(Proc.NETWORK_DEFINE_XML, { xml })).net;
    return (await this.call(Proc.NETWORK_DEFINE_XML_FLAGS, { xml, flags })).net;
  }
  async networkCreateXML(xml: string, flags: number): Promise<NetworkRef> {
    if (flags === 0) return (await this.call(Proc.NETWORK_CREATE_XML, { xml })).net;
    return (await this.call(Proc.NETWORK_CREATE_XML_FLAGS, { xml, flags })).net;
  }
  async networkUndefine(net: NetworkRef): Promise<void> {
    await this.call(Proc.NETWORK_UNDEFINE, { net });
  }
  async networkCreate(net: NetworkRef): Promise<void> {
    await this.call(Proc.NETWORK_CREATE, { net });
  }
  async networkDestroy(net: NetworkRef): Promise<void> {
    await this.call(Proc.NETWORK_DESTROY, { net });
  }
  async networkGetXMLDesc(net: NetworkRef, flags: number): Promise<string> {
    return (await this.call(Proc.NETWORK_GET_XML_DESC, { net, flags })).xml;
  }
  async networkGetBridgeName(net: NetworkRef): Promise<string> {
    return (await this.call(Proc.NETWORK_GET_BRIDGE_NAME, { net })).name;
  }
  async networkGetAutostart(net: NetworkRef): Promise<boolean> {
    return (await this.call(Proc.NETWORK_GET_AUTOSTART, { net })).autostart !== 0;
  }
  async networkSetAutostart(net: NetworkRef, autostart: boolean): Promise<void> {
    await this.call(Proc.NETWORK_SET_AUTOSTART, { net, autostart: autostart ? 1 : 0 });
  }
  async networkIsActive(net: NetworkRef): Promise<boolean> {
    return (await this.call(Proc.NETWORK_IS_ACTIVE, { net })).active !== 0;
  }
  async networkIsPersistent(net: NetworkRef): Promise<boolean> {
    return (await this.call(Proc.NETWORK_IS_PERSISTENT, { net })).persistent !== 0;
  }
  async networkGetDHCPLeases(net: NetworkRef, mac: string | null, flags: number): Promise<NetworkDHCPLease[]> {
    return (await this.call(Proc.NETWORK_GET_DHCP_LEASES, { net, mac, need_results: 1, flags })).leases;
  }

  async listAllStoragePools(flags: number): Promise<StoragePoolRef[]> {
    return (await this.call(Proc.CONNECT_LIST_ALL_STORAGE_POOLS, { need_results: 1, flags })).pools;
  }

  // ---------------------------------------------------------------- events

  private requireEventCallbacks(): void {
    if (!this.serverEventCallbacks) {
      throw virtError(ErrorNumber.NO_SUPPORT, ErrorDomain.REMOTE, 'this function is not supported by the connection driver: the server has no event callbacks (feature 14)');
    }
  }

  async domainEventRegisterAny(dom: DomainRef | null, eventId: number, cb: DomainEventCallback): Promise<number> {
    this.requireEventCallbacks();
    const r = await this.call(Proc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, { eventID: eventId, dom });
    const id = this.nextLocalId++;
    this.domainRegs.set(id, { dom, eventId, cb, remoteId: r.callbackID });
    return id;
  }

  async domainEventDeregisterAny(callbackId: number): Promise<void> {
    const r = this.domainRegs.get(callbackId);
    if (!r) throw unknownCallback(callbackId);
    this.domainRegs.delete(callbackId);
    await this.call(Proc.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, { callbackID: r.remoteId });
  }

  async networkEventRegisterAny(net: NetworkRef | null, eventId: number, cb: NetworkEventCallback): Promise<number> {
    this.requireEventCallbacks();
    const r = await this.call(Proc.CONNECT_NETWORK_EVENT_REGISTER_ANY, { eventID: eventId, net });
    const id = this.nextLocalId++;
    this.networkRegs.set(id, { net, eventId, cb, remoteId: r.callbackID });
    return id;
  }

  async networkEventDeregisterAny(callbackId: number): Promise<void> {
    const r = this.networkRegs.get(callbackId);
    if (!r) throw unknownCallback(callbackId);
    this.networkRegs.delete(callbackId);
    await this.call(Proc.CONNECT_NETWORK_EVENT_DEREGISTER_ANY, { callbackID: r.remoteId });
  }
}

function unknownCallback(id: number): VirtError {
  return virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, `could not find event callback ${id} for deletion`, { value: String(id) });
}
