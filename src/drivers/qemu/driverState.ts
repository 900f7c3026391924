// The state of one QEMU driver instance: one per state directory per process, shared by every
// connection opened on the same URI (the daemon opens one per client), each connection with its
// own EventBroker. It holds the domains, the capabilities, the host-access objects and the
// on-disk lock, and on open it finds every QEMU it started before (reattach) and cleans up
// after those that died meanwhile.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, readlink, rm, symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { DomainDef, DomainDriverDefaults } from '../../conf/domain/index.js';
import { checkDomainAssignDef, formatDomainXML, parseDomainXML } from '../../conf/domain/index.js';
import { ErrorDomain, ErrorNumber, VirtError, fromSystemError, virtError } from '../../errors/index.js';
import { writeFileAtomic } from '../../host/atomicFile.js';
import { NetDevBandwidth } from '../../host/bandwidth.js';
import { netHost, type NetHost } from '../../host/netHost.js';
import type { DomainCapabilitiesQuery, DomainEvent, DomainInterfaceAddresses, DomainRef } from '../driver.js';
import type { EventBroker } from '../events.js';
import { formatCapabilitiesXML, formatDomainCapabilitiesXML } from '../../conf/capabilities/index.js';
import { QemuCapsCache, type QemuCaps } from './capabilities.js';
import { qemuDomainCapabilities } from './domainCapabilities.js';
import { qemuCapabilities, readHostFacts } from './hostCapabilities.js';
import { capsForDomain, qemuCapsSource, qemuDomainDefaults, type QemuCapsSource } from './domainDefaults.js';
import { DriverLock } from './driverLock.js';
import { QemuDomainObj } from './domainObj.js';
import type { InterfaceHostContext } from './interfaceHost.js';
import { NetworkDriverState } from '../network/index.js';
import { type QemuDirs, type QemuPaths, qemuPaths } from './qemuDirs.js';

export interface QemuDriverOptions {
  /** Host access for interfaces (tests hand in simulated SR-IOV hardware). */
  net?: NetHost;
  bandwidth?: NetDevBandwidth;
  /** Where to look for qemu-system-* (default: PATH and /usr/bin). */
  emulatorSearchPath?: string[];
  /** Whether this driver may create taps, run tc, … (default: running as root). */
  privileged?: boolean;
}

export class QemuDriverState {
  readonly dirs: QemuDirs;
  readonly paths: QemuPaths;
  readonly privileged: boolean;
  readonly capsCache: QemuCapsCache;
  capsSource: QemuCapsSource = qemuCapsSource([]);
  /** Every probed emulator (PATH order by architecture). */
  allCaps: QemuCaps[] = [];
  /** The network driver's state for the same directories (networks, ports of type='network'). */
  network: NetworkDriverState | undefined;
  defaults: DomainDriverDefaults = qemuDomainDefaults(this.capsSource);
  readonly bandwidth: NetDevBandwidth;
  private readonly options: QemuDriverOptions;
  private netHost: NetHost | undefined;
  private lock: DriverLock | undefined;
  private readonly byUuid = new Map<string, QemuDomainObj>();
  private readonly brokers = new Set<EventBroker>();
  private nextId = 1;
  /** Connections holding this state. */
  refs = 0;
  closed = false;

  constructor(dirs: QemuDirs, options: QemuDriverOptions = {}) {
    this.dirs = dirs;
    this.paths = qemuPaths(dirs);
    this.options = options;
    this.privileged = options.privileged ?? process.geteuid?.() === 0;
    this.capsCache = new QemuCapsCache(this.paths.capabilities, { workDir: this.paths.status });
    this.bandwidth = options.bandwidth ?? new NetDevBandwidth({ privileged: this.privileged, tc: undefined });
  }

  /** The host's netlink and sysfs, opened on first use (in the network namespace of that moment). */
  get net(): NetHost {
    this.netHost ??= this.options.net ?? netHost({ warn: (e) => this.warn(e) });
    return this.netHost;
  }

  interfaceContext(): InterfaceHostContext {
    return {
      net: this.net,
      bandwidth: this.bandwidth,
      privileged: this.privileged,
      network: this.network,
      hostdevStateDir: this.paths.hostdevmgr,
      qemuStateDir: this.paths.status,
      warn: (e) => this.warn(e),
    };
  }

  // ---- opening and closing ----

  /** Creates the directories, takes the lock, loads capabilities, configs and running domains. */
  async open(): Promise<void> {
    const p = this.paths;
    for (const dir of [p.config, p.autostart, p.status, p.hostdevmgr, p.lib, p.log, p.capabilities]) {
      try {
        await mkdir(dir, { recursive: true, mode: 0o755 });
      } catch (err) {
        throw fromSystemError(err, ErrorDomain.QEMU, `Failed to create directory '${dir}'`, { value: dir });
      }
    }
    this.lock = DriverLock.acquire(join(p.status, 'driver.pid'), `QEMU driver state '${this.dirs.runDir}'`);
    try {
      await this.loadCaps();
      await this.loadConfigs();
      // A qemu:/// connection serves the networks of its directories too, as libvirt's does.
      this.network = await NetworkDriverState.open({
        configDir: this.dirs.configDir,
        runDir: this.dirs.runDir,
        privileged: this.privileged,
        netlink: this.net.netlink,
        sysfs: this.net.sysfs,
        bandwidth: this.bandwidth,
        warn: (m) => this.warn(new Error(m)),
      });
    } catch (err) {
      // Nothing of a failed open stays held: the netlink socket goes with the lock.
      this.netHost?.netlink.close();
      this.netHost = undefined;
      this.releaseLock();
      throw err;
    }
  }

  async loadCaps(): Promise<void> {
    const all = await this.capsCache.getAll(this.options.emulatorSearchPath);
    this.allCaps = all;
    this.capsSource = qemuCapsSource(all);
    this.defaults = qemuDomainDefaults(this.capsSource);
  }

  /** Caps for a definition, probing a custom <emulator> that is not known yet. */
  async capsFor(def: DomainDef): Promise<QemuCaps> {
    return capsForDomain(this.capsSource, def);
  }

  /** Makes sure a custom emulator named in XML is probed before the (synchronous) parse. */
  async probeEmulatorOf(xml: string): Promise<void> {
    const m = /<emulator>\s*([^<\s]+)\s*<\/emulator>/.exec(xml);
    const path = m?.[1];
    if (!path || this.capsSource.forBinary(path)) return;
    let caps: QemuCaps;
    try {
      caps = await this.capsCache.get(path);
    } catch {
      return; // the parse reports the emulator as it finds it
    }
    // After the host's own emulators, so a custom one never becomes an architecture's default.
    this.allCaps = [...this.allCaps.filter((c) => c.binary !== path), caps];
    this.capsSource = qemuCapsSource(this.allCaps);
    this.defaults = qemuDomainDefaults(this.capsSource);
  }

  private async loadConfigs(): Promise<void> {
    // Synchronous reads: a thousand small files cost a few milliseconds this way, against a
    // thread-pool round trip each with fs/promises.
    let names: string[];
    try {
      names = readdirSync(this.paths.config).filter((n) => n.endsWith('.xml')).sort();
    } catch {
      names = [];
    }
    let autostart = new Set<string>();
    try {
      autostart = new Set(readdirSync(this.paths.autostart).filter((n) => n.endsWith('.xml')));
    } catch {
      // none
    }
    const parse = (xml: string) => this.parseInactive(xml);
    for (const file of names) {
      const path = join(this.paths.config, file);
      let obj: QemuDomainObj;
      try {
        const xml = readFileSync(path, 'utf8');
        // A file this driver wrote starts with its name and UUID: the parse can wait until the
        // definition is needed. Anything else is parsed (and checked) now.
        const head = writtenConfigHead(xml);
        obj = head ? QemuDomainObj.fromConfig({ xml, name: head.name, uuid: head.uuid, parse }) : new QemuDomainObj(parse(xml), true);
      } catch (err) {
        this.warn(err, undefined, `Failed to load config for domain from '${path}'`);
        continue;
      }
      if (`${obj.name}.xml` !== file) {
        this.warn(new Error(`config file '${path}' holds domain '${obj.name}'; skipped`));
        continue;
      }
      obj.autostart = autostart.has(file);
      this.byUuid.set(obj.uuid, obj);
    }
  }

  /** Stops managing: closes monitors (QEMUs keep running), releases host handles and the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Status writes still on their way land first (a start does not wait for its last one).
    await Promise.all([...this.byUuid.values()].map((o) => o.runtime?.statusWrites));
    for (const obj of this.byUuid.values()) {
      const rt = obj.runtime;
      if (!rt) continue;
      rt.detaching = true;
      for (const c of rt.consoles.values()) c.close();
      rt.qmp?.close();
      rt.proc.unref();
    }
    this.network?.release();
    this.netHost?.netlink.close();
    this.releaseLock();
  }

  private releaseLock(): void {
    this.lock?.release();
    this.lock = undefined;
  }

  /** The network driver's state (present once open() has run). */
  networks(): NetworkDriverState {
    if (!this.network) throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, 'the network driver is not open');
    return this.network;
  }

  /** virConnectGetCapabilities: the host and one guest per emulator. */
  async capabilitiesXML(): Promise<string> {
    return formatCapabilitiesXML(qemuCapabilities(this.allCaps, await readHostFacts()));
  }

  /** virConnectGetDomainCapabilities. */
  async domainCapabilitiesXML(q: DomainCapabilitiesQuery): Promise<string> {
    const query = {
      ...(q.emulatorbin ? { emulatorbin: q.emulatorbin } : {}),
      ...(q.arch ? { arch: q.arch } : {}),
      ...(q.machine ? { machine: q.machine } : {}),
      ...(q.virttype ? { virttype: q.virttype } : {}),
    };
    if (query.emulatorbin && !this.capsSource.forBinary(query.emulatorbin)) await this.probeEmulatorOf(`<emulator>${query.emulatorbin}</emulator>`);
    const vfio = existsSync('/dev/vfio/vfio');
    return formatDomainCapabilitiesXML(qemuDomainCapabilities(this.allCaps, query, { vfio }));
  }

  /** Addresses from the DHCP leases of the networks the domain's interfaces are on (source LEASE). */
  async leaseAddresses(def: DomainDef): Promise<DomainInterfaceAddresses[]> {
    const out: DomainInterfaceAddresses[] = [];
    const nets = this.networks();
    for (const n of def.devices.interfaces ?? []) {
      if (n.type !== 'network' || !n.source?.network) continue;
      let leases;
      try {
        leases = await nets.getDHCPLeases(nets.lookupByName(n.source.network), n.mac.address);
      } catch {
        continue;
      }
      if (!leases.length) continue;
      out.push({
        name: n.target?.dev ?? '',
        hwaddr: n.mac.address,
        addrs: leases.map((l) => ({ type: l.type, addr: l.ipaddr, prefix: l.prefix })),
      });
    }
    return out;
  }

  // ---- parsing ----

  parseInactive(xml: string, opts: { validate?: boolean } = {}): DomainDef {
    return parseDomainXML(xml, { validate: opts.validate === true, driver: this.defaults });
  }

  formatDef(def: DomainDef, opts: { inactive?: boolean; secure?: boolean; migratable?: boolean; id?: number } = {}): string {
    return formatDomainXML(def, { ...opts, driver: this.defaults });
  }

  // ---- the domain list ----

  get domains(): IterableIterator<QemuDomainObj> {
    return this.byUuid.values();
  }

  findByUuid(uuid: string): QemuDomainObj | undefined {
    return this.byUuid.get(uuid.toLowerCase());
  }

  findByName(name: string): QemuDomainObj | undefined {
    for (const obj of this.byUuid.values()) if (obj.def.name === name) return obj;
    return undefined;
  }

  findById(id: number): QemuDomainObj | undefined {
    if (id <= 0) return undefined;
    for (const obj of this.byUuid.values()) if (obj.id === id) return obj;
    return undefined;
  }

  /** The object a ref names (by UUID, as libvirt's daemon resolves), or NO_DOMAIN. */
  lookup(dom: DomainRef): QemuDomainObj {
    const obj = this.findByUuid(dom.uuid);
    if (!obj) {
      throw virtError(ErrorNumber.NO_DOMAIN, ErrorDomain.QEMU, `no domain with matching uuid '${dom.uuid}' (${dom.name})`, {
        value: dom.uuid,
      });
    }
    return obj;
  }

  add(obj: QemuDomainObj): void {
    obj.removed = false;
    this.byUuid.set(obj.uuid, obj);
  }

  remove(obj: QemuDomainObj): void {
    obj.removed = true;
    if (this.byUuid.get(obj.uuid) === obj) this.byUuid.delete(obj.uuid);
  }

  allocateId(): number {
    return this.nextId++;
  }

  /** Keeps ids of reattached domains from being handed out again. */
  reserveId(id: number): void {
    if (id >= this.nextId) this.nextId = id + 1;
  }

  /**
   * libvirt's checks before adding a definition (virDomainObjListAddLocked): the same UUID under
   * another name, or the same name under another UUID, is refused.
   */
  checkDefConflicts(def: DomainDef, opts: { live: boolean }): QemuDomainObj | undefined {
    return checkDomainAssignDef(def, opts.live, (u) => this.findByUuid(u), (n) => this.findByName(n), (o) => o);
  }

  // ---- persistent files ----

  configPath(name: string): string {
    return join(this.paths.config, `${name}.xml`);
  }

  autostartLink(name: string): string {
    return join(this.paths.autostart, `${name}.xml`);
  }

  statusPath(name: string): string {
    return join(this.paths.status, `${name}.xml`);
  }

  logPath(name: string): string {
    return join(this.paths.log, `${name}.log`);
  }

  async saveConfig(def: DomainDef): Promise<void> {
    const path = this.configPath(def.name);
    try {
      await writeFileAtomic(path, this.formatDef(def, { inactive: true, secure: true }), 0o600);
    } catch (err) {
      throw fromSystemError(err, ErrorDomain.QEMU, `cannot save config file '${path}'`, { value: path });
    }
  }

  /** virDomainDeleteConfig: the autostart link (not fatal), then the config; a config already gone is fine. */
  async deleteConfig(name: string): Promise<void> {
    await unlink(this.autostartLink(name)).catch(() => undefined);
    const path = this.configPath(name);
    try {
      await unlink(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromSystemError(err, ErrorDomain.QEMU, `cannot remove config ${path}`, { value: path });
    }
  }

  async setAutostartLink(name: string, on: boolean): Promise<void> {
    const link = this.autostartLink(name);
    if (on) {
      try {
        if ((await readlink(link).catch(() => null)) === this.configPath(name)) return;
        await rm(link, { force: true });
        await symlink(this.configPath(name), link);
      } catch (err) {
        throw fromSystemError(err, ErrorDomain.QEMU, `Failed to create symlink '${link}' to '${this.configPath(name)}'`, { value: link });
      }
    } else {
      try {
        await unlink(link);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          throw fromSystemError(err, ErrorDomain.QEMU, `Failed to delete symlink '${link}'`, { value: link });
        }
      }
    }
  }

  // ---- events ----

  attachBroker(b: EventBroker): void {
    this.brokers.add(b);
  }

  detachBroker(b: EventBroker): void {
    this.brokers.delete(b);
  }

  emit(ev: DomainEvent): void {
    for (const b of this.brokers) b.emitDomain(ev);
  }

  lifecycle(obj: QemuDomainObj, event: number, detail: number): void {
    this.emit({ eventId: 0, dom: obj.ref(), event, detail });
  }

  // ---- logging ----

  /**
   * A failure that does not fail the operation (a restore during stop): appended to the domain's
   * log, or to the driver log.
   */
  warn(err: unknown, obj?: QemuDomainObj, context?: string): void {
    const msg = err instanceof VirtError || err instanceof Error ? err.message : String(err);
    const line = `${new Date().toISOString().replace('T', ' ').replace('Z', '+0000')}: warning: ${context ? `${context}: ` : ''}${msg}\n`;
    const file = obj ? this.logPath(obj.name) : join(this.paths.log, 'driver.log');
    void appendFile(file, line).catch(() => undefined);
  }
}

// ---- one state per state directory per process ----

interface Entry {
  state: QemuDriverState;
  ready: Promise<void>;
}

const states = new Map<string, Entry>();

/**
 * The driver state for these directories, opened on first use and shared by every connection
 * of this process until the last one releases it. `init` runs once, after open() (reattach).
 */
export async function acquireDriverState(
  dirs: QemuDirs,
  options: QemuDriverOptions,
  init: (s: QemuDriverState) => Promise<void>,
): Promise<QemuDriverState> {
  const key = dirs.runDir;
  let entry = states.get(key);
  if (!entry) {
    const state = new QemuDriverState(dirs, options);
    const ready = (async () => {
      await state.open();
      try {
        await init(state);
      } catch (err) {
        await state.close();
        throw err;
      }
    })();
    entry = { state, ready };
    states.set(key, entry);
    ready.catch(() => {
      if (states.get(key) === entry) states.delete(key);
    });
  }
  entry.state.refs++;
  try {
    await entry.ready;
  } catch (err) {
    entry.state.refs--;
    throw err;
  }
  return entry.state;
}

/** Drops one connection's hold; the last one closes the state (QEMUs keep running). */
export async function releaseDriverState(state: QemuDriverState): Promise<void> {
  state.refs--;
  if (state.refs > 0) return;
  const key = state.dirs.runDir;
  if (states.get(key)?.state === state) states.delete(key);
  await state.close();
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', apos: "'", quot: '"' };

/**
 * Name and UUID of a config as formatDomainXML writes it (`<domain …>`, then `<name>`, then
 * `<uuid>`), or undefined for any other shape.
 */
function writtenConfigHead(xml: string): { name: string; uuid: string } | undefined {
  const m = /^(?:<!--[^]*?-->\s*)?<domain\b[^>]*>\s*<name>([^<]+)<\/name>\s*<uuid>([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})<\/uuid>/.exec(xml);
  if (!m) return undefined;
  const name = m[1]!.replace(/&(amp|lt|gt|apos|quot);/g, (_e, n: string) => XML_ENTITIES[n]!);
  if (/&/.test(name)) return undefined;
  return { name, uuid: m[2]! };
}
