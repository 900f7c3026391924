// The public object model: a Connection and the Domain, Network and StoragePool handles it hands
// out. Method names follow libvirt's C API by DESIGN.md's rule (virDomainCreate(dom) →
// dom.create()); each forwards to the connection's Driver, which never knows who called.
// They live in one module because each handle holds its connection and the connection makes the
// handles, as libvirt's datatypes do.
//
// What this layer adds over the driver, as libvirt's public API layer does: read-only connections
// refuse every call that changes something (OPERATION_DENIED "read only access prevents
// virDomainDestroy"), UUID strings are parsed, a closed connection refuses every call, and
// driver events are handed to callbacks as events on Domain/Network handles.
import type { Duplex } from 'node:stream';
import { ErrorDomain, ErrorNumber, VirtError, virtError } from '../errors/index.js';
import { formatUuid, normalizeUuid, UUID_LENGTH } from '../conf/uuid.js';
import { DomainXMLFlags } from '../drivers/constants.js';
import { checkNonNegativeArg } from '../drivers/flags.js';
import type {
  CloseCallback,
  DomainCapabilitiesQuery,
  DomainEvent,
  DomainInfo,
  DomainInterfaceAddresses,
  DomainRef,
  Driver,
  NetworkDHCPLease,
  NetworkEvent,
  NetworkRef,
  NodeInfo,
  SecurityLabel,
  SecurityModel,
  StoragePoolRef,
  TypedParam,
} from '../drivers/driver.js';

/** A driver event with its `dom` turned into a Domain handle of the registering connection. */
export type DomainEventMessage = DomainEvent extends infer E
  ? E extends { dom: DomainRef }
    ? Omit<E, 'dom'> & { dom: Domain }
    : never
  : never;

/** A network event with its `net` turned into a Network handle. */
export type NetworkEventMessage = Omit<NetworkEvent, 'net'> & { net: Network };

export type DomainEventHandler = (ev: DomainEventMessage) => void;
export type NetworkEventHandler = (ev: NetworkEventMessage) => void;

/**
 * Parses a UUID string as libvirt's virUUIDParse does (conf/uuid.ts: '-' or ' ' between digit
 * pairs, surrounding blanks) into the canonical 8-4-4-4-12 lowercase form, or undefined.
 */
export const canonicalUUID: (s: string) => string | undefined = normalizeUuid;

/**
 * A lookup's UUID argument (16 raw bytes or any form virUUIDParse accepts) in canonical form;
 * else what libvirt 9.0 answers for a malformed one (python-libvirt: code 8, message as is).
 */
function uuidArg(uuid: Uint8Array | string, domain: number): string {
  const canon = typeof uuid === 'string' ? normalizeUuid(uuid) : uuid.length === UUID_LENGTH ? formatUuid(uuid) : undefined;
  if (!canon) throw new VirtError({ code: ErrorNumber.INVALID_ARG, domain, message: 'Invalid UUID', str1: 'Invalid UUID', fault: { value: String(uuid) } });
  return canon;
}

export class Connection {
  readonly #driver: Driver;
  readonly #readonly: boolean;
  readonly #uri: string;
  #closed = false;

  /** Use open() from this package rather than this constructor. */
  constructor(driver: Driver, opts: { readonly: boolean; uri: string }) {
    this.#driver = driver;
    this.#readonly = opts.readonly;
    this.#uri = opts.uri;
  }

  /** The driver behind this connection (for the daemon and tests; applications use the methods). */
  get driver(): Driver {
    this.#checkOpen('virConnectGetDriver');
    return this.#driver;
  }

  /** True when opened read-only (VIR_CONNECT_RO). */
  get readonly(): boolean {
    return this.#readonly;
  }

  /** The URI the caller asked for (before the driver canonicalised it). */
  get requestedURI(): string {
    return this.#uri;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #checkOpen(fn: string): void {
    if (this.#closed) throw virtError(ErrorNumber.INVALID_CONN, ErrorDomain.NONE, fn);
  }

  /** Refuses a changing call on a read-only connection, as libvirt's virCheckReadOnlyGoto. */
  checkWritable(fn: string, domain: number): void {
    this.#checkOpen(fn);
    if (this.#readonly) {
      throw virtError(ErrorNumber.OPERATION_DENIED, domain, `read only access prevents ${fn}`, { object: fn });
    }
  }

  /** Driver access for handles: refuses after close. */
  drv(fn: string): Driver {
    this.#checkOpen(fn);
    return this.#driver;
  }

  // ---- handles ----

  /** A Domain handle for a ref this connection's driver returned. */
  domainHandle(ref: DomainRef): Domain {
    return new Domain(this, ref);
  }

  networkHandle(ref: NetworkRef): Network {
    return new Network(this, ref);
  }

  // ---- connection ----

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#driver.close();
  }

  async getURI(): Promise<string> {
    return this.drv('virConnectGetURI').getURI();
  }

  async getType(): Promise<string> {
    return this.drv('virConnectGetType').getType();
  }

  async getVersion(): Promise<number> {
    return this.drv('virConnectGetVersion').getVersion();
  }

  async getLibVersion(): Promise<number> {
    return this.drv('virConnectGetLibVersion').getLibVersion();
  }

  async getHostname(): Promise<string> {
    return this.drv('virConnectGetHostname').getHostname();
  }

  async getCapabilities(): Promise<string> {
    return this.drv('virConnectGetCapabilities').getCapabilities();
  }

  async getDomainCapabilities(query: DomainCapabilitiesQuery = {}, flags = 0): Promise<string> {
    return this.drv('virConnectGetDomainCapabilities').getDomainCapabilities(query, flags);
  }

  async getMaxVcpus(type: string | null = null): Promise<number> {
    return this.drv('virConnectGetMaxVcpus').getMaxVcpus(type);
  }

  async nodeGetInfo(): Promise<NodeInfo> {
    return this.drv('virNodeGetInfo').nodeGetInfo();
  }

  async nodeGetSecurityModel(): Promise<SecurityModel> {
    return this.drv('virNodeGetSecurityModel').nodeGetSecurityModel();
  }

  async supportsFeature(feature: number): Promise<boolean> {
    return this.drv('virConnectSupportsFeature').supportsFeature(feature);
  }

  async isSecure(): Promise<boolean> {
    return this.drv('virConnectIsSecure').isSecure();
  }

  async isEncrypted(): Promise<boolean> {
    return this.drv('virConnectIsEncrypted').isEncrypted();
  }

  async isAlive(): Promise<boolean> {
    if (this.#closed) return false;
    return this.#driver.isAlive();
  }

  async registerCloseCallback(cb: CloseCallback): Promise<void> {
    return this.drv('virConnectRegisterCloseCallback').registerCloseCallback(cb);
  }

  async unregisterCloseCallback(cb: CloseCallback): Promise<void> {
    return this.drv('virConnectUnregisterCloseCallback').unregisterCloseCallback(cb);
  }

  // ---- domains ----

  async listAllDomains(flags = 0): Promise<Domain[]> {
    const refs = await this.drv('virConnectListAllDomains').listAllDomains(flags);
    return refs.map((r) => new Domain(this, r));
  }

  async numOfDomains(): Promise<number> {
    return this.drv('virConnectNumOfDomains').numOfDomains();
  }

  async listDomains(maxids: number): Promise<number[]> {
    checkNonNegativeArg('maxids', maxids, 'virConnectListDomains', ErrorDomain.DOMAIN);
    return this.drv('virConnectListDomains').listDomains(maxids);
  }

  async numOfDefinedDomains(): Promise<number> {
    return this.drv('virConnectNumOfDefinedDomains').numOfDefinedDomains();
  }

  async listDefinedDomains(maxnames: number): Promise<string[]> {
    checkNonNegativeArg('maxnames', maxnames, 'virConnectListDefinedDomains', ErrorDomain.DOMAIN);
    return this.drv('virConnectListDefinedDomains').listDefinedDomains(maxnames);
  }

  async domainLookupByName(name: string): Promise<Domain> {
    return new Domain(this, await this.drv('virDomainLookupByName').domainLookupByName(name));
  }

  /** uuid: 16 raw bytes or any form virUUIDParse accepts. */
  async domainLookupByUUID(uuid: Uint8Array | string): Promise<Domain> {
    const canon = uuidArg(uuid, ErrorDomain.DOMAIN);
    return new Domain(this, await this.drv('virDomainLookupByUUID').domainLookupByUUID(canon));
  }

  async domainLookupByUUIDString(uuid: string): Promise<Domain> {
    return this.domainLookupByUUID(uuid);
  }

  async domainLookupByID(id: number): Promise<Domain> {
    checkNonNegativeArg('id', id, 'virDomainLookupByID', ErrorDomain.DOMAIN);
    return new Domain(this, await this.drv('virDomainLookupByID').domainLookupByID(id));
  }

  async domainDefineXML(xml: string): Promise<Domain> {
    return this.#define('virDomainDefineXML', xml, 0);
  }

  async domainDefineXMLFlags(xml: string, flags = 0): Promise<Domain> {
    return this.#define('virDomainDefineXMLFlags', xml, flags);
  }

  async #define(fn: string, xml: string, flags: number): Promise<Domain> {
    this.checkWritable(fn, ErrorDomain.DOMAIN);
    return new Domain(this, await this.#driver.domainDefineXML(xml, flags));
  }

  async domainCreateXML(xml: string, flags = 0): Promise<Domain> {
    this.checkWritable('virDomainCreateXML', ErrorDomain.DOMAIN);
    return new Domain(this, await this.#driver.domainCreateXML(xml, flags));
  }

  // ---- networks ----

  async listAllNetworks(flags = 0): Promise<Network[]> {
    const refs = await this.drv('virConnectListAllNetworks').listAllNetworks(flags);
    return refs.map((r) => new Network(this, r));
  }

  async numOfNetworks(): Promise<number> {
    return this.drv('virConnectNumOfNetworks').numOfNetworks();
  }

  async listNetworks(maxnames: number): Promise<string[]> {
    checkNonNegativeArg('maxnames', maxnames, 'virConnectListNetworks', ErrorDomain.NETWORK);
    return this.drv('virConnectListNetworks').listNetworks(maxnames);
  }

  async numOfDefinedNetworks(): Promise<number> {
    return this.drv('virConnectNumOfDefinedNetworks').numOfDefinedNetworks();
  }

  async listDefinedNetworks(maxnames: number): Promise<string[]> {
    checkNonNegativeArg('maxnames', maxnames, 'virConnectListDefinedNetworks', ErrorDomain.NETWORK);
    return this.drv('virConnectListDefinedNetworks').listDefinedNetworks(maxnames);
  }

  async networkLookupByName(name: string): Promise<Network> {
    return new Network(this, await this.drv('virNetworkLookupByName').networkLookupByName(name));
  }

  async networkLookupByUUID(uuid: Uint8Array | string): Promise<Network> {
    const canon = uuidArg(uuid, ErrorDomain.NETWORK);
    return new Network(this, await this.drv('virNetworkLookupByUUID').networkLookupByUUID(canon));
  }

  async networkLookupByUUIDString(uuid: string): Promise<Network> {
    return this.networkLookupByUUID(uuid);
  }

  async networkDefineXML(xml: string): Promise<Network> {
    return this.#netDefine('virNetworkDefineXML', xml, 0);
  }

  async networkDefineXMLFlags(xml: string, flags = 0): Promise<Network> {
    return this.#netDefine('virNetworkDefineXMLFlags', xml, flags);
  }

  async #netDefine(fn: string, xml: string, flags: number): Promise<Network> {
    this.checkWritable(fn, ErrorDomain.NETWORK);
    return new Network(this, await this.#driver.networkDefineXML(xml, flags));
  }

  async networkCreateXML(xml: string): Promise<Network> {
    return this.#netCreate('virNetworkCreateXML', xml, 0);
  }

  async networkCreateXMLFlags(xml: string, flags = 0): Promise<Network> {
    return this.#netCreate('virNetworkCreateXMLFlags', xml, flags);
  }

  async #netCreate(fn: string, xml: string, flags: number): Promise<Network> {
    this.checkWritable(fn, ErrorDomain.NETWORK);
    return new Network(this, await this.#driver.networkCreateXML(xml, flags));
  }

  // ---- storage pools ----

  async listAllStoragePools(flags = 0): Promise<StoragePool[]> {
    const refs = await this.drv('virConnectListAllStoragePools').listAllStoragePools(flags);
    return refs.map((r) => new StoragePool(this, r));
  }

  // ---- events ----

  /**
   * Calls `cb` for every event `eventId` (DomainEventID) of `dom`, or of every domain when dom is
   * null. Returns the callback id for domainEventDeregisterAny.
   */
  async domainEventRegisterAny(dom: Domain | null, eventId: number, cb: DomainEventHandler): Promise<number> {
    return this.drv('virConnectDomainEventRegisterAny').domainEventRegisterAny(dom ? dom.ref : null, eventId, (ev) => {
      const msg = { ...ev, dom: new Domain(this, ev.dom) } as DomainEventMessage;
      cb(msg);
    });
  }

  async domainEventDeregisterAny(callbackId: number): Promise<void> {
    return this.drv('virConnectDomainEventDeregisterAny').domainEventDeregisterAny(callbackId);
  }

  async networkEventRegisterAny(net: Network | null, eventId: number, cb: NetworkEventHandler): Promise<number> {
    return this.drv('virConnectNetworkEventRegisterAny').networkEventRegisterAny(net ? net.ref : null, eventId, (ev) => {
      cb({ ...ev, net: new Network(this, ev.net) });
    });
  }

  async networkEventDeregisterAny(callbackId: number): Promise<void> {
    return this.drv('virConnectNetworkEventDeregisterAny').networkEventDeregisterAny(callbackId);
  }
}

/**
 * What the handles share: their connection, the ref its driver knows them by, the name and UUID,
 * and the driver access that refuses changes on a read-only connection in the handle's error
 * domain.
 */
export abstract class ObjectHandle<R extends { name: string; uuid: string }> {
  readonly conn: Connection;
  protected current: R;

  constructor(conn: Connection, ref: R, private readonly errorDomain: number) {
    this.conn = conn;
    this.current = { ...ref };
  }

  /** What identifies this object to the driver. */
  get ref(): R {
    return { ...this.current };
  }

  get name(): string {
    return this.current.name;
  }

  get uuid(): string {
    return this.current.uuid;
  }

  getConnect(): Connection {
    return this.conn;
  }

  getName(): string {
    return this.current.name;
  }

  getUUIDString(): string {
    return this.current.uuid;
  }

  /** The driver, for a call that changes something (refused read-only and after close). */
  protected writer(fn: string): Driver {
    this.conn.checkWritable(fn, this.errorDomain);
    return this.conn.drv(fn);
  }

  /** The driver, for a query (refused after close). */
  protected reader(fn: string): Driver {
    return this.conn.drv(fn);
  }
}

/** virDomainPtr: a handle on one domain of a connection. */
export class Domain extends ObjectHandle<DomainRef> {
  constructor(conn: Connection, ref: DomainRef) {
    super(conn, ref, ErrorDomain.DOMAIN);
  }

  /** Last id seen: positive while running, -1 when not. */
  get id(): number {
    return this.current.id;
  }

  getUUID(): Uint8Array {
    return Uint8Array.from(Buffer.from(this.current.uuid.replace(/-/g, ''), 'hex'));
  }

  /** virDomainGetID: the id last seen, -1 (libvirt: (unsigned)-1) when inactive. */
  getID(): number {
    return this.current.id;
  }

  // ---- lifecycle ----

  async create(): Promise<void> {
    this.current = await this.writer('virDomainCreate').domainCreate(this.current, 0);
  }

  async createWithFlags(flags = 0): Promise<void> {
    this.current = await this.writer('virDomainCreateWithFlags').domainCreate(this.current, flags);
  }

  async destroy(): Promise<void> {
    await this.writer('virDomainDestroy').domainDestroy(this.current, 0);
    this.current = { ...this.current, id: -1 };
  }

  async destroyFlags(flags = 0): Promise<void> {
    await this.writer('virDomainDestroyFlags').domainDestroy(this.current, flags);
    this.current = { ...this.current, id: -1 };
  }

  async shutdown(): Promise<void> {
    return this.writer('virDomainShutdown').domainShutdown(this.current, 0);
  }

  async shutdownFlags(flags = 0): Promise<void> {
    return this.writer('virDomainShutdownFlags').domainShutdown(this.current, flags);
  }

  async reboot(flags = 0): Promise<void> {
    return this.writer('virDomainReboot').domainReboot(this.current, flags);
  }

  async reset(flags = 0): Promise<void> {
    return this.writer('virDomainReset').domainReset(this.current, flags);
  }

  async suspend(): Promise<void> {
    return this.writer('virDomainSuspend').domainSuspend(this.current);
  }

  async resume(): Promise<void> {
    return this.writer('virDomainResume').domainResume(this.current);
  }

  async undefine(): Promise<void> {
    return this.writer('virDomainUndefine').domainUndefine(this.current, 0);
  }

  async undefineFlags(flags = 0): Promise<void> {
    return this.writer('virDomainUndefineFlags').domainUndefine(this.current, flags);
  }

  // ---- queries ----

  async getXMLDesc(flags = 0): Promise<string> {
    const drv = this.reader('virDomainGetXMLDesc');
    if (flags & DomainXMLFlags.SECURE && this.conn.readonly) {
      throw virtError(ErrorNumber.OPERATION_DENIED, ErrorDomain.DOMAIN, 'virDomainGetXMLDesc with secure flag');
    }
    return drv.domainGetXMLDesc(this.current, flags);
  }

  async getInfo(): Promise<DomainInfo> {
    return this.reader('virDomainGetInfo').domainGetInfo(this.current);
  }

  async getState(flags = 0): Promise<{ state: number; reason: number }> {
    return this.reader('virDomainGetState').domainGetState(this.current, flags);
  }

  async getOSType(): Promise<string> {
    return this.reader('virDomainGetOSType').domainGetOSType(this.current);
  }

  async getMaxMemory(): Promise<number> {
    return this.reader('virDomainGetMaxMemory').domainGetMaxMemory(this.current);
  }

  async getVcpusFlags(flags = 0): Promise<number> {
    return this.reader('virDomainGetVcpusFlags').domainGetVcpusFlags(this.current, flags);
  }

  async getAutostart(): Promise<boolean> {
    return this.reader('virDomainGetAutostart').domainGetAutostart(this.current);
  }

  async setAutostart(autostart: boolean): Promise<void> {
    return this.writer('virDomainSetAutostart').domainSetAutostart(this.current, autostart);
  }

  async isActive(): Promise<boolean> {
    return this.reader('virDomainIsActive').domainIsActive(this.current);
  }

  async isPersistent(): Promise<boolean> {
    return this.reader('virDomainIsPersistent').domainIsPersistent(this.current);
  }

  async isUpdated(): Promise<boolean> {
    return this.reader('virDomainIsUpdated').domainIsUpdated(this.current);
  }

  async hasManagedSaveImage(flags = 0): Promise<boolean> {
    return this.reader('virDomainHasManagedSaveImage').domainHasManagedSaveImage(this.current, flags);
  }

  async snapshotNum(flags = 0): Promise<number> {
    return this.reader('virDomainSnapshotNum').domainSnapshotNum(this.current, flags);
  }

  async getSecurityLabel(): Promise<SecurityLabel> {
    return this.reader('virDomainGetSecurityLabel').domainGetSecurityLabel(this.current);
  }

  async getMessages(flags = 0): Promise<string[]> {
    return this.reader('virDomainGetMessages').domainGetMessages(this.current, flags);
  }

  async interfaceAddresses(source: number, flags = 0): Promise<DomainInterfaceAddresses[]> {
    // Asking the guest agent is a privileged operation in libvirt; leases and ARP are not.
    const drv = source === 1 ? this.writer('virDomainInterfaceAddresses') : this.reader('virDomainInterfaceAddresses');
    return drv.domainInterfaceAddresses(this.current, source, flags);
  }

  // ---- devices ----

  async attachDevice(xml: string): Promise<void> {
    return this.writer('virDomainAttachDevice').domainAttachDeviceFlags(this.current, xml, 0);
  }

  async attachDeviceFlags(xml: string, flags = 0): Promise<void> {
    return this.writer('virDomainAttachDeviceFlags').domainAttachDeviceFlags(this.current, xml, flags);
  }

  async detachDevice(xml: string): Promise<void> {
    return this.writer('virDomainDetachDevice').domainDetachDeviceFlags(this.current, xml, 0);
  }

  async detachDeviceFlags(xml: string, flags = 0): Promise<void> {
    return this.writer('virDomainDetachDeviceFlags').domainDetachDeviceFlags(this.current, xml, flags);
  }

  async updateDeviceFlags(xml: string, flags = 0): Promise<void> {
    return this.writer('virDomainUpdateDeviceFlags').domainUpdateDeviceFlags(this.current, xml, flags);
  }

  async setInterfaceParameters(device: string, params: TypedParam[], flags = 0): Promise<void> {
    return this.writer('virDomainSetInterfaceParameters').domainSetInterfaceParameters(this.current, device, params, flags);
  }

  async getInterfaceParameters(device: string, flags = 0): Promise<TypedParam[]> {
    return this.reader('virDomainGetInterfaceParameters').domainGetInterfaceParameters(this.current, device, flags);
  }

  async openConsole(devName: string | null = null, flags = 0): Promise<Duplex> {
    return this.writer('virDomainOpenConsole').domainOpenConsole(this.current, devName, flags);
  }
}

/** virNetworkPtr */
export class Network extends ObjectHandle<NetworkRef> {
  constructor(conn: Connection, ref: NetworkRef) {
    super(conn, ref, ErrorDomain.NETWORK);
  }

  async create(): Promise<void> {
    return this.writer('virNetworkCreate').networkCreate(this.current);
  }

  async destroy(): Promise<void> {
    return this.writer('virNetworkDestroy').networkDestroy(this.current);
  }

  async undefine(): Promise<void> {
    return this.writer('virNetworkUndefine').networkUndefine(this.current);
  }

  async getXMLDesc(flags = 0): Promise<string> {
    return this.reader('virNetworkGetXMLDesc').networkGetXMLDesc(this.current, flags);
  }

  async getBridgeName(): Promise<string> {
    return this.reader('virNetworkGetBridgeName').networkGetBridgeName(this.current);
  }

  async getAutostart(): Promise<boolean> {
    return this.reader('virNetworkGetAutostart').networkGetAutostart(this.current);
  }

  async setAutostart(autostart: boolean): Promise<void> {
    return this.writer('virNetworkSetAutostart').networkSetAutostart(this.current, autostart);
  }

  async isActive(): Promise<boolean> {
    return this.reader('virNetworkIsActive').networkIsActive(this.current);
  }

  async isPersistent(): Promise<boolean> {
    return this.reader('virNetworkIsPersistent').networkIsPersistent(this.current);
  }

  async getDHCPLeases(mac: string | null = null, flags = 0): Promise<NetworkDHCPLease[]> {
    return this.reader('virNetworkGetDHCPLeases').networkGetDHCPLeases(this.current, mac, flags);
  }
}

/** virStoragePoolPtr (listing only for now). */
export class StoragePool extends ObjectHandle<StoragePoolRef> {
  constructor(conn: Connection, ref: StoragePoolRef) {
    super(conn, ref, ErrorDomain.STORAGE);
  }
}
