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

interface PciBus {
  index: number;
  minSlot: number;
  maxSlot: number;
  /** slot → functions in use */
  used: Map<number, Set<number>>;
}

/** The PCI buses of a domain and which slots and functions are taken (virDomainPCIAddressSet). */
export class PciAddressSet {
  private readonly buses: PciBus[] = [];
  private last = { bus: 0, slot: 0 };

  constructor(controllers: readonly ControllerDef[]) {
    for (const c of controllers) {
      if (c.type !== 'pci') continue;
      if (c.model === 'pci-root') this.buses.push({ index: c.index, minSlot: 1, maxSlot: 31, used: new Map() });
      // a pci-bridge's slot 0 is not usable for devices
      else if (c.model === 'pci-bridge') this.buses.push({ index: c.index, minSlot: 1, maxSlot: 31, used: new Map() });
    }
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

  /** The first free slot from the last one handed out, wrapping round once (virDomainPCIAddressGetNextAddr). */
  reserveNext(): PciAddress {
    if (this.buses.length === 0) throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.DOMAIN, 'No PCI buses available');
    const order = [...this.buses.filter((b) => b.index >= this.last.bus), ...this.buses.filter((b) => b.index < this.last.bus)];
    for (const [i, b] of order.entries()) {
      const from = i === 0 ? Math.max(b.minSlot, this.last.slot) : b.minSlot;
      for (let s = from; s <= b.maxSlot; s++) {
        if (!this.slotInUse(b.index, s)) return this.take(b.index, s);
      }
    }
    // the slots before the last one handed out on its bus
    const b0 = this.bus(this.last.bus);
    if (b0) {
      for (let s = b0.minSlot; s < this.last.slot; s++) if (!this.slotInUse(b0.index, s)) return this.take(b0.index, s);
    }
    throw addrError('No more available PCI slots');
  }

  private take(bus: number, slot: number): PciAddress {
    const a: PciAddress = { type: 'pci', domain: 0, bus, slot, function: 0 };
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

function assign(set: PciAddressSet, info: DeviceInfo): void {
  const multi = info.address?.type === 'pci' ? info.address.multifunction : undefined;
  const a = set.reserveNext();
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
  const v = def.devices.videos?.[0];
  if (v && v.model.type !== 'none' && v.model.type !== 'ramfb' && wantsPci(v)) {
    if (set.slotInUse(0, 2)) assign(set, v);
    else {
      v.address = { type: 'pci', domain: 0, bus: 0, slot: 2, function: 0 };
      set.reserve(v.address);
    }
  }
}

/** Devices that sit on PCI, in the order libvirt hands out slots (qemuDomainAssignDevicePCISlots). */
function pciDevicesInOrder(def: DomainDef): DeviceInfo[] {
  const out: DeviceInfo[] = [];
  const d = def.devices;
  for (const c of d.controllers ?? []) if (c.type === 'pci' && c.model !== 'pci-root' && c.model !== 'pcie-root') out.push(c);
  for (const n of d.interfaces ?? []) if (n.type !== 'hostdev') out.push(n);
  for (const s of d.sounds ?? []) if (s.model !== 'sb16' && s.model !== 'pcspk' && s.model !== 'usb') out.push(s);
  for (const c of d.controllers ?? []) {
    if (c.type === 'pci' || c.type === 'fdc' || c.type === 'ccid') continue;
    if (c.type === 'usb' && c.model === 'none') continue;
    if (c.type === 'ide' && c.index === 0) continue;
    if (c.type === 'scsi' && c.model === 'ncr53c90') continue;
    out.push(c);
  }
  for (const k of d.disks ?? []) if (k.target.bus === 'virtio') out.push(k);
  // a hostdev interface is also a hostdev, listed before the <hostdev> elements (libvirt
  // parses interfaces first)
  for (const n of d.interfaces ?? []) if (n.type === 'hostdev' && n.hostdev?.source.type === 'pci') out.push(n);
  for (const h of d.hostdevs ?? []) {
    if (h.mode !== 'subsystem') continue;
    if (h.source.type === 'pci' || h.source.type === 'scsi_host' || (h.source.type === 'mdev' && h.source.model === 'vfio-pci')) {
      if (h.address?.type !== 'unassigned') out.push(h);
    }
  }
  if (d.memballoon && d.memballoon.model !== 'none') out.push(d.memballoon);
  for (const r of d.rngs ?? []) out.push(r);
  for (const w of d.watchdogs ?? []) if (w.model === 'i6300esb') out.push(w);
  for (const v of d.videos ?? []) if (v.model.type !== 'none' && v.model.type !== 'ramfb') out.push(v);
  for (const i of d.inputs ?? []) if (i.bus === 'virtio') out.push(i);
  for (const s of d.serials ?? []) if (s.target.type === 'pci-serial') out.push(s);
  return out;
}

/** PCI addresses for every device that needs one (the i440fx layout). */
export function assignPciAddresses(def: DomainDef): void {
  const chipset = machineChipset(def.os.machine);
  const set = new PciAddressSet(def.devices.controllers ?? []);
  if (set.busCount === 0) return;
  collectPci(def, set);
  if (chipset === 'i440fx') piix3Slots(def, set);
  for (const info of pciDevicesInOrder(def)) {
    if (!wantsPci(info)) continue;
    // a virtio disk with a non-PCI address is refused, like libvirt
    assign(set, info);
  }
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

/** USB ports for USB devices without an address (first free port of the first controller). */
export function assignUsbAddresses(def: DomainDef): void {
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
  for (const i of devs) {
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
  const onPci =
    (dev.kind === 'disk' && dev.def.target.bus === 'virtio') ||
    (dev.kind === 'interface' && dev.def.type !== 'hostdev' && dev.def.model !== 'usb-net') ||
    (dev.kind === 'hostdev' && dev.def.source.type === 'pci') ||
    (dev.kind === 'controller' && ['scsi', 'virtio-serial', 'usb', 'sata'].includes(dev.def.type)) ||
    dev.kind === 'rng' ||
    (dev.kind === 'watchdog' && dev.def.model === 'i6300esb') ||
    (dev.kind === 'input' && dev.def.bus === 'virtio');
  if (onPci && wantsPci(info)) {
    const set = new PciAddressSet(def.devices.controllers ?? []);
    collectPci(def, set);
    if (machineChipset(def.os.machine) === 'i440fx') {
      for (const fn of [0, 1, 2, 3]) if (!set.slotInUseFn(0, 1, fn)) set.reserve({ domain: 0, bus: 0, slot: 1, function: fn });
    }
    assign(set, info);
  }
}
