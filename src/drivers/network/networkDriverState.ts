// The network driver's state for one pair of directories in one process (libvirt's
// virNetworkDriverState): the networks (persistent configs, live definitions of running ones,
// autostart flags), their host side, their ports, and the lifecycle events, shared by every
// connection that uses these directories. Connections talk to it through NetworkDriver
// (networkDriver.ts); the QEMU driver allocates and releases ports directly.
//
// Files (DESIGN.md):
//   <configDir>/qemu/networks/NAME.xml              persistent config
//   <configDir>/qemu/networks/autostart/NAME.xml    symlink: start with the daemon
//   <runDir>/network/NAME.xml                       status of a running network (<networkstatus>)
//   <runDir>/network/NAME.host.json                 what its start changed on the host
//   <runDir>/network/NAME.pid                       its dnsmasq
//   <runDir>/network/dnsmasq/NAME.{conf,hostsfile,addnhosts,leases}
//   <runDir>/network/NAME/ports/UUID.xml            its ports (<networkport>)
//   <runDir>/network/autostarted                    autostart already ran since boot
//   <runDir>/network/ip-forwarding.json             see ipForwarding.ts
// Every write is atomic. A process that opens these directories again (a restarted daemon)
// reads the status files and keeps the running networks as they are.
import { existsSync, promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { ErrorDomain, ErrorNumber, VirtError, fromSystemError, virtError } from '../../errors/index.js';
import { macAddrEqual, normalizeMacAddr, parseMacAddr } from '../../conf/macAddr.js';
import type { NetDevBandwidth } from '../../conf/netdevBandwidth.js';
import { checkNetDevVirtualPortComplete, mergeNetDevVirtualPorts } from '../../conf/netdevVirtualPort.js';
import {
  type NetworkDef,
  ensureNetworkBridgeMac,
  findPortGroup,
  formatNetworkXML,
  initialNetworkStatus,
  networkDriverNetworkDefaults,
  networkForwardMode,
  networkHasManagedBridge,
  parseNetworkXML,
} from '../../conf/network/index.js';
import { checkNetworkAssignDef } from '../../conf/network/networkAssignDef.js';
import { formatPciAddressText, pciAddressEqual, type PciAddress } from '../../conf/network/pciAddress.js';
import { ipPrefixOf, parseSocketAddr } from '../../conf/network/socketAddr.js';
import { formatUuid, generateUuid, normalizeUuid } from '../../conf/uuid.js';
import { writeFileAtomic } from '../../host/atomicFile.js';
import { NetDevBandwidth as Shaper } from '../../host/bandwidth.js';
import { ClassIdMap, type FloorNetwork, type FloorState, networkPlugFloor, networkUnplugFloor, networkUpdateFloor } from '../../host/bandwidthFloor.js';
import { listLinks } from '../../host/link.js';
import { RtNetlink } from '../../host/netlink.js';
import { SYSCTL_ROOT } from '../../host/sysctl.js';
import { SysfsRoot } from '../../host/sysfs.js';
import { Tc } from '../../host/tc.js';
import { NetworkEventLifecycleType } from '../constants.js';
import type { NetworkDHCPLease, NetworkEvent, NetworkRef } from '../driver.js';
import type { EventBroker } from '../events.js';
import { type CommandRunner, spawnCommandRunner } from './commandRunner.js';
import { type DnsmasqPaths, networkNeedsDnsmasq, parseDnsmasqLeases } from './dnsmasq.js';
import { NetworkFirewall, firewallTableName } from './firewall.js';
import { IpForwarding } from './ipForwarding.js';
import {
  type DirectMode,
  type NetworkPort,
  type NetworkPortPlug,
  type NetworkPortRequest,
  formatNetworkPortXML,
  parseNetworkPortXML,
} from './networkPort.js';
import {
  type NetworkDriverHost,
  type NetworkHostRecord,
  createsBridge,
  expandInterfacePool,
  refreshNetworkHost,
  startNetworkHost,
  stopNetworkHost,
  usesHostBridge,
} from './virtualNetwork.js';

const NET = ErrorDomain.NETWORK;

export interface NetworkDriverStateOptions {
  /** <configDir>/qemu/networks holds the persistent configs. */
  configDir: string;
  /** <runDir>/network holds the status of running networks. */
  runDir: string;
  /** May change the host's network (default: running as root). Unprivileged = session mode. */
  privileged?: boolean;
  netlink?: RtNetlink;
  /** sysfs root (the VFs of a <pf> pool, VF checks of hostdev pools). Default /sys. */
  sysfs?: SysfsRoot;
  /** tc shaping; default a NetDevBandwidth on the `tc` binary. */
  bandwidth?: Shaper;
  firewall?: NetworkFirewall;
  /** dnsmasq binary; default /usr/sbin/dnsmasq. */
  dnsmasqBinary?: string;
  /** runs nft and dnsmasq (tests wrap it to record argv). */
  runner?: CommandRunner;
  sysctlRoot?: string;
  /** Start autostart networks when the state is opened (once per boot). Default true. */
  autostart?: boolean;
  /** Non-fatal problems (libvirt's VIR_WARN). Default process.emitWarning. */
  warn?: (message: string) => void;
}

/** One network (libvirt's virNetworkObj). */
interface NetworkObj {
  /** the live definition while active, else the persistent one */
  def: NetworkDef;
  /** while active: the persistent definition to use after the stop */
  newDef?: NetworkDef;
  persistent: boolean;
  active: boolean;
  autostart: boolean;
  floor: FloorState;
  host: NetworkHostRecord;
  ports: Map<string, NetworkPort>;
  /** connections per entry of def.forward.address (hostdev pools) */
  addressConnections: number[];
}

const clone = <T>(v: T): T => structuredClone(v);

/** libvirt's errors for a network handle that no longer resolves. */
function noNetworkByRef(ref: NetworkRef): VirtError {
  return virtError(ErrorNumber.NO_NETWORK, NET, `no network with matching uuid '${ref.uuid}' (${ref.name})`, { object: ref.name, value: ref.uuid });
}

function notActive(name: string): VirtError {
  return virtError(ErrorNumber.OPERATION_INVALID, NET, `network '${name}' is not active`, { object: name });
}

function fileHeader(name: string): string {
  return (
    '<!--\n' +
    'tsvirt: generated file, rewritten whenever the network changes. Change the network with\n' +
    `  virsh net-edit ${name}\n` +
    'or another program using the libvirt API, not by editing this file.\n' +
    '-->\n\n'
  );
}

/** Removes the comment a state or config file starts with (libvirt's and tsvirt's). */
function stripComment(xml: string): string {
  return xml.replace(/^\s*<!--[\s\S]*?-->\s*/, '');
}

/**
 * What the start of a running network must have changed, for a status file without its host
 * record (written by another program, e.g. libvirtd, or a record that was lost).
 */
function deriveHostRecord(def: NetworkDef): NetworkHostRecord {
  const r: NetworkHostRecord = {};
  const bridge = def.bridge?.name;
  if (createsBridge(def) && bridge) {
    r.createdBridge = bridge;
    if (networkForwardMode(def) !== 'open') r.firewallTable = firewallTableName(bridge);
    if (networkNeedsDnsmasq(def)) r.dnsmasq = true;
  }
  if ((createsBridge(def) || usesHostBridge(def)) && bridge && def.bandwidth) r.bandwidthOn = bridge;
  return r;
}

const registry = new Map<string, { state: NetworkDriverState; refs: number }>();

/** A simple FIFO lock: operations that change networks run one at a time. */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

export class NetworkDriverState {
  readonly configDir: string;
  readonly runDir: string;
  readonly networkConfigDir: string;
  readonly autostartDir: string;
  readonly stateDir: string;
  readonly dnsmasqDir: string;
  readonly privileged: boolean;
  readonly host: NetworkDriverHost;
  private readonly options: NetworkDriverStateOptions;
  private readonly nets = new Map<string, NetworkObj>();
  private readonly brokers = new Set<EventBroker>();
  private readonly queue = new SerialQueue();
  private initialized = false;

  /**
   * The state of these directories in this process, created and loaded on first use. Each open()
   * must be matched by a release().
   */
  static async open(options: NetworkDriverStateOptions): Promise<NetworkDriverState> {
    const key = `${options.configDir}\0${options.runDir}`;
    const entry = registry.get(key);
    if (entry) {
      entry.refs++;
      return entry.state;
    }
    const state = new NetworkDriverState(options);
    registry.set(key, { state, refs: 1 });
    try {
      await state.initialize();
    } catch (err) {
      registry.delete(key);
      throw err;
    }
    return state;
  }

  /** Drops one reference; the last one forgets the state (networks keep running). */
  release(): void {
    const key = `${this.configDir}\0${this.runDir}`;
    const entry = registry.get(key);
    if (!entry || entry.state !== this) return;
    if (--entry.refs <= 0) registry.delete(key);
  }

  constructor(options: NetworkDriverStateOptions) {
    this.options = options;
    this.configDir = options.configDir;
    this.runDir = options.runDir;
    this.networkConfigDir = join(options.configDir, 'qemu', 'networks');
    this.autostartDir = join(this.networkConfigDir, 'autostart');
    this.stateDir = join(options.runDir, 'network');
    this.dnsmasqDir = join(this.stateDir, 'dnsmasq');
    this.privileged = options.privileged ?? process.geteuid?.() === 0;
    const warn = options.warn ?? ((m: string) => process.emitWarning(m, 'TsvirtWarning'));
    const runner = options.runner ?? spawnCommandRunner();
    const sysctlRoot = options.sysctlRoot ?? SYSCTL_ROOT;
    this.host = {
      netlink: options.netlink ?? new RtNetlink(),
      sysfs: options.sysfs ?? new SysfsRoot('/sys'),
      bandwidth: options.bandwidth ?? new Shaper({ tc: new Tc({ warn }), privileged: this.privileged }),
      firewall: options.firewall ?? new NetworkFirewall({ runner }),
      forwarding: new IpForwarding(join(this.stateDir, 'ip-forwarding.json'), sysctlRoot),
      dnsmasq: { binary: options.dnsmasqBinary, runner },
      sysctlRoot,
      privileged: this.privileged,
      warn,
    };
  }

  // ---- loading -------------------------------------------------------------------------------

  /** Reads configs and status files, checks running networks against the host, autostarts. */
  async initialize(): Promise<void> {
    if (this.initialized) return;
    this.initialized = true;
    for (const d of [this.networkConfigDir, this.stateDir, this.dnsmasqDir]) {
      try {
        await fs.mkdir(d, { recursive: true, mode: 0o755 });
      } catch (err) {
        throw fromSystemError(err, NET, `cannot create directory ${d}`, { object: d });
      }
    }
    await this.checkDnsmasqDirReachable();
    await this.loadStatus();
    await this.loadConfigs();
    for (const obj of [...this.nets.values()]) if (obj.active) await this.updateState(obj);
    await this.host.forwarding.load([...this.nets.values()].filter((o) => o.active).map((o) => o.def.name));
    if (this.options.autostart !== false) await this.autostartAll();
  }

  /**
   * dnsmasq drops to an unprivileged user before it reads its hosts files (and on every reload),
   * so every directory above them must be searchable by others; warn once when it is not.
   */
  private async checkDnsmasqDirReachable(): Promise<void> {
    if (!this.privileged) return;
    for (let d = this.dnsmasqDir; ; d = dirname(d)) {
      try {
        if (((await fs.stat(d)).mode & 0o001) === 0) {
          this.host.warn(`'${d}' is not searchable by others: dnsmasq (running unprivileged) cannot read the DHCP host and DNS host files of networks`);
          return;
        }
      } catch {
        return;
      }
      if (dirname(d) === d) return;
    }
  }

  private async readDir(dir: string): Promise<string[]> {
    try {
      return (await fs.readdir(dir)).sort();
    } catch {
      return [];
    }
  }

  private async loadStatus(): Promise<void> {
    for (const f of await this.readDir(this.stateDir)) {
      if (!f.endsWith('.xml')) continue;
      const name = f.slice(0, -4);
      try {
        const xml = await fs.readFile(join(this.stateDir, f), 'utf8');
        const def = parseNetworkXML(stripComment(xml), { status: true, dnsmasqNamespace: true });
        if (def.name !== name) throw new Error(`status file ${f} holds network '${def.name}'`);
        const status = def.status ?? initialNetworkStatus();
        const obj: NetworkObj = {
          def,
          persistent: false,
          active: true,
          autostart: false,
          floor: { classIds: new ClassIdMap(status.classId), floorSum: status.floorSum },
          host: (await this.readHostRecord(name)) ?? deriveHostRecord(def),
          ports: new Map(),
          addressConnections: [],
        };
        this.nets.set(def.uuid, obj);
      } catch (err) {
        this.host.warn(`cannot read network status file ${f}: ${(err as Error).message}`);
      }
    }
  }

  private async readHostRecord(name: string): Promise<NetworkHostRecord | undefined> {
    try {
      return JSON.parse(await fs.readFile(this.hostRecordFile(name), 'utf8')) as NetworkHostRecord;
    } catch {
      return undefined;
    }
  }

  private async loadConfigs(): Promise<void> {
    for (const f of await this.readDir(this.networkConfigDir)) {
      if (!f.endsWith('.xml')) continue;
      const name = f.slice(0, -4);
      try {
        const xml = await fs.readFile(join(this.networkConfigDir, f), 'utf8');
        const def = parseNetworkXML(stripComment(xml), { dnsmasqNamespace: true });
        if (def.name !== name) {
          throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, NET, `Network config filename '${join(this.networkConfigDir, f)}' does not match network name '${def.name}'`);
        }
        // libvirt gives a managed bridge a MAC (and a network a UUID) and saves the config.
        let resave = !def.uuidSpecified;
        if (networkHasManagedBridge(def) && !def.mac) {
          ensureNetworkBridgeMac(def);
          resave = true;
        }
        def.uuidSpecified = true;
        const existing = this.nets.get(def.uuid);
        if (existing) {
          if (existing.def.name !== def.name) throw new Error(`UUID ${def.uuid} is used by network '${existing.def.name}' too`);
          existing.newDef = def;
          existing.persistent = true;
        } else {
          if (this.findByName(def.name)) throw new Error(`network '${def.name}' is loaded already with another UUID`);
          this.nets.set(def.uuid, this.newObj(def, true));
        }
        const obj = this.nets.get(def.uuid)!;
        obj.autostart = existsSync(join(this.autostartDir, f));
        if (resave) await this.saveConfig(def);
      } catch (err) {
        this.host.warn(`cannot load network config ${f}: ${(err as Error).message}`);
      }
    }
  }

  private newObj(def: NetworkDef, persistent: boolean): NetworkObj {
    return {
      def,
      persistent,
      active: false,
      autostart: false,
      floor: { classIds: new ClassIdMap(), floorSum: 0n },
      host: {},
      ports: new Map(),
      addressConnections: [],
    };
  }

  /** A network found running in the status files: still there? Then take its ports back. */
  private async updateState(obj: NetworkObj): Promise<void> {
    let alive = false;
    try {
      alive = await refreshNetworkHost(this.host, obj.def, obj.host, this.dnsmasqPaths(obj.def.name));
    } catch (err) {
      this.host.warn(`network '${obj.def.name}': ${(err as Error).message}`);
      alive = true;
    }
    if (!alive) {
      this.host.warn(`network '${obj.def.name}' is no longer running on the host (its bridge is gone)`);
      await stopNetworkHost(this.host, obj.def, obj.host, this.dnsmasqPaths(obj.def.name));
      await this.markStopped(obj);
      if (!obj.persistent) await this.removeInactive(obj);
      return;
    }
    const dir = this.portDir(obj.def.name);
    for (const f of await this.readDir(dir)) {
      if (!f.endsWith('.xml')) continue;
      try {
        const port = parseNetworkPortXML(stripComment(await fs.readFile(join(dir, f), 'utf8')), obj.def.name, obj.def.uuid);
        obj.ports.set(port.uuid, port);
      } catch (err) {
        this.host.warn(`cannot read network port file ${join(dir, f)}: ${(err as Error).message}`);
      }
    }
    this.recountConnections(obj);
  }

  /** Connection counters (live XML) from the ports. */
  private recountConnections(obj: NetworkObj): void {
    const fwd = obj.def.forward;
    for (const i of fwd?.interface ?? []) delete i.connections;
    obj.addressConnections = (fwd?.address ?? []).map(() => 0);
    obj.def.connections = 0;
    for (const p of obj.ports.values()) {
      obj.def.connections++;
      if (p.plug.type === 'direct') {
        const dev = p.plug.dev;
        const i = fwd?.interface.find((x) => x.dev === dev);
        if (i) i.connections = (i.connections ?? 0) + 1;
      } else if (p.plug.type === 'hostdev-pci') {
        const addr = p.plug.address;
        const k = fwd?.address.findIndex((a) => pciAddressEqual(a, addr)) ?? -1;
        if (k >= 0) obj.addressConnections[k]!++;
      }
    }
    if (!obj.def.connections) delete obj.def.connections;
  }

  private async autostartAll(): Promise<void> {
    const marker = join(this.stateDir, 'autostarted');
    if (existsSync(marker)) return;
    await writeFileAtomic(marker, '', 0o600);
    for (const obj of [...this.nets.values()].sort((a, b) => a.def.name.localeCompare(b.def.name))) {
      if (!obj.autostart || obj.active) continue;
      try {
        await this.queue.run(() => this.startNetwork(obj));
        this.emitLifecycle(obj, NetworkEventLifecycleType.STARTED);
      } catch (err) {
        this.host.warn(`Failed to autostart network '${obj.def.name}': ${(err as Error).message}`);
      }
    }
  }

  // ---- paths and persistence -----------------------------------------------------------------

  private configFile(name: string): string {
    return join(this.networkConfigDir, `${name}.xml`);
  }
  private autostartLink(name: string): string {
    return join(this.autostartDir, `${name}.xml`);
  }
  private statusFile(name: string): string {
    return join(this.stateDir, `${name}.xml`);
  }
  private hostRecordFile(name: string): string {
    return join(this.stateDir, `${name}.host.json`);
  }
  private portDir(name: string): string {
    return join(this.stateDir, name, 'ports');
  }

  /** dnsmasq's files for network `name`. */
  dnsmasqPaths(name: string): DnsmasqPaths {
    return {
      conf: join(this.dnsmasqDir, `${name}.conf`),
      hostsFile: join(this.dnsmasqDir, `${name}.hostsfile`),
      addnHostsFile: join(this.dnsmasqDir, `${name}.addnhosts`),
      leaseFile: join(this.dnsmasqDir, `${name}.leases`),
      pidFile: join(this.stateDir, `${name}.pid`),
    };
  }

  private async saveConfig(def: NetworkDef): Promise<void> {
    const path = this.configFile(def.name);
    try {
      await writeFileAtomic(path, fileHeader(def.name) + formatNetworkXML(def, { inactive: true }), 0o600);
    } catch (err) {
      throw fromSystemError(err, NET, `cannot save config file '${path}'`, { object: def.name });
    }
  }

  private async saveStatus(obj: NetworkObj): Promise<void> {
    obj.def.status = { classId: obj.floor.classIds.ids(), floorSum: obj.floor.floorSum, taint: obj.def.status?.taint ?? [] };
    const path = this.statusFile(obj.def.name);
    try {
      await writeFileAtomic(path, fileHeader(obj.def.name) + formatNetworkXML(obj.def, { status: true }), 0o600);
    } catch (err) {
      throw fromSystemError(err, NET, `cannot save status file '${path}'`, { object: obj.def.name });
    }
  }

  private async savePort(port: NetworkPort): Promise<void> {
    const dir = this.portDir(port.network);
    try {
      await fs.mkdir(dir, { recursive: true, mode: 0o755 });
      await writeFileAtomic(join(dir, `${port.uuid}.xml`), fileHeader(port.network) + formatNetworkPortXML(port), 0o600);
    } catch (err) {
      throw fromSystemError(err, NET, `cannot save network port file in '${dir}'`, { object: port.uuid });
    }
  }

  private async deletePortFile(network: string, uuid: string): Promise<void> {
    await fs.rm(join(this.portDir(network), `${uuid}.xml`), { force: true });
  }

  // ---- lookups -------------------------------------------------------------------------------

  private findByName(name: string): NetworkObj | undefined {
    for (const o of this.nets.values()) if (o.def.name === name) return o;
    return undefined;
  }

  private byName(name: string): NetworkObj {
    const obj = this.findByName(name);
    if (!obj) throw virtError(ErrorNumber.NO_NETWORK, NET, `no network with matching name '${name}'`, { object: name });
    return obj;
  }

  private byUUID(uuid: string): NetworkObj {
    const u = normalizeUuid(uuid) ?? uuid;
    const obj = this.nets.get(u);
    if (!obj) throw virtError(ErrorNumber.NO_NETWORK, NET, `no network with matching uuid '${uuid}'`, { value: uuid });
    return obj;
  }

  /** The network a handle names (by UUID, as libvirt's daemon resolves handles). */
  private byRef(ref: NetworkRef): NetworkObj {
    const obj = this.nets.get(normalizeUuid(ref.uuid) ?? ref.uuid);
    if (!obj) throw noNetworkByRef(ref);
    return obj;
  }

  private ref(obj: NetworkObj): NetworkRef {
    return { name: obj.def.name, uuid: obj.def.uuid };
  }

  /** Every network, as [ref, active, persistent, autostart], sorted by name. */
  list(): { ref: NetworkRef; active: boolean; persistent: boolean; autostart: boolean }[] {
    return [...this.nets.values()]
      .map((o) => ({ ref: this.ref(o), active: o.active, persistent: o.persistent, autostart: o.autostart }))
      .sort((a, b) => (a.ref.name < b.ref.name ? -1 : a.ref.name > b.ref.name ? 1 : 0));
  }

  lookupByName(name: string): NetworkRef {
    return this.ref(this.byName(name));
  }

  lookupByUUID(uuid: string): NetworkRef {
    return this.ref(this.byUUID(uuid));
  }

  isActive(ref: NetworkRef): boolean {
    return this.byRef(ref).active;
  }

  isPersistent(ref: NetworkRef): boolean {
    return this.byRef(ref).persistent;
  }

  getAutostart(ref: NetworkRef): boolean {
    return this.byRef(ref).autostart;
  }

  /** The XML of the live definition, or with `inactive` the persistent one. */
  getXMLDesc(ref: NetworkRef, inactive: boolean): string {
    const obj = this.byRef(ref);
    const def = inactive && obj.newDef ? obj.newDef : obj.def;
    return formatNetworkXML(def, { inactive });
  }

  getBridgeName(ref: NetworkRef): string {
    const obj = this.byRef(ref);
    const br = obj.def.bridge?.name;
    if (!br) {
      throw virtError(ErrorNumber.INTERNAL_ERROR, NET, `network '${obj.def.name}' does not have a bridge name.`, { object: obj.def.name });
    }
    return br;
  }

  // ---- events --------------------------------------------------------------------------------

  /** Lifecycle events go to this connection's broker until detachEvents. */
  attachEvents(broker: EventBroker): void {
    this.brokers.add(broker);
  }

  detachEvents(broker: EventBroker): void {
    this.brokers.delete(broker);
  }

  private emitLifecycle(obj: NetworkObj | NetworkRef, event: number): void {
    const net = 'def' in obj ? this.ref(obj) : obj;
    const ev: NetworkEvent = { eventId: 0, net, event, detail: 0 };
    for (const b of this.brokers) b.emitNetwork(ev);
  }

  // ---- define / undefine ---------------------------------------------------------------------

  /** networkValidate with this host's facts: bridge names in use, existing links, VFs. */
  private async validate(def: NetworkDef): Promise<void> {
    const links = this.privileged || networkHasManagedBridge(def) ? new Set((await listLinks(this.host.netlink)).map((l) => l.name)) : new Set<string>();
    const sysfs = this.host.sysfs;
    networkDriverNetworkDefaults.postParse(def, {
      bridgeInUse: (name) =>
        [...this.nets.values()].some((o) => o.def.name !== def.name && (o.def.bridge?.name === name || o.newDef?.bridge?.name === name)),
      netdevExists: (name) => links.has(name),
      virtualFunctionPath: (addr: PciAddress) => {
        const rel = `bus/pci/devices/${formatPciAddressText(addr)}`;
        return { path: sysfs.path(rel), isVirtualFunction: existsSync(sysfs.path(`${rel}/physfn`)) };
      },
    });
  }

  private assignCheck(def: NetworkDef, live: boolean): NetworkObj | undefined {
    return checkNetworkAssignDef(def, live, (u) => this.nets.get(u), (n) => this.findByName(n));
  }

  private parse(xml: string, validate: boolean): NetworkDef {
    return parseNetworkXML(xml, { validate, dnsmasqNamespace: true });
  }

  /** virNetworkDefineXMLFlags */
  async defineXML(xml: string, validate: boolean): Promise<NetworkRef> {
    const def = this.parse(xml, validate);
    return this.queue.run(async () => {
      await this.validate(def);
      def.uuidSpecified = true;
      const existing = this.assignCheck(def, false);
      await this.saveConfig(def);
      let obj: NetworkObj;
      if (existing) {
        obj = existing;
        if (obj.active) obj.newDef = def;
        else {
          obj.def = def;
          delete obj.newDef;
        }
        obj.persistent = true;
      } else {
        obj = this.newObj(def, true);
        this.nets.set(def.uuid, obj);
      }
      this.emitLifecycle(obj, NetworkEventLifecycleType.DEFINED);
      return this.ref(obj);
    });
  }

  /** virNetworkUndefine */
  async undefine(ref: NetworkRef): Promise<void> {
    return this.queue.run(async () => {
      const obj = this.byRef(ref);
      if (!obj.persistent) throw virtError(ErrorNumber.OPERATION_INVALID, NET, "can't undefine transient network", { object: obj.def.name });
      const name = obj.newDef?.name ?? obj.def.name;
      await this.removeAutostartLink(name);
      try {
        await fs.unlink(this.configFile(name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromSystemError(err, NET, `cannot remove config file '${this.configFile(name)}'`);
      }
      obj.autostart = false;
      this.emitLifecycle(obj, NetworkEventLifecycleType.UNDEFINED);
      if (!obj.active) await this.removeInactive(obj);
      else {
        obj.persistent = false;
        delete obj.newDef;
      }
    });
  }

  private async removeAutostartLink(name: string): Promise<void> {
    const link = this.autostartLink(name);
    try {
      await fs.unlink(link);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fromSystemError(err, NET, `Failed to delete symlink '${link}'`, { object: name });
    }
  }

  /** Forgets an inactive network and its leftover files (leases, ports, status). */
  private async removeInactive(obj: NetworkObj): Promise<void> {
    const name = obj.def.name;
    const p = this.dnsmasqPaths(name);
    for (const f of [p.conf, p.hostsFile, p.addnHostsFile, p.leaseFile, p.pidFile, this.statusFile(name), this.hostRecordFile(name)]) {
      await fs.rm(f, { force: true });
    }
    await fs.rm(join(this.stateDir, name), { recursive: true, force: true });
    this.nets.delete(obj.def.uuid);
  }

  // ---- start / stop --------------------------------------------------------------------------

  /** virNetworkCreateXMLFlags: a transient network, started at once. */
  async createXML(xml: string, validate: boolean): Promise<NetworkRef> {
    const def = this.parse(xml, validate);
    return this.queue.run(async () => {
      await this.validate(def);
      def.uuidSpecified = true;
      const existing = this.assignCheck(def, true);
      let obj: NetworkObj;
      if (existing) {
        // A defined, inactive network: it runs with the new definition, its config stays.
        obj = existing;
        const saved = { def: obj.def, newDef: obj.newDef };
        if (obj.persistent && !obj.newDef) obj.newDef = obj.def;
        obj.def = def;
        try {
          await this.startNetwork(obj, false);
        } catch (err) {
          obj.def = saved.def;
          if (saved.newDef) obj.newDef = saved.newDef;
          else delete obj.newDef;
          throw err;
        }
      } else {
        obj = this.newObj(def, false);
        this.nets.set(def.uuid, obj);
        try {
          await this.startNetwork(obj, false);
        } catch (err) {
          this.nets.delete(def.uuid);
          throw err;
        }
      }
      this.emitLifecycle(obj, NetworkEventLifecycleType.STARTED);
      return this.ref(obj);
    });
  }

  /** virNetworkCreate */
  async create(ref: NetworkRef): Promise<void> {
    return this.queue.run(async () => {
      const obj = this.byRef(ref);
      await this.startNetwork(obj);
      this.emitLifecycle(obj, NetworkEventLifecycleType.STARTED);
    });
  }

  /** virNetworkDestroy */
  async destroy(ref: NetworkRef): Promise<void> {
    return this.queue.run(async () => {
      const obj = this.byRef(ref);
      if (!obj.active) throw notActive(obj.def.name);
      const stoppedRef = this.ref(obj);
      await this.stopNetwork(obj);
      this.emitLifecycle(stoppedRef, NetworkEventLifecycleType.STOPPED);
      if (!obj.persistent) await this.removeInactive(obj);
    });
  }

  /**
   * networkStartNetwork. With `makeLiveCopy` (virNetworkObjSetDefTransient) the live definition
   * is a copy of the persistent one, which waits in newDef until the stop; without it the
   * caller has set obj.def to the live definition already (createXML).
   */
  private async startNetwork(obj: NetworkObj, makeLiveCopy = true): Promise<void> {
    if (obj.active) throw virtError(ErrorNumber.OPERATION_INVALID, NET, 'network is already active', { object: obj.def.name });
    const persistentDef = obj.def;
    const hadNewDef = obj.newDef;
    if (makeLiveCopy) {
      if (obj.persistent && !obj.newDef) obj.newDef = obj.def;
      obj.def = clone(obj.def);
    }
    const def = obj.def;
    await fs.rm(join(this.stateDir, def.name), { recursive: true, force: true });
    let record: NetworkHostRecord | undefined;
    try {
      record = await startNetworkHost(this.host, def, this.dnsmasqPaths(def.name));
      obj.host = record;
      obj.floor = { classIds: new ClassIdMap(), floorSum: 0n };
      obj.ports.clear();
      delete def.connections;
      def.status = initialNetworkStatus();
      this.recountConnections(obj);
      await writeFileAtomic(this.hostRecordFile(def.name), `${JSON.stringify(record, null, 2)}\n`, 0o600);
      await this.saveStatus(obj);
      obj.active = true;
    } catch (err) {
      if (record) {
        await stopNetworkHost(this.host, def, record, this.dnsmasqPaths(def.name)).catch(() => undefined);
        await fs.rm(this.hostRecordFile(def.name), { force: true });
        await fs.rm(this.statusFile(def.name), { force: true });
      }
      if (makeLiveCopy) {
        obj.def = persistentDef;
        if (hadNewDef) obj.newDef = hadNewDef;
        else delete obj.newDef;
        if (obj.newDef === persistentDef) delete obj.newDef;
      }
      obj.host = {};
      throw err;
    }
  }

  /** networkShutdownNetwork: host side down, files gone, persistent definition back. */
  private async stopNetwork(obj: NetworkObj): Promise<void> {
    const def = obj.def;
    await fs.rm(this.statusFile(def.name), { force: true });
    await stopNetworkHost(this.host, def, obj.host, this.dnsmasqPaths(def.name));
    await this.markStopped(obj);
  }

  private async markStopped(obj: NetworkObj): Promise<void> {
    const name = obj.def.name;
    await fs.rm(this.statusFile(name), { force: true });
    await fs.rm(this.hostRecordFile(name), { force: true });
    await fs.rm(join(this.stateDir, name), { recursive: true, force: true });
    obj.active = false;
    obj.host = {};
    obj.ports.clear();
    obj.floor = { classIds: new ClassIdMap(), floorSum: 0n };
    if (obj.newDef) {
      obj.def = obj.newDef;
      delete obj.newDef;
    }
    delete obj.def.connections;
    delete obj.def.status;
  }

  // ---- autostart -----------------------------------------------------------------------------

  async setAutostart(ref: NetworkRef, autostart: boolean): Promise<void> {
    return this.queue.run(async () => {
      const obj = this.byRef(ref);
      if (!obj.persistent) {
        throw virtError(ErrorNumber.OPERATION_INVALID, NET, 'cannot set autostart for transient network', { object: obj.def.name });
      }
      if (obj.autostart === autostart) return;
      const name = obj.def.name;
      const config = this.configFile(name);
      const link = this.autostartLink(name);
      if (autostart) {
        try {
          await fs.mkdir(this.autostartDir, { recursive: true });
        } catch (err) {
          throw fromSystemError(err, NET, `cannot create autostart directory '${this.autostartDir}'`);
        }
        try {
          await fs.symlink(config, link);
        } catch (err) {
          throw fromSystemError(err, NET, `Failed to create symlink '${link}' to '${config}'`, { object: name });
        }
      } else await this.removeAutostartLink(name);
      obj.autostart = autostart;
    });
  }

  // ---- DHCP leases ---------------------------------------------------------------------------

  /** virNetworkGetDHCPLeases: leases dnsmasq has handed out and that have not expired. */
  async getDHCPLeases(ref: NetworkRef, mac: string | null): Promise<NetworkDHCPLease[]> {
    if (mac !== null && !parseMacAddr(mac)) throw virtError(ErrorNumber.INVALID_MAC, NET, mac, { value: mac });
    const obj = this.byRef(ref);
    const def = obj.def;
    const path = this.dnsmasqPaths(def.name).leaseFile;
    let text: string;
    try {
      text = await fs.readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw fromSystemError(err, NET, `Unable to read leases file: ${path}`);
    }
    const now = Math.floor(Date.now() / 1000);
    const out: NetworkDHCPLease[] = [];
    for (const l of parseDnsmasqLeases(text)) {
      if (mac !== null && (!l.mac || !macAddrEqual(l.mac, mac))) continue;
      if (l.expiry > 0 && l.expiry < now) continue;
      let prefix = 0;
      for (const ip of def.ip) {
        const a = parseSocketAddr(ip.address);
        if (!a || a.family !== l.type) continue;
        prefix = l.type === 6 ? (ip.prefix ?? 0) : ipPrefixOf(a, ip.netmask ? parseSocketAddr(ip.netmask, 4) : undefined, ip.prefix);
        break;
      }
      out.push({
        iface: def.bridge?.name ?? '',
        expirytime: BigInt(l.expiry),
        type: l.type === 4 ? 0 : 1,
        mac: l.mac,
        iaid: l.iaid,
        ipaddr: l.ip,
        prefix,
        hostname: l.hostname,
        clientid: l.clientId,
      });
    }
    return out;
  }

  // ---- ports ---------------------------------------------------------------------------------

  private floorNetwork(obj: NetworkObj): FloorNetwork {
    return { name: obj.def.name, bridge: obj.def.bridge?.name ?? '', forwardMode: networkForwardMode(obj.def), bandwidth: obj.def.bandwidth };
  }

  private activeByName(name: string): NetworkObj {
    const obj = this.byName(name);
    if (!obj.active) throw notActive(name);
    return obj;
  }

  private portOf(obj: NetworkObj, uuid: string): NetworkPort {
    const port = obj.ports.get(normalizeUuid(uuid) ?? uuid);
    if (!port) throw virtError(ErrorNumber.NO_NETWORK_PORT, NET, `Network port with UUID ${uuid} does not exist`, { value: uuid });
    return port;
  }

  /** The plug of a new port (networkAllocatePort's switch on the forward mode). */
  private choosePlug(obj: NetworkObj, virtualport: NetworkPort['virtualport']): { plug: NetworkPortPlug } {
    const def = obj.def;
    const mode = networkForwardMode(def);
    const vpType = virtualport?.type;
    const refuse = (how: string) =>
      virtError(ErrorNumber.CONFIG_UNSUPPORTED, NET, `<virtualport type='${vpType}'> not supported for network '${def.name}' which uses ${how}`, {
        object: def.name,
      });
    if (createsBridge(def)) {
      if (virtualport) throw refuse('IP forwarding');
      return { plug: { type: 'network', bridge: def.bridge!.name!, ...(def.bridge?.macTableManager ? { macTableManager: def.bridge.macTableManager } : {}) } };
    }
    if (usesHostBridge(def)) {
      if (vpType && vpType !== 'openvswitch') throw refuse('a bridge device');
      return { plug: { type: 'bridge', bridge: def.bridge!.name!, ...(def.bridge?.macTableManager ? { macTableManager: def.bridge.macTableManager } : {}) } };
    }
    const fwd = def.forward!;
    const exhausted = () =>
      virtError(ErrorNumber.INTERNAL_ERROR, NET, `network '${def.name}' requires exclusive access to interfaces, but none are available`, {
        object: def.name,
      });
    if (mode === 'hostdev') {
      if (vpType && vpType !== '802.1Qbg' && vpType !== '802.1Qbh') throw refuse('an SR-IOV Virtual Function via PCI passthrough');
      const k = obj.addressConnections.findIndex((c) => c === 0);
      if (k < 0 || !fwd.address[k]) throw exhausted();
      return {
        plug: { type: 'hostdev-pci', address: fwd.address[k]!, ...(fwd.driver ? { driver: fwd.driver.name } : {}), ...(fwd.managed !== undefined ? { managed: fwd.managed } : {}) },
      };
    }
    // bridge without a bridge name, private, vepa, passthrough: macvtap on a pool device.
    if (vpType && vpType !== '802.1Qbg' && vpType !== '802.1Qbh') throw refuse('a macvtap device');
    if (!fwd.interface.length) {
      throw virtError(ErrorNumber.INTERNAL_ERROR, NET, `network '${def.name}' uses a direct mode, but has no forward dev and no interface pool`, {
        object: def.name,
      });
    }
    const exclusive = mode === 'passthrough' || (mode === 'private' && vpType === '802.1Qbh');
    let k: number;
    if (exclusive) k = fwd.interface.findIndex((i) => !i.connections);
    else {
      k = 0;
      fwd.interface.forEach((i, n) => {
        if ((i.connections ?? 0) < (fwd.interface[k]!.connections ?? 0)) k = n;
      });
    }
    if (k < 0) throw exhausted();
    return { plug: { type: 'direct', dev: fwd.interface[k]!.dev, mode: mode as DirectMode } };
  }

  /**
   * networkAllocatePort: a port of running network `network` for an interface. Merges bandwidth,
   * VLAN, trust and isolation from the interface, its portgroup and the network, picks a device
   * of the pool where the mode has one, admits and plugs the floor, and keeps the port.
   */
  async allocatePort(network: string, req: NetworkPortRequest): Promise<NetworkPort> {
    return this.queue.run(async () => {
      const obj = this.activeByName(network);
      const def = obj.def;
      const mac = normalizeMacAddr(req.mac);
      if (!mac) throw virtError(ErrorNumber.INVALID_MAC, NET, req.mac, { value: req.mac });
      const domainUUID = normalizeUuid(req.domainUUID);
      if (!domainUUID) throw virtError(ErrorNumber.INVALID_ARG, NET, `invalid domain UUID '${req.domainUUID}'`, { value: req.domainUUID });
      let uuid: string;
      if (req.uuid !== undefined) {
        const u = normalizeUuid(req.uuid);
        if (!u) throw virtError(ErrorNumber.INVALID_ARG, NET, `invalid network port UUID '${req.uuid}'`, { value: req.uuid });
        uuid = u;
      } else uuid = formatUuid(generateUuid());
      if (obj.ports.has(uuid)) throw virtError(ErrorNumber.NETWORK_PORT_EXIST, NET, `Network port with UUID ${uuid} already exists`, { value: uuid });

      const pg = findPortGroup(def, req.portgroup);
      const bandwidth = req.bandwidth ?? (pg?.bandwidth ? clone(pg.bandwidth) : undefined);
      const vlan = req.vlan?.tag.length ? req.vlan : pg?.vlan?.tag.length ? clone(pg.vlan) : def.vlan?.tag.length ? clone(def.vlan) : undefined;
      const trust = req.trustGuestRxFilters ?? pg?.trustGuestRxFilters ?? def.trustGuestRxFilters;
      const isolated = req.portIsolated ?? def.port?.isolated;
      const virtualport = mergeNetDevVirtualPorts(req.virtualport, def.virtualport, pg?.virtualport);
      const { plug } = this.choosePlug(obj, virtualport);
      checkNetDevVirtualPortComplete(virtualport, true);

      const port: NetworkPort = { uuid, network: def.name, networkUUID: def.uuid, domainName: req.domainName, domainUUID, mac, plug };
      if (pg) port.portgroup = pg.name;
      else if (req.portgroup !== undefined) port.portgroup = req.portgroup;
      if (bandwidth) port.bandwidth = bandwidth;
      if (vlan) port.vlan = vlan;
      if (virtualport) port.virtualport = virtualport;
      if (trust !== undefined) port.trustGuestRxFilters = trust;
      if (isolated !== undefined) port.portIsolated = isolated;

      const save = () => this.saveStatus(obj);
      const classID = await networkPlugFloor(this.host.bandwidth, this.floorNetwork(obj), obj.floor, mac, bandwidth, { save });
      if (classID) port.classID = classID;
      try {
        await this.savePort(port);
        obj.ports.set(uuid, port);
        this.recountConnections(obj);
        await this.saveStatus(obj);
      } catch (err) {
        obj.ports.delete(uuid);
        this.recountConnections(obj);
        await this.deletePortFile(def.name, uuid);
        if (classID) await networkUnplugFloor(this.host.bandwidth, this.floorNetwork(obj), obj.floor, bandwidth, classID, { save }).catch(() => undefined);
        throw err;
      }
      return clone(port);
    });
  }

  /**
   * networkNotifyPort (VIR_NETWORK_PORT_CREATE_RECLAIM): a port that a running guest holds but
   * this state does not know (e.g. its file was lost) is taken back as it is, without plugging.
   */
  async reclaimPort(port: NetworkPort): Promise<NetworkPort> {
    return this.queue.run(async () => {
      const obj = this.activeByName(port.network);
      const known = obj.ports.get(port.uuid);
      if (known) return clone(known);
      const def = obj.def;
      const p = port.plug;
      if ((p.type === 'network' || p.type === 'bridge') && !def.bridge?.name) {
        throw virtError(ErrorNumber.INTERNAL_ERROR, NET, 'Unexpectedly got a network port without a network bridge');
      }
      if (p.type === 'direct') {
        await expandInterfacePool(this.host.sysfs, def);
        const dev = def.forward?.interface.find((i) => i.dev === p.dev);
        if (!dev) {
          throw virtError(ErrorNumber.INTERNAL_ERROR, NET, `network '${def.name}' doesn't have dev='${p.dev}' in use by network port '${port.uuid}'`);
        }
        if (dev.connections && networkForwardMode(def) === 'passthrough') {
          throw virtError(ErrorNumber.INTERNAL_ERROR, NET, `network '${def.name}' claims dev='${p.dev}' is already in use by a different port`);
        }
      }
      if (p.type === 'hostdev-pci') {
        const k = def.forward?.address.findIndex((a) => pciAddressEqual(a, p.address)) ?? -1;
        if (k < 0) {
          throw virtError(ErrorNumber.INTERNAL_ERROR, NET, `network '${def.name}' doesn't have PCI device ${formatPciAddressText(p.address)} in use by network port`);
        }
        if (obj.addressConnections[k]) {
          throw virtError(
            ErrorNumber.INTERNAL_ERROR,
            NET,
            `network '${def.name}' claims the PCI device at domain=${p.address.domain} bus=${p.address.bus} slot=${p.address.slot} function=${p.address.function} is already in use by a different network port`,
          );
        }
      }
      const copy = clone({ ...port, network: def.name, networkUUID: def.uuid });
      if (copy.classID) obj.floor.classIds.reserve(copy.classID);
      await this.savePort(copy);
      obj.ports.set(copy.uuid, copy);
      this.recountConnections(obj);
      await this.saveStatus(obj);
      return clone(copy);
    });
  }

  /** networkReleasePort: unplug the floor, free the class id and the pool device, forget the port. */
  async releasePort(network: string, portUUID: string): Promise<void> {
    return this.queue.run(async () => {
      const obj = this.activeByName(network);
      const port = this.portOf(obj, portUUID);
      if ((port.plug.type === 'network' || port.plug.type === 'bridge') && port.classID) {
        await networkUnplugFloor(this.host.bandwidth, this.floorNetwork(obj), obj.floor, port.bandwidth, port.classID, {
          save: () => this.saveStatus(obj),
        });
      }
      obj.ports.delete(port.uuid);
      this.recountConnections(obj);
      await this.deletePortFile(network, port.uuid);
      await this.saveStatus(obj);
    });
  }

  /**
   * The guest changed its MAC (NIC_RX_FILTER_CHANGED with trusted filters): the floor filter of
   * the port follows it (spec §3.4). `previousMac` is the MAC the filter matches now (after an
   * earlier change it is no longer the port's own); it is put back if adding the new filter
   * fails. Returns false when the port has no floor (nothing to do).
   */
  async updatePortMac(network: string, portUUID: string, mac: string, previousMac?: string): Promise<boolean> {
    return this.queue.run(async () => {
      const obj = this.activeByName(network);
      const port = this.portOf(obj, portUUID);
      const m = normalizeMacAddr(mac);
      if (!m) throw virtError(ErrorNumber.INVALID_MAC, NET, mac, { value: mac });
      const prev = previousMac === undefined ? port.mac : normalizeMacAddr(previousMac);
      if (!prev) throw virtError(ErrorNumber.INVALID_MAC, NET, previousMac!, { value: previousMac });
      if (!port.classID || port.classID <= 2 || (port.plug.type !== 'network' && port.plug.type !== 'bridge')) return false;
      await this.host.bandwidth.updateFloorFilter(port.plug.bridge, m, port.classID, { previousMac: prev });
      return true;
    });
  }

  /**
   * networkUpdatePortBandwidth: a live change of the port's bandwidth (its floor is re-admitted
   * and the class changed, plugged or unplugged). Returns the updated port.
   */
  async updatePortBandwidth(network: string, portUUID: string, bandwidth: NetDevBandwidth | undefined): Promise<NetworkPort> {
    return this.queue.run(async () => {
      const obj = this.activeByName(network);
      const port = this.portOf(obj, portUUID);
      const before = clone(port);
      const save = () => this.saveStatus(obj);
      const classID = await networkUpdateFloor(this.host.bandwidth, this.floorNetwork(obj), obj.floor, port.mac, port.classID ?? 0, port.bandwidth, bandwidth, { save });
      if (bandwidth) port.bandwidth = clone(bandwidth);
      else delete port.bandwidth;
      if (classID) port.classID = classID;
      else delete port.classID;
      try {
        await this.savePort(port);
      } catch (err) {
        obj.ports.set(port.uuid, before);
        await networkUpdateFloor(this.host.bandwidth, this.floorNetwork(obj), obj.floor, port.mac, classID, bandwidth, before.bandwidth, { save }).catch(() => undefined);
        throw err;
      }
      return clone(port);
    });
  }

  lookupPort(network: string, portUUID: string): NetworkPort {
    return clone(this.portOf(this.activeByName(network), portUUID));
  }

  listPorts(network: string): NetworkPort[] {
    return [...this.activeByName(network).ports.values()].map(clone);
  }

  /** Resolves when every operation queued so far has finished (for an orderly shutdown). */
  async drain(): Promise<void> {
    await this.queue.run(async () => undefined);
  }
}
