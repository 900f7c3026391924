// The test driver (test:///default, test:///ABS/FILE.xml): libvirt's in-memory mock hypervisor,
// with libvirt 9.0's state machine, error codes and messages, and lifecycle events. One
// TestDriver is one connection; the objects live in a TestNode (shared by test:///default
// connections while any is open, as libvirt).
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import { ErrorDomain, ErrorNumber, VirtError, virtError } from '../../errors/index.js';
import { checkIllegalChars } from '../../conf/xmlProps.js';
import { formatConnectURI, type ConnectURI } from '../connectUri.js';
import {
  DomainCreateFlags,
  DomainDefineFlags,
  DomainDestroyFlagsValues,
  DomainEventDefinedDetailType,
  DomainEventResumedDetailType,
  DomainEventStartedDetailType,
  DomainEventStoppedDetailType,
  DomainEventSuspendedDetailType,
  DomainEventType,
  DomainEventUndefinedDetailType,
  DomainModificationImpact,
  DomainPausedReason,
  DomainRunningReason,
  DomainShutoffReason,
  DomainState,
  DomainUndefineFlagsValues,
  DomainXMLFlags,
  DrvFeature,
  LIB_VERSION,
  NetworkCreateFlags,
  NetworkDefineFlags,
  NetworkEventLifecycleType,
  TypedParameterFlags,
} from '../constants.js';
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
} from '../driver.js';
import { EventBroker } from '../events.js';
import { checkFlags } from '../flags.js';
import { ALL_DOMAIN_LIST_FLAGS, ALL_NETWORK_LIST_FLAGS, ALL_POOL_LIST_FLAGS, domainMatchesListFlags, networkMatchesListFlags, poolMatchesListFlags } from '../listFlags.js';
import { bandwidthToParams, checkBandwidthParams, findDomainNet, mergeBandwidthParams } from '../interfaceParameters.js';
import { oneDef } from '../modificationImpact.js';
import { domainNets, formatDomainDef, parseDomainDef } from './domainConf.js';
import { generateTestIfnames } from './domainDefaults.js';
import { formatNetworkDef, networkAddressBase, parseNetworkDef } from './networkConf.js';
import { testCapabilitiesXML } from './capabilities.js';
import { acquireNode, releaseNode, type DomainObj, type NetworkObj, type TestNode } from './testNode.js';

const T = ErrorDomain.TEST;
const VCPU_MAXIMUM = 4;

function unsupported(fn: string, domain: number): VirtError {
  return virtError(ErrorNumber.NO_SUPPORT, domain, fn, { object: fn });
}

function notRunning(): VirtError {
  // virDomainObjCheckActive
  return virtError(ErrorNumber.OPERATION_INVALID, ErrorDomain.DOMAIN, 'domain is not running');
}

export class TestDriver implements Driver {
  readonly #node: TestNode;
  readonly #uri: string;
  readonly #events = new EventBroker();
  readonly #closeCallbacks = new Set<CloseCallback>();
  #closed = false;

  constructor(node: TestNode, uri: ConnectURI) {
    this.#node = node;
    this.#uri = formatConnectURI(uri);
    node.attach(this.#events);
  }

  // ---- connection ----

  async getURI(): Promise<string> {
    return this.#uri;
  }

  async getType(): Promise<string> {
    return 'TEST';
  }

  async getVersion(): Promise<number> {
    return 2;
  }

  async getLibVersion(): Promise<number> {
    return LIB_VERSION;
  }

  async getHostname(): Promise<string> {
    return hostname();
  }

  async getCapabilities(): Promise<string> {
    return testCapabilitiesXML(this.#node.numCells);
  }

  async getDomainCapabilities(_q: DomainCapabilitiesQuery, _flags: number): Promise<string> {
    throw unsupported('virConnectGetDomainCapabilities', ErrorDomain.DOMAIN);
  }

  async getMaxVcpus(_type: string | null): Promise<number> {
    return 32;
  }

  async nodeGetInfo(): Promise<NodeInfo> {
    return { ...this.#node.nodeInfo };
  }

  async nodeGetSecurityModel(): Promise<SecurityModel> {
    return { model: 'testSecurity', doi: '' };
  }

  async supportsFeature(feature: number): Promise<boolean> {
    return feature === DrvFeature.TYPED_PARAM_STRING || feature === DrvFeature.NETWORK_UPDATE_HAS_CORRECT_ORDER;
  }

  async isSecure(): Promise<boolean> {
    return true;
  }

  async isEncrypted(): Promise<boolean> {
    return false;
  }

  async isAlive(): Promise<boolean> {
    return !this.#closed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#events.clear();
    this.#node.detach(this.#events);
    releaseNode(this.#node);
    this.#closeCallbacks.clear();
  }

  async registerCloseCallback(cb: CloseCallback): Promise<void> {
    // A local connection never closes under its user; the callback is kept and dropped on close().
    this.#closeCallbacks.add(cb);
  }

  async unregisterCloseCallback(cb: CloseCallback): Promise<void> {
    if (!this.#closeCallbacks.delete(cb)) {
      throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, 'A different callback was requested', {});
    }
  }

  // ---- domains: listing and lookup ----

  async listAllDomains(flags: number): Promise<DomainRef[]> {
    checkFlags(flags, ALL_DOMAIN_LIST_FLAGS, 'testConnectListAllDomains', T);
    const node = this.#node;
    const out: DomainRef[] = [];
    for (const obj of node.domains.values()) {
      const facts = { active: node.isActive(obj), persistent: obj.persistent, state: obj.state, autostart: obj.autostart, hasManagedSave: obj.hasManagedSave };
      if (domainMatchesListFlags(flags, facts)) out.push(node.domainRef(obj));
    }
    return out;
  }

  async numOfDomains(): Promise<number> {
    return [...this.#node.domains.values()].filter((d) => this.#node.isActive(d)).length;
  }

  async listDomains(maxids: number): Promise<number[]> {
    const ids = [...this.#node.domains.values()].filter((d) => this.#node.isActive(d)).map((d) => d.id);
    return ids.slice(0, Math.max(0, maxids));
  }

  async numOfDefinedDomains(): Promise<number> {
    return [...this.#node.domains.values()].filter((d) => !this.#node.isActive(d)).length;
  }

  async listDefinedDomains(maxnames: number): Promise<string[]> {
    const names = [...this.#node.domains.values()].filter((d) => !this.#node.isActive(d)).map((d) => d.def.name);
    return names.slice(0, Math.max(0, maxnames));
  }

  async domainLookupByName(name: string): Promise<DomainRef> {
    const obj = this.#node.findDomainByName(name);
    if (!obj) throw virtError(ErrorNumber.NO_DOMAIN, T, undefined, { object: name });
    return this.#node.domainRef(obj);
  }

  async domainLookupByUUID(uuid: string): Promise<DomainRef> {
    const obj = this.#node.domains.get(uuid.toLowerCase());
    if (!obj) throw virtError(ErrorNumber.NO_DOMAIN, T, undefined, { value: uuid });
    return this.#node.domainRef(obj);
  }

  async domainLookupByID(id: number): Promise<DomainRef> {
    const obj = this.#node.findDomainByID(id);
    if (!obj) throw virtError(ErrorNumber.NO_DOMAIN, T, undefined, { value: String(id) });
    return this.#node.domainRef(obj);
  }

  // ---- domains: definition and lifecycle ----

  async domainDefineXML(xml: string, flags: number): Promise<DomainRef> {
    checkFlags(flags, DomainDefineFlags.VALIDATE, 'testDomainDefineXMLFlags', T);
    const node = this.#node;
    const def = parseDomainDef(xml, { validate: (flags & DomainDefineFlags.VALIDATE) !== 0 });
    checkIllegalChars('name', def.name, '\n');
    generateTestIfnames(def);
    const existing = node.domainForDef(def, false);
    let obj: DomainObj;
    let updated = false;
    if (existing) {
      obj = existing;
      if (node.isActive(obj)) {
        updated = obj.newDef !== null;
        obj.newDef = def;
      } else {
        updated = true;
        obj.def = def;
      }
      obj.persistent = true;
    } else {
      obj = node.addDomain(def, true);
    }
    node.lifecycle(
      obj,
      DomainEventType.DEFINED,
      updated ? DomainEventDefinedDetailType.UPDATED : DomainEventDefinedDetailType.ADDED,
    );
    return node.domainRef(obj);
  }

  async domainCreateXML(xml: string, flags: number): Promise<DomainRef> {
    checkFlags(flags, DomainCreateFlags.VALIDATE, 'testDomainCreateXML', T);
    const node = this.#node;
    const def = parseDomainDef(xml, { validate: (flags & DomainCreateFlags.VALIDATE) !== 0 });
    generateTestIfnames(def);
    const existing = node.domainForDef(def, true);
    let obj: DomainObj;
    if (existing) {
      // A persistent shut-off domain runs the new definition; its own one waits aside.
      obj = existing;
      obj.newDef = obj.def;
      obj.def = def;
    } else {
      obj = node.addDomain(def, false);
    }
    node.startState(obj, DomainRunningReason.BOOTED);
    node.lifecycle(obj, DomainEventType.STARTED, DomainEventStartedDetailType.BOOTED);
    return node.domainRef(obj);
  }

  async domainUndefine(dom: DomainRef, flags: number): Promise<void> {
    checkFlags(
      flags,
      DomainUndefineFlagsValues.MANAGED_SAVE | DomainUndefineFlagsValues.SNAPSHOTS_METADATA,
      'testDomainUndefineFlags',
      T,
    );
    const node = this.#node;
    const obj = node.domainFromRef(dom);
    if (obj.hasManagedSave && !(flags & DomainUndefineFlagsValues.MANAGED_SAVE)) {
      throw virtError(ErrorNumber.OPERATION_INVALID, T, 'Refusing to undefine while domain managed save image exists');
    }
    node.lifecycle(obj, DomainEventType.UNDEFINED, DomainEventUndefinedDetailType.REMOVED);
    obj.hasManagedSave = false;
    if (node.isActive(obj)) obj.persistent = false;
    else node.removeDomain(obj);
  }

  async domainCreate(dom: DomainRef, flags: number): Promise<DomainRef> {
    checkFlags(flags, 0, 'testDomainCreateWithFlags', T);
    const node = this.#node;
    const obj = node.domainFromRef(dom);
    if (obj.state !== DomainState.SHUTOFF) {
      throw virtError(ErrorNumber.INTERNAL_ERROR, T, `Domain '${dom.name}' is already running`, { object: dom.name });
    }
    node.startState(obj, DomainRunningReason.BOOTED);
    node.lifecycle(obj, DomainEventType.STARTED, DomainEventStartedDetailType.BOOTED);
    return node.domainRef(obj);
  }

  async domainDestroy(dom: DomainRef, flags: number): Promise<void> {
    checkFlags(flags, DomainDestroyFlagsValues.GRACEFUL, 'testDomainDestroyFlags', T);
    const node = this.#node;
    const obj = node.domainFromRef(dom);
    if (!node.isActive(obj)) throw notRunning();
    this.#stop(obj, DomainShutoffReason.DESTROYED, DomainEventStoppedDetailType.DESTROYED);
  }

  /** Shut off, tell, and forget a transient domain. */
  #stop(obj: DomainObj, reason: number, detail: number): void {
    const node = this.#node;
    const eventId = node.shutdownState(obj, reason);
    node.lifecycle(obj, DomainEventType.STOPPED, detail, eventId);
    if (!obj.persistent) node.removeDomain(obj);
  }

  /** What on_poweroff / on_reboot does in the test driver (testDomainActionSetState). */
  #lifecycleAction(obj: DomainObj, action: string): void {
    if (action === 'restart' || action === 'rename-restart') {
      obj.state = DomainState.RUNNING;
      obj.reason = DomainRunningReason.BOOTED;
      return;
    }
    this.#stop(obj, DomainShutoffReason.SHUTDOWN, DomainEventStoppedDetailType.SHUTDOWN);
  }

  async domainShutdown(dom: DomainRef, flags: number): Promise<void> {
    checkFlags(flags, 0, 'testDomainShutdownFlags', T);
    const node = this.#node;
    const obj = node.domainFromRef(dom);
    if (obj.state === DomainState.SHUTOFF) {
      throw virtError(ErrorNumber.INTERNAL_ERROR, T, `domain '${dom.name}' not running`, { object: dom.name });
    }
    this.#lifecycleAction(obj, node.summary(obj).onPoweroff);
  }

  async domainReboot(dom: DomainRef, flags: number): Promise<void> {
    checkFlags(flags, 0x1f, 'testDomainReboot', T);
    const node = this.#node;
    const obj = node.domainFromRef(dom);
    if (!node.isActive(obj)) throw notRunning();
    this.#lifecycleAction(obj, node.summary(obj).onReboot);
  }

  async domainReset(dom: DomainRef, flags: number): Promise<void> {
    checkFlags(flags, 0, 'testDomainReset', T);
    const obj = this.#node.domainFromRef(dom);
    if (!this.#node.isActive(obj)) throw notRunning();
  }

  async domainSuspend(dom: DomainRef): Promise<void> {
    const node = this.#node;
    const obj = node.domainFromRef(dom);
    if (obj.state === DomainState.SHUTOFF || obj.state === DomainState.PAUSED) {
      throw virtError(ErrorNumber.INTERNAL_ERROR, T, `domain '${dom.name}' not running`, { object: dom.name });
    }
    obj.state = DomainState.PAUSED;
    obj.reason = DomainPausedReason.USER;
    node.lifecycle(obj, DomainEventType.SUSPENDED, DomainEventSuspendedDetailType.PAUSED);
  }

  async domainResume(dom: DomainRef): Promise<void> {
    const node = this.#node;
    const obj = node.domainFromRef(dom);
    if (obj.state !== DomainState.PAUSED) {
      throw virtError(ErrorNumber.INTERNAL_ERROR, T, `domain '${dom.name}' not paused`, { object: dom.name });
    }
    obj.state = DomainState.RUNNING;
    obj.reason = DomainRunningReason.UNPAUSED;
    node.lifecycle(obj, DomainEventType.RESUMED, DomainEventResumedDetailType.UNPAUSED);
  }

  // ---- domains: queries ----

  async domainGetXMLDesc(dom: DomainRef, flags: number): Promise<string> {
    const common = DomainXMLFlags.SECURE | DomainXMLFlags.INACTIVE | DomainXMLFlags.UPDATE_CPU | DomainXMLFlags.MIGRATABLE;
    checkFlags(flags, common, 'testDomainGetXMLDesc', T);
    const obj = this.#node.domainFromRef(dom);
    const inactive = (flags & DomainXMLFlags.INACTIVE) !== 0;
    const def = inactive && obj.newDef ? obj.newDef : obj.def;
    return formatDomainDef(def, {
      inactive: inactive || !this.#node.isActive(obj),
      secure: (flags & DomainXMLFlags.SECURE) !== 0,
      id: obj.id,
    });
  }

  async domainGetInfo(dom: DomainRef): Promise<DomainInfo> {
    const obj = this.#node.domainFromRef(dom);
    const s = this.#node.summary(obj);
    // libvirt's test driver reports the wall clock as CPU time.
    const nowNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
    return { state: obj.state, maxMem: s.memory, memory: s.currentMemory, nrVirtCpu: s.vcpus, cpuTime: nowNs };
  }

  async domainGetState(dom: DomainRef, flags: number): Promise<{ state: number; reason: number }> {
    checkFlags(flags, 0, 'testDomainGetState', T);
    const obj = this.#node.domainFromRef(dom);
    return { state: obj.state, reason: obj.reason };
  }

  async domainGetOSType(dom: DomainRef): Promise<string> {
    this.#node.domainFromRef(dom);
    return 'linux';
  }

  async domainGetMaxMemory(dom: DomainRef): Promise<number> {
    return this.#node.summary(this.#node.domainFromRef(dom)).memory;
  }

  async domainGetVcpusFlags(dom: DomainRef, flags: number): Promise<number> {
    checkFlags(
      flags,
      DomainModificationImpact.LIVE | DomainModificationImpact.CONFIG | VCPU_MAXIMUM,
      'testDomainGetVcpusFlags',
      T,
    );
    const obj = this.#node.domainFromRef(dom);
    const def = this.#oneDef(obj, flags);
    const s = def === obj.def ? this.#node.summary(obj) : this.#node.summary({ ...obj, def });
    return flags & VCPU_MAXIMUM ? s.maxVcpus : s.vcpus;
  }

  /** virDomainObjGetOneDef: the live or persistent definition the impact flags select. */
  #oneDef(obj: DomainObj, flags: number): DomainObj['def'] {
    return oneDef({ def: obj.def, newDef: obj.newDef, active: this.#node.isActive(obj), persistent: obj.persistent }, flags);
  }

  async domainGetAutostart(dom: DomainRef): Promise<boolean> {
    return this.#node.domainFromRef(dom).autostart;
  }

  async domainSetAutostart(dom: DomainRef, autostart: boolean): Promise<void> {
    this.#node.domainFromRef(dom).autostart = autostart;
  }

  async domainIsActive(dom: DomainRef): Promise<boolean> {
    return this.#node.isActive(this.#node.domainFromRef(dom));
  }

  async domainIsPersistent(dom: DomainRef): Promise<boolean> {
    return this.#node.domainFromRef(dom).persistent;
  }

  async domainIsUpdated(_dom: DomainRef): Promise<boolean> {
    return false;
  }

  async domainHasManagedSaveImage(dom: DomainRef, flags: number): Promise<boolean> {
    checkFlags(flags, 0, 'testDomainHasManagedSaveImage', T);
    return this.#node.domainFromRef(dom).hasManagedSave;
  }

  async domainSnapshotNum(dom: DomainRef, flags: number): Promise<number> {
    checkFlags(flags, 0x7ff, 'testDomainSnapshotNum', T);
    this.#node.domainFromRef(dom);
    return 0;
  }

  async domainGetSecurityLabel(dom: DomainRef): Promise<SecurityLabel> {
    const obj = this.#node.domainFromRef(dom);
    return this.#node.isActive(obj) ? { label: 'libvirt-test', enforcing: true } : { label: '', enforcing: false };
  }

  async domainGetMessages(dom: DomainRef, flags: number): Promise<string[]> {
    checkFlags(flags, 3, 'testDomainGetMessages', T);
    this.#node.domainFromRef(dom);
    return [];
  }

  async domainInterfaceAddresses(dom: DomainRef, source: number, flags: number): Promise<DomainInterfaceAddresses[]> {
    checkFlags(flags, 0, 'testDomainInterfaceAddresses', T);
    if (source >= 3) {
      throw virtError(ErrorNumber.ARGUMENT_UNSUPPORTED, T, `Unknown IP address data source ${source}`);
    }
    const node = this.#node;
    const obj = node.domainFromRef(dom);
    if (!node.isActive(obj)) throw notRunning();
    return domainNets(obj.def).map((net, i) => {
      if (net.type !== 'network') {
        return { name: net.ifname ?? '', hwaddr: net.mac ?? null, addrs: [{ type: 0, addr: `192.168.0.${1 + i}`, prefix: 24 }] };
      }
      const netObj = node.networkByName(net.network ?? '');
      const where = networkAddressBase(netObj.def);
      // Different addresses per interface and per domain, as libvirt's test driver makes them up.
      const offset = 20 * (obj.id - 1) + i + 1;
      const addr = where ? offsetAddress(where.base, offset, where.ipv6) : '';
      const type = where?.ipv6 ? 1 : 0;
      return { name: net.ifname ?? '', hwaddr: net.mac ?? null, addrs: [{ type, addr, prefix: where?.prefix ?? 0 }] };
    });
  }

  // ---- domains: devices ----

  async domainAttachDeviceFlags(_dom: DomainRef, _xml: string, _flags: number): Promise<void> {
    throw unsupported('virDomainAttachDeviceFlags', ErrorDomain.DOMAIN);
  }

  async domainDetachDeviceFlags(_dom: DomainRef, _xml: string, _flags: number): Promise<void> {
    throw unsupported('virDomainDetachDeviceFlags', ErrorDomain.DOMAIN);
  }

  async domainUpdateDeviceFlags(_dom: DomainRef, _xml: string, _flags: number): Promise<void> {
    throw unsupported('virDomainUpdateDeviceFlags', ErrorDomain.DOMAIN);
  }

  async domainSetInterfaceParameters(dom: DomainRef, device: string, params: TypedParam[], flags: number): Promise<void> {
    checkFlags(flags, DomainModificationImpact.LIVE | DomainModificationImpact.CONFIG, 'testDomainSetInterfaceParameters', T);
    checkBandwidthParams(params);
    const net = findDomainNet(this.#oneDef(this.#node.domainFromRef(dom), flags), device);
    const next = mergeBandwidthParams(net.bandwidth, params);
    if (next) net.bandwidth = next;
    else delete net.bandwidth;
  }

  async domainGetInterfaceParameters(dom: DomainRef, device: string, flags: number): Promise<TypedParam[]> {
    checkFlags(
      flags,
      DomainModificationImpact.LIVE | DomainModificationImpact.CONFIG | TypedParameterFlags.STRING_OKAY,
      'testDomainGetInterfaceParameters',
      T,
    );
    const obj = this.#node.domainFromRef(dom);
    return bandwidthToParams(findDomainNet(this.#oneDef(obj, flags & ~TypedParameterFlags.STRING_OKAY), device).bandwidth);
  }

  async domainOpenConsole(_dom: DomainRef, _devName: string | null, _flags: number): Promise<Duplex> {
    throw unsupported('virDomainOpenConsole', ErrorDomain.DOMAIN);
  }

  // ---- networks ----

  async listAllNetworks(flags: number): Promise<NetworkRef[]> {
    checkFlags(flags, ALL_NETWORK_LIST_FLAGS, 'testConnectListAllNetworks', T);
    return [...this.#node.networks.values()].filter((n) => networkMatchesListFlags(flags, n)).map((n) => this.#node.networkRef(n));
  }

  async numOfNetworks(): Promise<number> {
    return [...this.#node.networks.values()].filter((n) => n.active).length;
  }

  async listNetworks(maxnames: number): Promise<string[]> {
    return [...this.#node.networks.values()].filter((n) => n.active).map((n) => n.def.name).slice(0, Math.max(0, maxnames));
  }

  async numOfDefinedNetworks(): Promise<number> {
    return [...this.#node.networks.values()].filter((n) => !n.active).length;
  }

  async listDefinedNetworks(maxnames: number): Promise<string[]> {
    return [...this.#node.networks.values()].filter((n) => !n.active).map((n) => n.def.name).slice(0, Math.max(0, maxnames));
  }

  async networkLookupByName(name: string): Promise<NetworkRef> {
    return this.#node.networkRef(this.#node.networkByName(name));
  }

  async networkLookupByUUID(uuid: string): Promise<NetworkRef> {
    return this.#node.networkRef(this.#node.networkByUUID(uuid.toLowerCase()));
  }

  async networkDefineXML(xml: string, flags: number): Promise<NetworkRef> {
    checkFlags(flags, NetworkDefineFlags.VALIDATE, 'testNetworkDefineXMLFlags', T);
    const node = this.#node;
    const def = parseNetworkDef(xml, { validate: (flags & NetworkDefineFlags.VALIDATE) !== 0 });
    const existing = node.networkForDef(def, false);
    let obj: NetworkObj;
    if (existing) {
      obj = existing;
      if (obj.active) obj.newDef = def;
      else obj.def = def;
      obj.persistent = true;
    } else {
      obj = { def, newDef: null, active: false, persistent: true, autostart: false };
      node.networks.set(def.uuid, obj);
    }
    node.networkLifecycle(obj, NetworkEventLifecycleType.DEFINED);
    return node.networkRef(obj);
  }

  async networkCreateXML(xml: string, flags: number): Promise<NetworkRef> {
    checkFlags(flags, NetworkCreateFlags.VALIDATE, 'testNetworkCreateXMLFlags', T);
    const node = this.#node;
    const def = parseNetworkDef(xml, { validate: (flags & NetworkCreateFlags.VALIDATE) !== 0 });
    const existing = node.networkForDef(def, true);
    let obj: NetworkObj;
    if (existing) {
      obj = existing;
      obj.newDef = obj.def;
      obj.def = def;
    } else {
      obj = { def, newDef: null, active: false, persistent: false, autostart: false };
      node.networks.set(def.uuid, obj);
    }
    obj.active = true;
    node.networkLifecycle(obj, NetworkEventLifecycleType.STARTED);
    return node.networkRef(obj);
  }

  async networkUndefine(net: NetworkRef): Promise<void> {
    const node = this.#node;
    const obj = node.networkByName(net.name);
    if (obj.active) {
      throw virtError(ErrorNumber.OPERATION_INVALID, T, `Network '${net.name}' is still running`, { object: net.name });
    }
    node.emitNetwork({ eventId: 0, net: { name: net.name, uuid: net.uuid }, event: NetworkEventLifecycleType.UNDEFINED, detail: 0 });
    node.networks.delete(obj.def.uuid);
  }

  async networkCreate(net: NetworkRef): Promise<void> {
    const node = this.#node;
    const obj = node.networkByName(net.name);
    if (obj.active) {
      throw virtError(ErrorNumber.OPERATION_INVALID, T, `Network '${net.name}' is already running`, { object: net.name });
    }
    obj.active = true;
    node.networkLifecycle(obj, NetworkEventLifecycleType.STARTED);
  }

  async networkDestroy(net: NetworkRef): Promise<void> {
    // libvirt's test driver stops a network without checking that it runs.
    const node = this.#node;
    const obj = node.networkByName(net.name);
    // Nor does it bring a pending persistent definition back: the running one stays (libvirt 9.0).
    obj.active = false;
    node.networkLifecycle(obj, NetworkEventLifecycleType.STOPPED);
    if (!obj.persistent) node.networks.delete(obj.def.uuid);
  }

  async networkGetXMLDesc(net: NetworkRef, flags: number): Promise<string> {
    checkFlags(flags, 0, 'testNetworkGetXMLDesc', T);
    return formatNetworkDef(this.#node.networkByName(net.name).def);
  }

  async networkGetBridgeName(net: NetworkRef): Promise<string> {
    const obj = this.#node.networkByName(net.name);
    const br = obj.def.bridge?.name;
    if (!br) {
      throw virtError(ErrorNumber.INTERNAL_ERROR, T, `network '${obj.def.name}' does not have a bridge name.`, { object: obj.def.name });
    }
    return br;
  }

  async networkGetAutostart(net: NetworkRef): Promise<boolean> {
    return this.#node.networkByName(net.name).autostart;
  }

  async networkSetAutostart(net: NetworkRef, autostart: boolean): Promise<void> {
    this.#node.networkByName(net.name).autostart = autostart;
  }

  async networkIsActive(net: NetworkRef): Promise<boolean> {
    return this.#node.networkByUUID(net.uuid).active;
  }

  async networkIsPersistent(net: NetworkRef): Promise<boolean> {
    return this.#node.networkByUUID(net.uuid).persistent;
  }

  async networkGetDHCPLeases(_net: NetworkRef, _mac: string | null, _flags: number): Promise<NetworkDHCPLease[]> {
    throw unsupported('virNetworkGetDHCPLeases', ErrorDomain.NETWORK);
  }

  // ---- storage pools ----

  async listAllStoragePools(flags: number): Promise<StoragePoolRef[]> {
    checkFlags(flags, ALL_POOL_LIST_FLAGS, 'testConnectListAllStoragePools', T);
    return [...this.#node.pools.values()].filter((p) => poolMatchesListFlags(flags, p)).map((p) => ({ name: p.name, uuid: p.uuid }));
  }

  // ---- events ----

  async domainEventRegisterAny(dom: DomainRef | null, eventId: number, cb: DomainEventCallback): Promise<number> {
    // libvirt filters by UUID without looking the domain up: one defined later still matches.
    return this.#events.domainRegister(dom, eventId, cb);
  }

  async domainEventDeregisterAny(callbackId: number): Promise<void> {
    this.#events.domainDeregister(callbackId);
  }

  async networkEventRegisterAny(net: NetworkRef | null, eventId: number, cb: NetworkEventCallback): Promise<number> {
    return this.#events.networkRegister(net, eventId, cb);
  }

  async networkEventDeregisterAny(callbackId: number): Promise<void> {
    this.#events.networkDeregister(callbackId);
  }
}

/** An address plus a small offset: IPv4 as a 32-bit number, IPv6 on its last byte (as libvirt). */
function offsetAddress(base: string, offset: number, ipv6: boolean): string {
  if (!ipv6) {
    const n = (base.split('.').reduce((a, o) => a * 256 + Number(o), 0) + offset) >>> 0;
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }
  const [head, tail = ''] = base.split('::');
  const groups = [...(head ? head.split(':') : []), ...Array(8).fill('0')].slice(0, 8);
  if (base.includes('::')) {
    const t = tail ? tail.split(':') : [];
    groups.splice(8 - t.length, t.length, ...t);
  }
  const last = parseInt(groups[7] || '0', 16);
  groups[7] = ((last & 0xff00) | ((last + offset) & 0xff)).toString(16);
  return groups.map((g) => parseInt(g || '0', 16).toString(16)).join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** Opens a test:/// connection (path '/default' or an absolute node file). */
export function openTestDriver(uri: ConnectURI): TestDriver {
  if (uri.path === '' || uri.path === '/') {
    throw virtError(ErrorNumber.INVALID_ARG, T, 'testOpen: supply a path or use test:///default');
  }
  const node = acquireNode(uri.path);
  return new TestDriver(node, uri);
}


