// The one Driver interface. The QEMU driver, the test driver and the remote driver (which
// forwards every call over libvirt's RPC protocol) each implement it; the API layer, the
// daemon's dispatcher and the CLI never know which one they hold (DESIGN.md).
//
// Shape rules:
// - Method names are libvirt's public API names by DESIGN.md's rule, with the receiver passed
//   first: virDomainCreate(dom) → domainCreate(dom), virConnectGetType(conn) → getType().
// - Flags are libvirt's numbers (src/drivers/constants.ts); a driver refuses flags it does not
//   know with INVALID_ARG "unsupported flags (0x..) in function <name>", as libvirt does.
// - Every method is async, so the remote driver fits; every failure is a VirtError.
// - Domains and networks are identified by their UUID; the name and id in a ref are what the
//   caller last saw (libvirt's daemon also resolves by UUID only).
import type { Duplex } from 'node:stream';

/** remote_nonnull_domain: what identifies a domain across the API. */
export interface DomainRef {
  name: string;
  /** Canonical lowercase 8-4-4-4-12 form. */
  uuid: string;
  /** Positive while running, -1 when inactive. */
  id: number;
}

/** remote_nonnull_network */
export interface NetworkRef {
  name: string;
  uuid: string;
}

/** remote_nonnull_storage_pool */
export interface StoragePoolRef {
  name: string;
  uuid: string;
}

/** virDomainInfo */
export interface DomainInfo {
  state: number;
  /** KiB */
  maxMem: number;
  /** KiB */
  memory: number;
  nrVirtCpu: number;
  /** nanoseconds */
  cpuTime: bigint;
}

/** virNodeInfo */
export interface NodeInfo {
  model: string;
  /** KiB */
  memory: number;
  cpus: number;
  mhz: number;
  nodes: number;
  sockets: number;
  cores: number;
  threads: number;
}

/** virTypedParameter; `type` is TypedParameterType. */
export type TypedParam =
  | { field: string; type: 1 | 2; value: number }
  | { field: string; type: 3 | 4; value: bigint }
  | { field: string; type: 5; value: number }
  | { field: string; type: 6; value: boolean }
  | { field: string; type: 7; value: string };

export interface SecurityModel {
  model: string;
  doi: string;
}

export interface SecurityLabel {
  label: string;
  enforcing: boolean;
}

/** virNetworkDHCPLease */
export interface NetworkDHCPLease {
  iface: string;
  expirytime: bigint;
  type: number;
  mac: string | null;
  iaid: string | null;
  ipaddr: string;
  prefix: number;
  hostname: string | null;
  clientid: string | null;
}

/** virDomainInterface (virDomainInterfaceAddresses) */
export interface DomainInterfaceAddresses {
  name: string;
  hwaddr: string | null;
  addrs: { type: number; addr: string; prefix: number }[];
}

export interface DomainCapabilitiesQuery {
  emulatorbin?: string | null;
  arch?: string | null;
  machine?: string | null;
  virttype?: string | null;
}

/** virDomainEventGraphicsAddress; family is DomainEventGraphicsAddressType. */
export interface DomainEventGraphicsAddress {
  family: number;
  node: string;
  service: string;
}

/**
 * A domain event; `eventId` is DomainEventID and selects the payload. Field names are those of
 * libvirt's callback arguments.
 */
export type DomainEvent =
  | { eventId: 0; dom: DomainRef; event: number; detail: number } // LIFECYCLE
  | { eventId: 1; dom: DomainRef } // REBOOT
  | { eventId: 2; dom: DomainRef; offset: bigint } // RTC_CHANGE
  | { eventId: 3; dom: DomainRef; action: number } // WATCHDOG
  | { eventId: 4; dom: DomainRef; srcPath: string; devAlias: string; action: number } // IO_ERROR
  | {
      eventId: 5;
      dom: DomainRef;
      phase: number;
      local: DomainEventGraphicsAddress;
      remote: DomainEventGraphicsAddress;
      authScheme: string;
      subject: { type: string; name: string }[];
    } // GRAPHICS
  | { eventId: 6; dom: DomainRef; srcPath: string; devAlias: string; action: number; reason: string } // IO_ERROR_REASON
  | { eventId: 7; dom: DomainRef } // CONTROL_ERROR
  | { eventId: 8; dom: DomainRef; path: string; type: number; status: number } // BLOCK_JOB
  | { eventId: 9; dom: DomainRef; oldSrcPath: string | null; newSrcPath: string | null; devAlias: string; reason: number } // DISK_CHANGE
  | { eventId: 10; dom: DomainRef; devAlias: string; reason: number } // TRAY_CHANGE
  | { eventId: 11; dom: DomainRef; reason: number } // PMWAKEUP
  | { eventId: 12; dom: DomainRef; reason: number } // PMSUSPEND
  | { eventId: 13; dom: DomainRef; actual: bigint } // BALLOON_CHANGE
  | { eventId: 14; dom: DomainRef; reason: number } // PMSUSPEND_DISK
  | { eventId: 15; dom: DomainRef; devAlias: string } // DEVICE_REMOVED
  | { eventId: 16; dom: DomainRef; dst: string; type: number; status: number } // BLOCK_JOB_2
  | { eventId: 17; dom: DomainRef; params: TypedParam[] } // TUNABLE
  | { eventId: 18; dom: DomainRef; state: number; reason: number } // AGENT_LIFECYCLE
  | { eventId: 19; dom: DomainRef; devAlias: string } // DEVICE_ADDED
  | { eventId: 20; dom: DomainRef; iteration: number } // MIGRATION_ITERATION
  | { eventId: 21; dom: DomainRef; params: TypedParam[] } // JOB_COMPLETED
  | { eventId: 22; dom: DomainRef; devAlias: string } // DEVICE_REMOVAL_FAILED
  | { eventId: 23; dom: DomainRef; type: number; nsuri: string | null } // METADATA_CHANGE
  | { eventId: 24; dom: DomainRef; dev: string; path: string | null; threshold: bigint; excess: bigint } // BLOCK_THRESHOLD
  | { eventId: 25; dom: DomainRef; recipient: number; action: number; flags: number } // MEMORY_FAILURE
  | { eventId: 26; dom: DomainRef; alias: string; size: bigint }; // MEMORY_DEVICE_SIZE_CHANGE

/** A network event; eventId 0 = LIFECYCLE (NetworkEventLifecycleType). */
export type NetworkEvent = { eventId: 0; net: NetworkRef; event: number; detail: number };

export type DomainEventCallback = (ev: DomainEvent) => void;
export type NetworkEventCallback = (ev: NetworkEvent) => void;
/** reason is ConnectCloseReason. */
export type CloseCallback = (reason: number) => void;

export interface Driver {
  // ---- connection ----
  /** The URI this connection was opened with, canonical (virConnectGetURI). */
  getURI(): Promise<string>;
  /** 'QEMU', 'Test', … (virConnectGetType) */
  getType(): Promise<string>;
  /** Hypervisor version, major×1e6 + minor×1e3 + micro. */
  getVersion(): Promise<number>;
  /** Library version, same encoding (libvirt 9.0.0 → 9000000). */
  getLibVersion(): Promise<number>;
  getHostname(): Promise<string>;
  getCapabilities(): Promise<string>;
  getDomainCapabilities(query: DomainCapabilitiesQuery, flags: number): Promise<string>;
  getMaxVcpus(type: string | null): Promise<number>;
  nodeGetInfo(): Promise<NodeInfo>;
  nodeGetSecurityModel(): Promise<SecurityModel>;
  /** DrvFeature number → supported. */
  supportsFeature(feature: number): Promise<boolean>;
  /** true when the channel to the hypervisor cannot be eavesdropped (local, TLS, ssh). */
  isSecure(): Promise<boolean>;
  isEncrypted(): Promise<boolean>;
  /** Still usable (remote: socket open). */
  isAlive(): Promise<boolean>;
  /** Releases the connection; registered callbacks are dropped. Idempotent. */
  close(): Promise<void>;
  registerCloseCallback(cb: CloseCallback): Promise<void>;
  unregisterCloseCallback(cb: CloseCallback): Promise<void>;

  // ---- domains: listing and lookup ----
  listAllDomains(flags: number): Promise<DomainRef[]>;
  numOfDomains(): Promise<number>;
  /** ids of running domains, at most maxids */
  listDomains(maxids: number): Promise<number[]>;
  numOfDefinedDomains(): Promise<number>;
  /** names of inactive persistent domains, at most maxnames */
  listDefinedDomains(maxnames: number): Promise<string[]>;
  domainLookupByName(name: string): Promise<DomainRef>;
  domainLookupByUUID(uuid: string): Promise<DomainRef>;
  domainLookupByID(id: number): Promise<DomainRef>;

  // ---- domains: definition and lifecycle ----
  domainDefineXML(xml: string, flags: number): Promise<DomainRef>;
  domainCreateXML(xml: string, flags: number): Promise<DomainRef>;
  domainUndefine(dom: DomainRef, flags: number): Promise<void>;
  /** Starts a defined domain; returns it with its new id. */
  domainCreate(dom: DomainRef, flags: number): Promise<DomainRef>;
  domainDestroy(dom: DomainRef, flags: number): Promise<void>;
  domainShutdown(dom: DomainRef, flags: number): Promise<void>;
  domainReboot(dom: DomainRef, flags: number): Promise<void>;
  domainReset(dom: DomainRef, flags: number): Promise<void>;
  domainSuspend(dom: DomainRef): Promise<void>;
  domainResume(dom: DomainRef): Promise<void>;

  // ---- domains: queries ----
  domainGetXMLDesc(dom: DomainRef, flags: number): Promise<string>;
  domainGetInfo(dom: DomainRef): Promise<DomainInfo>;
  domainGetState(dom: DomainRef, flags: number): Promise<{ state: number; reason: number }>;
  domainGetOSType(dom: DomainRef): Promise<string>;
  domainGetMaxMemory(dom: DomainRef): Promise<number>;
  domainGetVcpusFlags(dom: DomainRef, flags: number): Promise<number>;
  domainGetAutostart(dom: DomainRef): Promise<boolean>;
  domainSetAutostart(dom: DomainRef, autostart: boolean): Promise<void>;
  domainIsActive(dom: DomainRef): Promise<boolean>;
  domainIsPersistent(dom: DomainRef): Promise<boolean>;
  domainIsUpdated(dom: DomainRef): Promise<boolean>;
  domainHasManagedSaveImage(dom: DomainRef, flags: number): Promise<boolean>;
  domainSnapshotNum(dom: DomainRef, flags: number): Promise<number>;
  domainGetSecurityLabel(dom: DomainRef): Promise<SecurityLabel>;
  domainGetMessages(dom: DomainRef, flags: number): Promise<string[]>;
  domainInterfaceAddresses(dom: DomainRef, source: number, flags: number): Promise<DomainInterfaceAddresses[]>;

  // ---- domains: devices ----
  domainAttachDeviceFlags(dom: DomainRef, xml: string, flags: number): Promise<void>;
  domainDetachDeviceFlags(dom: DomainRef, xml: string, flags: number): Promise<void>;
  domainUpdateDeviceFlags(dom: DomainRef, xml: string, flags: number): Promise<void>;
  /** device = interface target dev or MAC; params named by DomainBandwidthParam. */
  domainSetInterfaceParameters(dom: DomainRef, device: string, params: TypedParam[], flags: number): Promise<void>;
  domainGetInterfaceParameters(dom: DomainRef, device: string, flags: number): Promise<TypedParam[]>;
  /** A two-way byte stream to a console/serial device (devName null = the first console). */
  domainOpenConsole(dom: DomainRef, devName: string | null, flags: number): Promise<Duplex>;

  // ---- networks ----
  listAllNetworks(flags: number): Promise<NetworkRef[]>;
  numOfNetworks(): Promise<number>;
  listNetworks(maxnames: number): Promise<string[]>;
  numOfDefinedNetworks(): Promise<number>;
  listDefinedNetworks(maxnames: number): Promise<string[]>;
  networkLookupByName(name: string): Promise<NetworkRef>;
  networkLookupByUUID(uuid: string): Promise<NetworkRef>;
  networkDefineXML(xml: string, flags: number): Promise<NetworkRef>;
  networkCreateXML(xml: string, flags: number): Promise<NetworkRef>;
  networkUndefine(net: NetworkRef): Promise<void>;
  networkCreate(net: NetworkRef): Promise<void>;
  networkDestroy(net: NetworkRef): Promise<void>;
  networkGetXMLDesc(net: NetworkRef, flags: number): Promise<string>;
  networkGetBridgeName(net: NetworkRef): Promise<string>;
  networkGetAutostart(net: NetworkRef): Promise<boolean>;
  networkSetAutostart(net: NetworkRef, autostart: boolean): Promise<void>;
  networkIsActive(net: NetworkRef): Promise<boolean>;
  networkIsPersistent(net: NetworkRef): Promise<boolean>;
  networkGetDHCPLeases(net: NetworkRef, mac: string | null, flags: number): Promise<NetworkDHCPLease[]>;

  // ---- storage pools (listing only, for now) ----
  listAllStoragePools(flags: number): Promise<StoragePoolRef[]>;

  // ---- events ----
  /** dom null = every domain. Returns a callback id unique within this connection. */
  domainEventRegisterAny(dom: DomainRef | null, eventId: number, cb: DomainEventCallback): Promise<number>;
  domainEventDeregisterAny(callbackId: number): Promise<void>;
  networkEventRegisterAny(net: NetworkRef | null, eventId: number, cb: NetworkEventCallback): Promise<number>;
  networkEventDeregisterAny(callbackId: number): Promise<void>;
}
