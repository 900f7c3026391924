// Guest bus addresses the QEMU driver assigns (libvirt's qemu_domain_address.c): PCI slots in
// libvirt's order (so a defined domain gets the same slots as under libvirt), USB ports and
// virtio-serial ports. Addresses given in the XML are kept; the rest are filled in at define
// and again for hotplugged devices.
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { allDevices, type DomainDef, type DomainDeviceDef, type DeviceInfo, type PciAddress } from '../../conf/domain/index.js';
import type { ControllerDef } from '../../conf/domain/controller.js';
import { pciAddressIsEmpty, pciAddressString } from '../../conf/domain/deviceAddress.js';

export type Chipset = 'i440fx' | 'q35' | 'other';

/** Which PC chipset a machine type emulates. */
export function machineChipset(machine: string | undefined): Chipset {
  if (!machine) return 'other';
  if (machine === 'pc' || /^pc-i440fx-/.test(machine) || /^pc-\d/.test(machine)) return 'i440fx';
  if (machine === 'q35' || /^pc-q35-/.test(machine)) return 'q35';
  return 'other';
}

function addrError(detail: string): Error {
  return virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, detail, { element: 'address' });
}

/** What plugs into a slot: an ordinary device (PCI or PCIe) or a PCI controller of some kind. */
export type PciConnect = 'pci' | 'pcie' | 'root-port' | 'pcie-to-pci-bridge' | 'pci-bridge';

type BusKind = 'pci-root' | 'pcie-root' | 'root-port' | 'pci-bridge';

interface PciBus {
  index: number;
  kind: BusKind;
  minSlot: number;
  maxSlot: number;
  /** slot → functions in use */
  used: Map<number, Set<number>>;
  /** slots holding root ports, filled function by function (libvirt's aggregate slots) */
  aggregate: Set<number>;
}

function busKindOf(model: string | undefined): BusKind | undefined {
  switch (model) {
    case 'pci-root':
      return 'pci-root';
    case 'pcie-root':
      return 'pcie-root';
    case 'pcie-root-port':
    case 'pcie-switch-downstream-port':
      return 'root-port';
    case 'pci-bridge':
    case 'pcie-to-pci-bridge':
    case 'dmi-to-pci-bridge':
      return 'pci-bridge';
    default:
      return undefined;
  }
}

function accepts(kind: BusKind, conn: PciConnect): boolean {
  switch (kind) {
    case 'pci-root':
    case 'pci-bridge':
      return conn === 'pci' || conn === 'pci-bridge';
    case 'pcie-root':
      return conn === 'root-port';
    case 'root-port':
      return conn === 'pcie' || conn === 'pcie-to-pci-bridge';
  }
}

/** A PCI controller the address assignment had to add (q35: root ports, a PCIe-to-PCI bridge). */
export interface AddedController {
  index: number;
  model: 'pcie-root-port' | 'pcie-to-pci-bridge';
}

/** The PCI buses of a domain and which slots and functions are taken (virDomainPCIAddressSet). */
export class PciAddressSet {
  private readonly buses: PciBus[] = [];
  private last = { bus: 0, slot: 0 };
  /** Controllers added to make room (q35), in index order. */
  readonly added: AddedController[] = [];
  private readonly grow: boolean;

  /** grow: add root ports and a PCIe-to-PCI bridge when no slot is left (q35). */
  constructor(controllers: readonly ControllerDef[], opts: { grow?: boolean } = {}) {
    for (const c of controllers) if (c.type === 'pci') this.addBus(c.index, c.model);
    this.grow = opts.grow === true;
  }

  private addBus(index: number, model: string | undefined): void {
    const kind = busKindOf(model);
    if (!kind) return;
    const minSlot = kind === 'root-port' ? 0 : 1;
    const maxSlot = kind === 'root-port' ? 0 : 31;
    this.buses.push({ index, kind, minSlot, maxSlot, used: new Map(), aggregate: new Set() });
    this.buses.sort((a, b) => a.index - b.index);
  }

  get busCount(): number {
    return this.buses.length;
  }

  private bus(n: number): PciBus | undefined {
    return this.buses.find((b) => b.index === n);
  }

  slotInUseFn(bus: number, slot: number, fn: number): boolean {
    return this.bus(bus)?.used.get(slot)?.has(fn) ?? false;
  }

  slotInUse(bus: number, slot: number): boolean {
    return (this.bus(bus)?.used.get(slot)?.size ?? 0) > 0;
  }

  /** How many functions of a slot are taken. */
  functionsInUse(bus: number, slot: number): number {
    return this.bus(bus)?.used.get(slot)?.size ?? 0;
  }

  /** Marks an address as taken; a second use of the same function is an error. */
  reserve(a: { domain: number; bus: number; slot: number; function: number }): void {
    const b = this.bus(a.bus);
    if (!b) {
      throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.DOMAIN, `Invalid PCI address ${pciAddressString(a)}. Only PCI buses up to ${this.maxBus()} are available`, {
        element: 'address',
      });
    }
    let fns = b.used.get(a.slot);
    if (!fns) b.used.set(a.slot, (fns = new Set()));
    if (fns.has(a.function)) {
      throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.DOMAIN, `Attempted double use of PCI Address ${pciAddressString(a)}`, { element: 'address' });
    }
    fns.add(a.function);
  }

  private maxBus(): number {
    return this.buses.reduce((m, b) => Math.max(m, b.index), -1);
  }

  /**
   * The next free address for a device of the given kind (virDomainPCIAddressGetNextAddr): the
   * first free slot from the last one handed out, wrapping round once; root ports fill the
   * functions of a shared slot. With grow, buses are added when none is left.
   */
  reserveNext(conn: PciConnect = 'pci', fn = 0): PciAddress {
    if (this.buses.length === 0) throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.DOMAIN, 'No PCI buses available');
    if (conn === 'root-port') return this.nextAggregate();
    const found = this.findFree(conn);
    if (found) return this.take(found.bus, found.slot, fn);
    if (this.grow) {
      if (conn === 'pcie' || conn === 'pcie-to-pci-bridge') return this.take(this.addController('pcie-root-port'), 0);
      if (conn === 'pci') {
        const port = this.addController('pcie-root-port');
        const bridge = this.addController('pcie-to-pci-bridge');
        // the bridge sits in the root port added for it
        this.reserve({ domain: 0, bus: port, slot: 0, function: 0 });
        return this.take(bridge, 1);
      }
    }
    throw addrError('No more available PCI slots');
  }

  private findFree(conn: PciConnect): { bus: number; slot: number } | undefined {
    const fits = this.buses.filter((b) => accepts(b.kind, conn));
    const order = [...fits.filter((b) => b.index >= this.last.bus), ...fits.filter((b) => b.index < this.last.bus)];
    for (const [i, b] of order.entries()) {
      const from = i === 0 && b.index === this.last.bus ? Math.max(b.minSlot, this.last.slot) : b.minSlot;
      for (let s = from; s <= b.maxSlot; s++) if (!this.slotInUse(b.index, s)) return { bus: b.index, slot: s };
    }
    const b0 = this.bus(this.last.bus);
    if (b0 && accepts(b0.kind, conn)) {
      for (let s = b0.minSlot; s < this.last.slot; s++) if (!this.slotInUse(b0.index, s)) return { bus: b0.index, slot: s };
    }
    return undefined;
  }

  private nextAggregate(): PciAddress {
    const root = this.buses.find((b) => b.kind === 'pcie-root');
    if (!root) throw addrError('No PCIe root bus for a pcie-root-port');
    for (const s of [...root.aggregate].sort((a, b) => a - b)) {
      const fns = root.used.get(s) ?? new Set<number>();
      for (let f = 0; f < 8; f++) {
        if (!fns.has(f)) {
          const a: PciAddress = { type: 'pci', domain: 0, bus: root.index, slot: s, function: f };
          this.reserve(a);
          return a;
        }
      }
    }
    for (let s = root.minSlot; s <= root.maxSlot; s++) {
      if (!this.slotInUse(root.index, s)) {
        root.aggregate.add(s);
        const a: PciAddress = { type: 'pci', domain: 0, bus: root.index, slot: s, function: 0 };
        this.reserve(a);
        return a;
      }
    }
    throw addrError('No more available PCI slots');
  }

  private addController(model: AddedController['model']): number {
    const index = this.maxBus() + 1;
    this.addBus(index, model);
    this.added.push({ index, model });
    return index;
  }

  /** Whether some root port has its slot free (for hotplug). */
  hasEmptyRootPort(): boolean {
    return this.buses.some((b) => b.kind === 'root-port' && !this.slotInUse(b.index, 0));
  }

  /** Adds a root port with nothing in it (libvirt's one spare port for hotplug on q35). */
  addSpareRootPort(): void {
    this.addController('pcie-root-port');
  }

  private take(bus: number, slot: number, fn = 0): PciAddress {
    const a: PciAddress = { type: 'pci', domain: 0, bus, slot, function: fn };
    this.reserve(a);
    this.last = { bus, slot };
    return a;
  }
}

/** Whether a device still needs a PCI address (none, or an empty <address type='pci'/>). */
function wantsPci(info: DeviceInfo): boolean {
  return !info.address || (info.address.type === 'pci' && pciAddressIsEmpty(info.address));
}

function hasPci(info: DeviceInfo): info is DeviceInfo & { address: PciAddress } {
  return info.address?.type === 'pci' && !pciAddressIsEmpty(info.address);
}

/** Every address the domain's devices hold, reserved (qemuDomainCollectPCIAddress). */
function collectPci(def: DomainDef, set: PciAddressSet): void {
  for (const d of allDevices(def)) {
    const info = d.def as DeviceInfo;
    if (d.kind === 'controller' && (d.def.model === 'pci-root' || d.def.model === 'pcie-root')) continue;
    if (hasPci(info)) set.reserve(info.address);
  }
}

function assign(set: PciAddressSet, info: DeviceInfo, conn: PciConnect = 'pci'): void {
  const multi = info.address?.type === 'pci' ? info.address.multifunction : undefined;
  const a = set.reserveNext(conn);
  if (multi !== undefined) a.multifunction = multi;
  info.address = a;
}

const PIIX3_IDE = { type: 'pci', domain: 0, bus: 0, slot: 1, function: 1 } as const;
const PIIX3_USB = { type: 'pci', domain: 0, bus: 0, slot: 1, function: 2 } as const;

/** qemuDomainValidateDevicePCISlotsPIIX3: the PIIX3's own functions on slot 1, video on slot 2. */
function piix3Slots(def: DomainDef, set: PciAddressSet): void {
  for (const c of def.devices.controllers ?? []) {
    const fixed = c.type === 'ide' && c.index === 0 ? PIIX3_IDE : c.type === 'usb' && c.index === 0 && c.model === 'piix3-uhci' ? PIIX3_USB : undefined;
    if (!fixed) continue;
    if (hasPci(c)) {
      const a = c.address;
      if (a.bus !== 0 || a.slot !== 1 || a.function !== fixed.function) {
        throw addrError(
          c.type === 'ide' ? 'Primary IDE controller must have PCI address 0:0:1.1' : 'PIIX3 USB controller at index 0 must have PCI address 0:0:1.2',
        );
      }
      continue;
    }
    c.address = { ...fixed };
    set.reserve(c.address);
  }
  // the ISA bridge (1.0) and the power management function (1.3)
  for (const fn of [0, 3]) {
    if (!set.slotInUseFn(0, 1, fn)) set.reserve({ domain: 0, bus: 0, slot: 1, function: fn });
  }
  primaryVideoSlot(def, set, 2);
}

/** The primary video card in its customary slot (2 on the PIIX3, 1 on the Q35) when free. */
function primaryVideoSlot(def: DomainDef, set: PciAddressSet, slot: number): void {
  const v = def.devices.videos?.[0];
  if (v && v.model.type !== 'none' && v.model.type !== 'ramfb' && wantsPci(v)) {
    if (set.slotInUse(0, slot)) assign(set, v);
    else {
      v.address = { type: 'pci', domain: 0, bus: 0, slot, function: 0 };
      set.reserve(v.address);
    }
  }
}

const Q35_SATA = { type: 'pci', domain: 0, bus: 0, slot: 0x1f, function: 2 } as const;

/** qemuDomainValidateDevicePCISlotsQ35: the ICH9's SATA, LPC and SMBus functions on slot 0x1f, video on 1, HDA on 0x1b. */
function q35Slots(def: DomainDef, set: PciAddressSet): void {
  for (const c of def.devices.controllers ?? []) {
    if (c.type !== 'sata' || c.index !== 0) continue;
    if (hasPci(c)) {
      if (c.address.bus !== 0 || c.address.slot !== 0x1f || c.address.function !== 2) {
        throw addrError('Primary SATA controller must have PCI address 0:0:1f.2');
      }
      continue;
    }
    c.address = { ...Q35_SATA };
    set.reserve(c.address);
  }
  if (!set.slotInUseFn(0, 0x1f, 0)) set.reserve({ domain: 0, bus: 0, slot: 0x1f, function: 0 });
  if (!set.slotInUseFn(0, 0x1f, 3)) set.reserve({ domain: 0, bus: 0, slot: 0x1f, function: 3 });
  primaryVideoSlot(def, set, 1);
  if (!set.slotInUse(0, 0x1b)) {
    const hda = (def.devices.sounds ?? []).find((s) => s.model === 'ich9' && wantsPci(s));
    if (hda) {
      hda.address = { type: 'pci', domain: 0, bus: 0, slot: 0x1b, function: 0 };
      set.reserve(hda.address);
    }
  }
}

/**
 * How a device plugs in on a Q35 machine (qemuDomainDeviceCalculatePCIConnectFlags): virtio,
 * xHCI, e1000e, VFIO and AHCI are PCIe endpoints; older models are conventional PCI.
 */
function q35Connect(kind: string, dev: Record<string, unknown>): PciConnect {
  const model = dev.model as string | undefined;
  const virtio = model === undefined || model === 'virtio' || model === 'virtio-non-transitional';
  switch (kind) {
    case 'controller': {
      const type = dev.type as string;
      if (type === 'pci') {
        if (model === 'pcie-root-port' || model === 'pcie-switch-downstream-port') return 'root-port';
        if (model === 'pcie-to-pci-bridge') return 'pcie-to-pci-bridge';
        return 'pci-bridge';
      }
      if (type === 'usb') return model === 'qemu-xhci' || model === 'nec-xhci' ? 'pcie' : 'pci';
      if (type === 'scsi') return model === 'virtio-scsi' || model === 'virtio-non-transitional' ? 'pcie' : 'pci';
      if (type === 'virtio-serial') return virtio ? 'pcie' : 'pci';
      if (type === 'sata') return 'pcie';
      return 'pci';
    }
    case 'interface':
      return model === 'virtio' || model === 'virtio-non-transitional' || model === 'e1000e' ? 'pcie' : 'pci';
    case 'hostdev':
      return 'pcie';
    case 'sound':
      return model === 'ich9' ? 'pcie' : 'pci';
    case 'disk':
    case 'memballoon':
    case 'rng':
    case 'input':
      return virtio ? 'pcie' : 'pci';
    case 'video': {
      const t = (dev.model as { type?: string } | undefined)?.type;
      return t === 'virtio' ? 'pcie' : 'pci';
    }
    default:
      return 'pci';
  }
}

/** Devices that sit on PCI, in the order libvirt hands out slots (qemuDomainAssignDevicePCISlots). */
function pciDevicesInOrder(def: DomainDef): { kind: string; info: DeviceInfo }[] {
  const out: { kind: string; info: DeviceInfo }[] = [];
  const add = (kind: string, info: DeviceInfo): void => {
    out.push({ kind, info });
  };
  const d = def.devices;
  for (const c of d.controllers ?? []) if (c.type === 'pci' && c.model !== 'pci-root' && c.model !== 'pcie-root') add('controller', c);
  for (const n of d.interfaces ?? []) if (n.type !== 'hostdev') add('interface', n);
  for (const s of d.sounds ?? []) if (s.model !== 'sb16' && s.model !== 'pcspk' && s.model !== 'usb') add('sound', s);
  for (const c of d.controllers ?? []) {
    if (c.type === 'pci' || c.type === 'fdc' || c.type === 'ccid') continue;
    if (c.type === 'usb' && c.model === 'none') continue;
    if (c.type === 'ide' && c.index === 0) continue;
    if (c.type === 'scsi' && c.model === 'ncr53c90') continue;
    add('controller', c);
  }
  for (const k of d.disks ?? []) if (k.target.bus === 'virtio') add('disk', k);
  // a hostdev interface is also a hostdev, listed before the <hostdev> elements (libvirt
  // parses interfaces first)
  for (const n of d.interfaces ?? []) if (n.type === 'hostdev' && n.hostdev?.source.type === 'pci') add('hostdev', n);
  for (const h of d.hostdevs ?? []) {
    if (h.mode !== 'subsystem') continue;
    if (h.source.type === 'pci' || h.source.type === 'scsi_host' || (h.source.type === 'mdev' && h.source.model === 'vfio-pci')) {
      if (h.address?.type !== 'unassigned') add('hostdev', h);
    }
  }
  if (d.memballoon && d.memballoon.model !== 'none') add('memballoon', d.memballoon);
  for (const r of d.rngs ?? []) add('rng', r);
  for (const w of d.watchdogs ?? []) if (w.model === 'i6300esb') add('watchdog', w);
  for (const v of d.videos ?? []) if (v.model.type !== 'none' && v.model.type !== 'ramfb') add('video', v);
  for (const i of d.inputs ?? []) if (i.bus === 'virtio') add('input', i);
  for (const s of d.serials ?? []) if (s.target.type === 'pci-serial') add('serial', s);
  return out;
}

/** The function of each ICH9 USB2 controller in the slot the companions share. */
function usb2Function(c: ControllerDef): number | undefined {
  if (c.type !== 'usb') return undefined;
  return { 'ich9-ehci1': 7, 'ich9-uhci1': 0, 'ich9-uhci2': 1, 'ich9-uhci3': 2 }[c.model ?? ''];
}

/** USB2 companions (EHCI + UHCIs of one index) share a slot, each at its own function. */
function assignUsb2(def: DomainDef, set: PciAddressSet, c: ControllerDef, conn: PciConnect): void {
  const fn = usb2Function(c)!;
  const sibling = (def.devices.controllers ?? []).find((o) => o !== c && o.type === 'usb' && o.index === c.index && usb2Function(o) !== undefined && hasPci(o));
  let a: PciAddress;
  if (sibling && hasPci(sibling)) {
    a = { type: 'pci', domain: 0, bus: sibling.address.bus, slot: sibling.address.slot, function: fn };
    set.reserve(a);
  } else a = set.reserveNext(conn, fn);
  if (fn === 0) a.multifunction = true;
  c.address = a;
}

/** virDomainPCIAddressSetAllMulti: function 0 of a slot with several functions in use says so. */
function markMultifunction(def: DomainDef, set: PciAddressSet): void {
  for (const d of allDevices(def)) {
    const a = (d.def as DeviceInfo).address;
    if (a?.type === 'pci' && a.function === 0 && a.multifunction === undefined && set.functionsInUse(a.bus, a.slot) > 1) a.multifunction = true;
  }
}

/** Model names and chassis/port numbers of PCI controllers (what libvirt fills in after addressing). */
function pciControllerDefaults(def: DomainDef): void {
  for (const c of def.devices.controllers ?? []) {
    if (c.type !== 'pci') continue;
    const a = c.address?.type === 'pci' ? c.address : undefined;
    switch (c.model) {
      case 'pci-bridge':
        c.modelName ??= 'pci-bridge';
        c.target ??= {};
        c.target.chassisNr ??= c.index;
        break;
      case 'pcie-root-port':
        c.modelName ??= 'pcie-root-port';
        c.target ??= {};
        c.target.chassis ??= c.index;
        if (a) c.target.port ??= (a.slot << 3) + a.function;
        break;
      case 'pcie-to-pci-bridge':
        c.modelName ??= 'pcie-pci-bridge';
        break;
      case 'dmi-to-pci-bridge':
        c.modelName ??= 'i82801b11-bridge';
        break;
      default:
        break;
    }
  }
}

/**
 * PCI addresses for every device that needs one: the PIIX3 layout on i440fx; on Q35 every PCIe
 * device in a pcie-root-port of its own (added as needed, plus one spare for hotplug when the
 * XML named no PCI controllers) and conventional PCI devices behind a pcie-to-pci-bridge.
 */
export function assignPciAddresses(def: DomainDef): void {
  const chipset = machineChipset(def.os.machine);
  const controllers = def.devices.controllers ?? [];
  const userPciControllers = controllers.some((c) => c.type === 'pci' && c.index > 0);
  const set = new PciAddressSet(controllers, { grow: chipset === 'q35' });
  if (set.busCount === 0) return;
  collectPci(def, set);
  if (chipset === 'i440fx') piix3Slots(def, set);
  if (chipset === 'q35') q35Slots(def, set);
  for (const { kind, info } of pciDevicesInOrder(def)) {
    if (!wantsPci(info)) continue;
    const conn = chipset === 'q35' ? q35Connect(kind, info as unknown as Record<string, unknown>) : 'pci';
    if (kind === 'controller' && usb2Function(info as ControllerDef) !== undefined) assignUsb2(def, set, info as ControllerDef, conn);
    else assign(set, info, conn);
  }
  if (chipset === 'q35' && !userPciControllers && set.added.length && !set.hasEmptyRootPort()) set.addSpareRootPort();
  // the controllers added to make room, and their own places
  for (const added of set.added) {
    const c: ControllerDef = { type: 'pci', index: added.index, model: added.model };
    // appended, as virDomainDefMaybeAddController does
    (def.devices.controllers ??= []).push(c);
    if (added.model === 'pcie-root-port') c.address = set.reserveNext('root-port');
    else c.address = { type: 'pci', domain: 0, bus: added.index - 1, slot: 0, function: 0 };
  }
  markMultifunction(def, set);
  pciControllerDefaults(def);
}

/** USB ports per controller model (virDomainUSBAddressControllerModelToPorts). */
function usbPorts(c: ControllerDef): number {
  if (c.ports) return c.ports;
  switch (c.model) {
    case 'piix3-uhci':
    case 'piix4-uhci':
    case 'vt82c686b-uhci':
    case 'ich9-uhci1':
    case 'ich9-uhci2':
    case 'ich9-uhci3':
      return 2;
    case 'ehci':
    case 'ich9-ehci1':
      return 6;
    case 'pci-ohci':
      return 3;
    case 'nec-xhci':
      return 4;
    case 'qemu-xhci':
      return 15;
    default:
      return 0;
  }
}

function usbInfos(def: DomainDef): DeviceInfo[] {
  const d = def.devices;
  const out: DeviceInfo[] = [];
  for (const k of d.disks ?? []) if (k.target.bus === 'usb') out.push(k);
  for (const n of d.interfaces ?? []) if (n.model === 'usb-net') out.push(n);
  for (const s of d.sounds ?? []) if (s.model === 'usb') out.push(s);
  for (const h of d.hostdevs ?? []) if (h.source.type === 'usb') out.push(h);
  for (const i of d.inputs ?? []) if (i.bus === 'usb') out.push(i);
  for (const s of d.serials ?? []) if (s.target.type === 'usb-serial') out.push(s);
  return out;
}

/**
 * USB ports for USB devices without an address (first free port of the first controller);
 * with `only`, just for that device (a hotplug: the others keep what they have).
 */
export function assignUsbAddresses(def: DomainDef, only?: DeviceInfo): void {
  const ctrls = (def.devices.controllers ?? []).filter((c) => c.type === 'usb' && c.model !== 'none' && !c.master);
  if (!ctrls.length) return;
  const used = new Map<number, Set<string>>();
  const devs = usbInfos(def);
  for (const i of devs) {
    if (i.address?.type === 'usb' && i.address.port) {
      let s = used.get(i.address.bus);
      if (!s) used.set(i.address.bus, (s = new Set()));
      s.add(i.address.port);
    }
  }
  for (const i of only ? [only] : devs) {
    if (i.address) continue;
    let placed = false;
    for (const c of ctrls) {
      const n = usbPorts(c);
      let s = used.get(c.index);
      if (!s) used.set(c.index, (s = new Set()));
      for (let p = 1; p <= n; p++) {
        if (!s.has(String(p))) {
          s.add(String(p));
          i.address = { type: 'usb', bus: c.index, port: String(p) };
          placed = true;
          break;
        }
      }
      if (placed) break;
    }
    if (!placed) throw addrError('No free USB ports');
  }
}

/** virtio-serial ports for virtio channels (port 0 is kept for a console). */
export function assignVirtioSerialAddresses(def: DomainDef): void {
  const used = new Set<string>();
  const channels = (def.devices.channels ?? []).filter((c) => c.target.type === 'virtio');
  for (const c of channels) if (c.address?.type === 'virtio-serial' && c.address.port) used.add(`${c.address.controller}.${c.address.bus}.${c.address.port}`);
  for (const c of channels) {
    if (c.address?.type === 'virtio-serial' && c.address.port) continue;
    const controller = c.address?.type === 'virtio-serial' ? c.address.controller : 0;
    const bus = c.address?.type === 'virtio-serial' ? c.address.bus : 0;
    const cont = def.devices.controllers?.find((x) => x.type === 'virtio-serial' && x.index === controller);
    const max = cont?.ports ?? 31;
    let port = 1;
    while (used.has(`${controller}.${bus}.${port}`) && port < max) port++;
    if (used.has(`${controller}.${bus}.${port}`)) throw addrError('Unable to find a free virtio-serial port');
    used.add(`${controller}.${bus}.${port}`);
    c.address = { type: 'virtio-serial', controller, bus, port };
  }
}

/** All of libvirt's define-time address assignment for a QEMU domain. */
export function assignDomainAddresses(def: DomainDef): void {
  assignVirtioSerialAddresses(def);
  assignPciAddresses(def);
  assignUsbAddresses(def);
}

/**
 * Addresses for one device about to be hotplugged into a running domain (`def` is the live
 * definition, without the device): a free PCI slot, USB port or virtio-serial port.
 */
export function assignHotplugAddress(def: DomainDef, dev: DomainDeviceDef): void {
  const info = dev.def as DeviceInfo;
  if (dev.kind === 'disk' && dev.def.target.bus === 'usb') {
    if (!info.address) assignUsbAddresses(def, info);
    return;
  }
  const onPci =
    (dev.kind === 'disk' && dev.def.target.bus === 'virtio') ||
    (dev.kind === 'interface' && dev.def.model !== 'usb-net') ||
    (dev.kind === 'hostdev' && dev.def.source.type === 'pci') ||
    (dev.kind === 'controller' && ['scsi', 'virtio-serial', 'usb', 'sata'].includes(dev.def.type)) ||
    dev.kind === 'rng' ||
    (dev.kind === 'watchdog' && dev.def.model === 'i6300esb') ||
    (dev.kind === 'input' && dev.def.bus === 'virtio');
  if (!onPci || !wantsPci(info)) return;
  const chipset = machineChipset(def.os.machine);
  // a running machine gets no new buses: the device takes a free slot or a spare root port
  const set = new PciAddressSet(def.devices.controllers ?? []);
  collectPci(def, set);
  if (chipset === 'i440fx') {
    for (const fn of [0, 1, 2, 3]) if (!set.slotInUseFn(0, 1, fn)) set.reserve({ domain: 0, bus: 0, slot: 1, function: fn });
  }
  const kind = dev.kind === 'interface' && dev.def.type === 'hostdev' ? 'hostdev' : dev.kind;
  assign(set, info, chipset === 'q35' ? q35Connect(kind, info as unknown as Record<string, unknown>) : 'pci');
}
