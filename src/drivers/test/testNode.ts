// The in-memory "host" behind test:/// connections: its domains, networks and pools, the next
// domain id, and the event fan-out to every connection open on it. As in libvirt, all
// test:///default connections of one process share one node while any of them is open (an event
// caused on one is seen on the others); the node is dropped when the last one closes, so the next
// connection starts fresh. Every test:///FILE connection gets a node of its own.
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { checkDomainAssignDef } from '../../conf/domain/domainAssignDef.js';
import { checkNetworkAssignDef } from '../../conf/network/networkAssignDef.js';
import { DomainState } from '../constants.js';
import type { DomainEvent, DomainRef, NetworkEvent, NetworkRef, NodeInfo } from '../driver.js';
import type { EventBroker } from '../events.js';
import {
  copyDomainDef,
  parseDomainDef,
  summarizeDomainDef,
  type DomainDef,
} from './domainConf.js';
import { generateTestIfnames } from './domainDefaults.js';
import { parseNetworkDef, type NetworkDef } from './networkConf.js';
import { defaultNodeXML } from './defaultNode.js';
import { parseNodeXML, readNodeFile, type NodeSpec } from './nodeFile.js';

export interface DomainObj {
  /** The running definition while active, the persistent one otherwise. */
  def: DomainDef;
  /** The persistent definition while a persistent domain runs (libvirt's newDef). */
  newDef: DomainDef | null;
  id: number;
  state: number;
  reason: number;
  persistent: boolean;
  autostart: boolean;
  hasManagedSave: boolean;
}

export interface NetworkObj {
  def: NetworkDef;
  /** The persistent definition while a persistent network runs with another live one. */
  newDef: NetworkDef | null;
  active: boolean;
  persistent: boolean;
  autostart: boolean;
}

export interface PoolObj {
  name: string;
  uuid: string;
  type: string;
  active: boolean;
  persistent: boolean;
  autostart: boolean;
}

export class TestNode {
  readonly nodeInfo: NodeInfo;
  /** NUMA cells in the capabilities: 2 for test:///default, none for node files (as libvirt). */
  readonly numCells: number;
  /** Insertion-ordered; keyed by UUID. */
  readonly domains = new Map<string, DomainObj>();
  readonly networks = new Map<string, NetworkObj>();
  readonly pools = new Map<string, PoolObj>();
  private nextDomID = 1;
  private readonly brokers = new Set<EventBroker>();
  /** Open connections on this node. */
  refs = 0;

  private constructor(spec: NodeSpec, numCells: number) {
    this.nodeInfo = spec.nodeInfo;
    this.numCells = numCells;
    for (const d of spec.domains) {
      const def = parseDomainDef(d.xml);
      generateTestIfnames(def);
      const obj = this.addDomain(def, false);
      obj.persistent = !d.transient;
      obj.hasManagedSave = d.hasManagedSave;
      if (d.runstate !== DomainState.SHUTOFF) this.startState(obj, 0);
      obj.state = d.runstate;
      obj.reason = 0;
    }
    for (const xml of spec.networks) {
      const def = parseNetworkDef(xml);
      this.networks.set(def.uuid, { def, newDef: null, active: true, persistent: true, autostart: false });
    }
    for (const p of spec.pools) this.pools.set(p.uuid, { ...p, active: true, persistent: true, autostart: false });
  }

  static fromDefault(): TestNode {
    return new TestNode(parseNodeXML(defaultNodeXML, null), 2);
  }

  static fromFile(path: string): TestNode {
    return new TestNode(readNodeFile(path), 0);
  }

  // ---- events ----

  attach(broker: EventBroker): void {
    this.brokers.add(broker);
  }

  detach(broker: EventBroker): void {
    this.brokers.delete(broker);
  }

  emitDomain(ev: DomainEvent): void {
    for (const b of this.brokers) b.emitDomain(ev);
  }

  emitNetwork(ev: NetworkEvent): void {
    for (const b of this.brokers) b.emitNetwork(ev);
  }

  lifecycle(obj: DomainObj, event: number, detail: number, id = obj.id): void {
    this.emitDomain({ eventId: 0, dom: { name: obj.def.name, uuid: obj.def.uuid, id }, event, detail });
  }

  networkLifecycle(obj: NetworkObj, event: number, detail = 0): void {
    this.emitNetwork({ eventId: 0, net: { name: obj.def.name, uuid: obj.def.uuid }, event, detail });
  }

  // ---- domains ----

  domainRef(obj: DomainObj): DomainRef {
    return { name: obj.def.name, uuid: obj.def.uuid, id: obj.id };
  }

  isActive(obj: DomainObj): boolean {
    return obj.id !== -1;
  }

  findDomainByName(name: string): DomainObj | undefined {
    for (const d of this.domains.values()) if (d.def.name === name) return d;
    return undefined;
  }

  findDomainByID(id: number): DomainObj | undefined {
    for (const d of this.domains.values()) if (d.id === id && id !== -1) return d;
    return undefined;
  }

  /** The object a handle names, looked up by UUID as libvirt does. */
  domainFromRef(ref: DomainRef): DomainObj {
    const obj = this.domains.get(ref.uuid);
    if (!obj) {
      throw virtError(ErrorNumber.NO_DOMAIN, ErrorDomain.TEST, `no domain with matching uuid '${ref.uuid}' (${ref.name})`, {
        object: ref.name,
      });
    }
    return obj;
  }

  /** A new shut-off domain object (caller has checked for clashes). */
  addDomain(def: DomainDef, persistent: boolean): DomainObj {
    const obj: DomainObj = {
      def,
      newDef: null,
      id: -1,
      state: DomainState.SHUTOFF,
      reason: 0,
      persistent,
      autostart: false,
      hasManagedSave: false,
    };
    this.domains.set(def.uuid, obj);
    return obj;
  }

  removeDomain(obj: DomainObj): void {
    this.domains.delete(obj.def.uuid);
  }

  /**
   * The existing object a new definition would replace, after libvirt's clash checks
   * (virDomainObjListAdd): same UUID with another name, or same name with another UUID, is an
   * error; `live` adds the checks of starting it (not already running or being started).
   */
  domainForDef(def: DomainDef, live: boolean): DomainObj | undefined {
    return checkDomainAssignDef(
      def,
      live,
      (u) => this.domains.get(u),
      (n) => this.findDomainByName(n),
      (o) => ({ name: o.def.name, uuid: o.def.uuid, active: this.isActive(o), persistent: o.persistent }),
    );
  }

  /** Running: a fresh id, and a persistent copy of the definition kept aside (newDef). */
  startState(obj: DomainObj, reason: number): void {
    obj.state = DomainState.RUNNING;
    obj.reason = reason;
    obj.id = this.nextDomID++;
    if (obj.persistent && !obj.newDef) obj.newDef = copyDomainDef(obj.def);
    obj.hasManagedSave = false;
  }

  /**
   * Shut off: the persistent definition comes back; returns the id the stop event carries
   * (libvirt's is that of the definition left: -1 once the persistent one is back).
   */
  shutdownState(obj: DomainObj, reason: number): number {
    let eventId = obj.id;
    if (obj.newDef) {
      obj.def = obj.newDef;
      obj.newDef = null;
      eventId = -1;
    }
    obj.state = DomainState.SHUTOFF;
    obj.reason = reason;
    obj.id = -1;
    return eventId;
  }

  summary(obj: DomainObj) {
    return summarizeDomainDef(obj.def);
  }

  // ---- networks ----

  networkRef(obj: NetworkObj): NetworkRef {
    return { name: obj.def.name, uuid: obj.def.uuid };
  }

  findNetworkByName(name: string): NetworkObj | undefined {
    for (const n of this.networks.values()) if (n.def.name === name) return n;
    return undefined;
  }

  networkByName(name: string): NetworkObj {
    const obj = this.findNetworkByName(name);
    if (!obj) throw virtError(ErrorNumber.NO_NETWORK, ErrorDomain.TEST, `no network with matching name '${name}'`, { object: name });
    return obj;
  }

  networkByUUID(uuid: string): NetworkObj {
    const obj = this.networks.get(uuid);
    if (!obj) throw virtError(ErrorNumber.NO_NETWORK, ErrorDomain.TEST, `no network with matching uuid '${uuid}'`, { value: uuid });
    return obj;
  }

  /** virNetworkObjAssignDef's checks; returns the object the definition replaces. */
  networkForDef(def: NetworkDef, live: boolean): NetworkObj | undefined {
    return checkNetworkAssignDef(def, live, (u) => this.networks.get(u), (n) => this.findNetworkByName(n));
  }
}

// ---- the shared default node ----

let defaultNode: TestNode | null = null;

/** The node for a test:/// path: the shared default one, or a fresh one read from a file. */
export function acquireNode(path: string): TestNode {
  if (path === '/default') {
    defaultNode ??= TestNode.fromDefault();
    defaultNode.refs++;
    return defaultNode;
  }
  const node = TestNode.fromFile(path);
  node.refs++;
  return node;
}

export function releaseNode(node: TestNode): void {
  node.refs--;
  if (node.refs <= 0 && node === defaultNode) defaultNode = null;
}
