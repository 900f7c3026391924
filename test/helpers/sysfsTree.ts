// A simulated SR-IOV host for tests: a sysfs tree in a temporary directory laid out as the kernel
// lays it out (devices/pci0000:00/<addr> with net/, physfn, virtfnN, driver, driver_override;
// bus/pci/devices and bus/pci/drivers/<d>/{bind,unbind}; bus/pci/drivers_probe; class/net
// links), plus the simulated kernel netlink endpoint holding the same netdevs. Writes to the
// driver-binding attributes are recorded in order and act as the kernel would: unbinding a VF
// from its net driver removes its netdev, probing binds it to driver_override or back to its
// own driver, whose netdev then comes back with the PF's admin MAC.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { RtNetlink } from '../../src/host/netlink.js';
import { netHost, type NetHost } from '../../src/host/netHost.js';
import { SysfsRoot } from '../../src/host/sysfs.js';
import { SimulatedKernelNetlink } from './simulatedNetlink.js';

export interface NetdevSpec {
  name: string;
  mac: string;
  up?: boolean;
  /** raw contents of phys_port_id (a driver that has none: leave out) */
  physPortId?: string;
  physPortName?: string;
}

export interface PfSpec {
  address: string;
  /** One netdev per port (two for a dual-port PF with one PCI function). */
  netdevs: NetdevSpec[];
  driver?: string;
  /** Number of VFs. */
  vfs: number;
  vfDriver?: string;
  /** VF i's PCI address; default bus of the PF, slot 0x10 + i/8, function i%8. */
  vfAddress?: (i: number) => string;
  /** VF i's netdev while on its host driver; null: the VF is not bound to a host driver. */
  vfNetdev?: (i: number) => NetdevSpec | null;
  /** VF i's admin MAC and VLAN in the PF (default 00:00:00:00:00:00, 0). */
  vfAdmin?: (i: number) => { mac: string; vlan: number };
}

interface DeviceState {
  address: string;
  nativeDriver: string | null;
  /** netdevs the native driver creates */
  netdevs: NetdevSpec[];
  /** for a VF: its PF and index */
  pf?: { address: string; index: number };
}

const PCI_ROOT = 'devices/pci0000:00';

/** sysfs with the kernel's reactions to driver-binding writes, each write recorded. */
export class SimulatedSysfs extends SysfsRoot {
  /** "driver_override 0000:02:10.1 vfio-pci", "unbind iavf 0000:02:10.1", "drivers_probe 0000:02:10.1", … */
  readonly writes: string[] = [];

  constructor(
    root: string,
    private readonly host: SimulatedSriovHost,
  ) {
    super(root);
  }

  override async write(rel: string, data: string): Promise<void> {
    await super.write(rel, data); // fails like the kernel would for a missing attribute
    const before = this.writes.length;
    this.react(rel, data);
    for (const w of this.writes.slice(before)) this.host.kernel.log.push(w);
  }

  private react(rel: string, data: string): void {
    const real = this.host.canonical(rel);
    const name = basename(real);
    const value = data.trim();
    let m: RegExpMatchArray | null;
    if (name === 'driver_override') {
      this.writes.push(`driver_override ${basename(dirname(real))} ${data === '\n' ? '\\n' : value}`);
    } else if ((m = real.match(/^bus\/pci\/drivers\/([^/]+)\/(unbind|bind)$/))) {
      this.writes.push(`${m[2]} ${m[1]} ${value}`);
      if (m[2] === 'unbind') this.host.unbind(value, m[1]!);
      else this.host.bind(value, m[1]!);
    } else if (real === 'bus/pci/drivers_probe') {
      this.writes.push(`drivers_probe ${value}`);
      this.host.probe(value);
    } else if (name === 'reset') {
      this.writes.push(`reset ${basename(dirname(real))}`);
    } else {
      this.writes.push(`write ${real} ${value}`);
    }
  }
}

export class SimulatedSriovHost {
  readonly root: string;
  readonly sysfs: SimulatedSysfs;
  readonly kernel = new SimulatedKernelNetlink();
  readonly netlink: RtNetlink;
  readonly host: NetHost;
  private readonly devices = new Map<string, DeviceState>();
  private readonly drivers = new Set<string>();

  constructor(tag = 'sriov') {
    this.root = mkdtempSync(join(tmpdir(), `tsv-host-netdev-${tag}-${process.pid}-`));
    mkdirSync(join(this.root, PCI_ROOT), { recursive: true });
    mkdirSync(join(this.root, 'bus/pci/devices'), { recursive: true });
    mkdirSync(join(this.root, 'class/net'), { recursive: true });
    writeFileSync(join(this.root, 'bus/pci/drivers_probe'), '');
    this.sysfs = new SimulatedSysfs(this.root, this);
    this.netlink = new RtNetlink(() => this.kernel);
    this.host = netHost({ netlink: this.netlink, sysfs: this.sysfs });
    this.addDriver('vfio-pci');
  }

  /** Records of the driver-binding writes, in order. */
  get writes(): string[] {
    return this.sysfs.writes;
  }

  /** Netlink changes and sysfs writes interleaved, in the order they happened. */
  get events(): string[] {
    return this.kernel.log;
  }

  remove(): void {
    this.netlink.close();
    rmSync(this.root, { recursive: true, force: true });
  }

  private p(rel: string): string {
    return join(this.root, rel);
  }

  /** Canonical relative path (symlinks in the directory part followed). */
  canonical(rel: string): string {
    const dir = relative(realpathSync(this.root), realpathSync(this.p(dirname(rel))));
    return dir ? `${dir}/${basename(rel)}` : basename(rel);
  }

  addDriver(name: string): void {
    if (this.drivers.has(name)) return;
    this.drivers.add(name);
    const d = this.p(`bus/pci/drivers/${name}`);
    mkdirSync(d, { recursive: true });
    for (const f of ['bind', 'unbind', 'new_id', 'remove_id']) writeFileSync(join(d, f), '');
  }

  private devDir(address: string): string {
    return `${PCI_ROOT}/${address}`;
  }

  /** A PCI function; bound to `driver` (creating its netdevs) when given. */
  addPciDevice(address: string, options: { driver?: string | null; netdevs?: NetdevSpec[]; headerType?: number } = {}): void {
    const dir = this.devDir(address);
    mkdirSync(this.p(dir), { recursive: true });
    const config = Buffer.alloc(64);
    config[0x0e] = options.headerType ?? 0;
    writeFileSync(this.p(`${dir}/config`), config);
    writeFileSync(this.p(`${dir}/driver_override`), '(null)\n');
    writeFileSync(this.p(`${dir}/reset`), '');
    symlinkSync(`../../../${dir}`, this.p(`bus/pci/devices/${address}`));
    this.devices.set(address, { address, nativeDriver: options.driver ?? null, netdevs: options.netdevs ?? [] });
    if (options.driver) {
      this.addDriver(options.driver);
      this.bind(address, options.driver);
    }
  }

  /** A PF with its VFs (VF netdevs per spec). Returns the VF addresses. */
  addPf(spec: PfSpec): string[] {
    const [dom, bus] = spec.address.split(':') as [string, string];
    const vfAddress = spec.vfAddress ?? ((i: number) => `${dom}:${bus}:${(0x10 + Math.floor(i / 8)).toString(16).padStart(2, '0')}.${i % 8}`);
    this.addPciDevice(spec.address, { driver: spec.driver ?? 'ixgbe', netdevs: spec.netdevs });
    const dir = this.devDir(spec.address);
    writeFileSync(this.p(`${dir}/sriov_totalvfs`), `${spec.vfs}\n`);
    writeFileSync(this.p(`${dir}/sriov_numvfs`), `${spec.vfs}\n`);
    for (const nd of spec.netdevs) {
      this.kernel.link(nd.name)!.vfs = Array.from({ length: spec.vfs }, (_, i) => ({ ...(spec.vfAdmin?.(i) ?? { mac: '00:00:00:00:00:00', vlan: 0 }) }));
    }
    const vfDriver = spec.vfDriver ?? 'iavf';
    this.addDriver(vfDriver);
    const out: string[] = [];
    for (let i = 0; i < spec.vfs; i++) {
      const addr = vfAddress(i);
      out.push(addr);
      const nd = spec.vfNetdev ? spec.vfNetdev(i) : { name: `${spec.netdevs[0]!.name}v${i}`, mac: `9a:00:00:00:00:${i.toString(16).padStart(2, '0')}` };
      this.addPciDevice(addr, { driver: null, netdevs: nd ? [nd] : [] });
      const vdir = this.devDir(addr);
      symlinkSync(`../${spec.address}`, this.p(`${vdir}/physfn`));
      symlinkSync(`../${addr}`, this.p(`${dir}/virtfn${i}`));
      const state = this.devices.get(addr)!;
      state.nativeDriver = vfDriver;
      state.pf = { address: spec.address, index: i };
      // a VF without a netdev spec is not bound to its host driver
      if (nd) this.bind(addr, vfDriver);
    }
    return out;
  }

  /** The driver a device is bound to now. */
  driverOf(address: string): string | null {
    try {
      return basename(readlinkSync(this.p(`${this.devDir(address)}/driver`)));
    } catch {
      return null;
    }
  }

  /** Netdev names of a device now. */
  netdevsOf(address: string): string[] {
    const d = this.p(`${this.devDir(address)}/net`);
    return existsSync(d) ? readdirSync(d).sort() : [];
  }

  driverOverride(address: string): string {
    return readFileSync(this.p(`${this.devDir(address)}/driver_override`), 'utf8');
  }

  unbind(address: string, driver: string): void {
    const dir = this.devDir(address);
    if (this.driverOf(address) !== driver) return;
    unlinkSync(this.p(`${dir}/driver`));
    rmSync(this.p(`bus/pci/drivers/${driver}/${address}`), { force: true });
    for (const nd of this.netdevsOf(address)) {
      unlinkSync(this.p(`class/net/${nd}`));
      this.kernel.removeLink(nd);
    }
    rmSync(this.p(`${dir}/net`), { recursive: true, force: true });
  }

  bind(address: string, driver: string): void {
    const dev = this.devices.get(address);
    if (!dev || this.driverOf(address) || !this.drivers.has(driver)) return;
    const dir = this.devDir(address);
    symlinkSync(`../../../bus/pci/drivers/${driver}`, this.p(`${dir}/driver`));
    symlinkSync(`../../../../${dir}`, this.p(`bus/pci/drivers/${driver}/${address}`));
    if (driver !== dev.nativeDriver) return;
    for (const nd of dev.netdevs) {
      let mac = nd.mac;
      if (dev.pf) {
        // a VF driver initialises its MAC from the PF's admin MAC when one is set
        const admin = this.adminOf(dev.pf.address, dev.pf.index, nd.physPortId);
        if (admin && admin !== '00:00:00:00:00:00') mac = admin;
        nd.mac = mac;
      }
      const ndDir = `${dir}/net/${nd.name}`;
      mkdirSync(this.p(ndDir), { recursive: true });
      writeFileSync(this.p(`${ndDir}/address`), `${mac}\n`);
      writeFileSync(this.p(`${ndDir}/flags`), nd.up ? '0x1003\n' : '0x1002\n');
      if (nd.physPortId !== undefined) writeFileSync(this.p(`${ndDir}/phys_port_id`), nd.physPortId);
      if (nd.physPortName !== undefined) writeFileSync(this.p(`${ndDir}/phys_port_name`), `${nd.physPortName}\n`);
      symlinkSync('../..', this.p(`${ndDir}/device`));
      symlinkSync(`../../${ndDir}`, this.p(`class/net/${nd.name}`));
      if (!this.kernel.link(nd.name)) this.kernel.addLink({ name: nd.name, mac, up: !!nd.up });
    }
  }

  probe(address: string): void {
    const dev = this.devices.get(address);
    if (!dev || this.driverOf(address)) return;
    const override = this.driverOverride(address).trim();
    if (override && override !== '(null)') this.bind(address, override);
    else if (dev.nativeDriver) this.bind(address, dev.nativeDriver);
  }

  private adminOf(pfAddress: string, index: number, physPortId?: string): string | null {
    const pf = this.devices.get(pfAddress);
    if (!pf) return null;
    const port = pf.netdevs.find((n) => physPortId !== undefined && n.physPortId === physPortId) ?? pf.netdevs[0];
    return port ? (this.kernel.link(port.name)?.vfs?.[index]?.mac ?? null) : null;
  }
}
