// A device's <address>: where it sits on the guest's buses (pci, drive, virtio-serial, ccid,
// usb, spapr-vio, ccw, virtio-mmio, isa, dimm).
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import { ParseContext, internalError, onOff, unsupported, xmlError } from './parseContext.js';
import { strToUIntP } from '../xmlProps.js';

export const ADDRESS_TYPES = [
  'none', 'pci', 'drive', 'virtio-serial', 'ccid', 'usb', 'spapr-vio', 'virtio-s390', 'ccw', 'virtio-mmio',
  'isa', 'dimm', 'unassigned',
] as const;

export interface PciAddress {
  type: 'pci';
  domain: number;
  bus: number;
  slot: number;
  function: number;
  multifunction?: boolean;
  zpci?: { uid?: number; fid?: number };
}
export interface DriveAddress {
  type: 'drive';
  controller: number;
  bus: number;
  target: number;
  unit: number;
}
export interface VirtioSerialAddress {
  type: 'virtio-serial';
  controller: number;
  bus: number;
  port: number;
}
export interface CcidAddress {
  type: 'ccid';
  controller: number;
  slot: number;
}
export interface UsbAddress {
  type: 'usb';
  bus: number;
  /** Hub path, e.g. '1.2'. */
  port?: string;
}
export interface SpaprVioAddress {
  type: 'spapr-vio';
  reg?: bigint;
}
export interface CcwAddress {
  type: 'ccw';
  cssid: number;
  ssid: number;
  devno: number;
  assigned: boolean;
}
export interface IsaAddress {
  type: 'isa';
  iobase?: number;
  irq?: number;
}
export interface DimmAddress {
  type: 'dimm';
  slot: number;
  base?: bigint;
}

export type DeviceAddress =
  | PciAddress
  | DriveAddress
  | VirtioSerialAddress
  | CcidAddress
  | UsbAddress
  | SpaprVioAddress
  | CcwAddress
  | { type: 'virtio-mmio' }
  | IsaAddress
  | DimmAddress
  | { type: 'unassigned' };

export function pciAddressIsEmpty(a: { domain: number; bus: number; slot: number }): boolean {
  return !(a.domain || a.bus || a.slot);
}

/** virPCIDeviceAddressIsValid with reporting; errors come from libvirt's util code (domain NONE). */
export function checkPciAddress(a: { domain: number; bus: number; slot: number; function: number }): void {
  const fail = (m: string): never => {
    throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.NONE, m, { element: 'address' });
  };
  if (a.bus > 0xff) fail(`Invalid PCI address bus='0x${a.bus.toString(16)}', must be <= 0xFF`);
  if (a.slot > 0x1f) fail(`Invalid PCI address slot='0x${a.slot.toString(16)}', must be <= 0x1F`);
  if (a.function > 7) fail(`Invalid PCI address function=0x${a.function.toString(16)}, must be <= 7`);
  if (pciAddressIsEmpty(a)) fail('Invalid PCI address 0000:00:00, at least one of domain, bus, or slot must be > 0');
}

/** The attributes of a PCI address as libvirt reads them (virPCIDeviceAddressParseXML). */
export function parsePciAddress(ctx: ParseContext, el: XmlElement): PciAddress {
  const a: PciAddress = {
    type: 'pci',
    domain: ctx.uintProp(el, 'domain', 0) ?? 0,
    bus: ctx.uintProp(el, 'bus', 0) ?? 0,
    slot: ctx.uintProp(el, 'slot', 0) ?? 0,
    function: ctx.uintProp(el, 'function', 0) ?? 0,
  };
  const multi = ctx.switchProp(el, 'multifunction');
  if (multi !== undefined) a.multifunction = multi;
  if (!pciAddressIsEmpty(a)) checkPciAddress(a);
  const zpci = ctx.children(el, 'zpci').pop();
  if (zpci) {
    const z: NonNullable<PciAddress['zpci']> = {};
    const uid = ctx.uintProp(zpci, 'uid', 0);
    const fid = ctx.uintProp(zpci, 'fid', 0);
    if (uid !== undefined) z.uid = uid;
    if (fid !== undefined) z.fid = fid;
    a.zpci = z;
  }
  return a;
}

export function parseDeviceAddress(ctx: ParseContext, el: XmlElement): DeviceAddress | undefined {
  const type = ctx.attr(el, 'type');
  if (type === undefined) throw internalError('No type specified for device address', { element: 'address', attribute: 'type' });
  const i = (ADDRESS_TYPES as readonly string[]).indexOf(type);
  if (i <= 0) throw unsupported(`unknown address type '${type}'`, { element: 'address', attribute: 'type', value: type });
  const u = (name: string, base: 0 | 10 | 16 = 10): number => ctx.uintProp(el, name, base) ?? 0;
  switch (type as (typeof ADDRESS_TYPES)[number]) {
    case 'pci':
      return parsePciAddress(ctx, el);
    case 'drive':
      return { type: 'drive', controller: u('controller'), bus: u('bus'), target: u('target'), unit: u('unit') };
    case 'virtio-serial':
      return { type: 'virtio-serial', controller: u('controller'), bus: u('bus'), port: u('port') };
    case 'ccid':
      return { type: 'ccid', controller: u('controller'), slot: u('slot') };
    case 'usb': {
      const port = ctx.attr(el, 'port');
      if (port !== undefined) parseUsbPort(port);
      const a: UsbAddress = { type: 'usb', bus: 0 };
      a.bus = u('bus');
      if (port !== undefined) a.port = parseUsbPort(port);
      return a;
    }
    case 'spapr-vio': {
      const reg = ctx.ullProp(el, 'reg', 16);
      return reg ? { type: 'spapr-vio', reg } : { type: 'spapr-vio' };
    }
    case 'ccw': {
      const cssid = ctx.uintProp(el, 'cssid', 0);
      const ssid = ctx.uintProp(el, 'ssid', 0);
      const devno = ctx.uintProp(el, 'devno', 0);
      const a: CcwAddress = { type: 'ccw', cssid: cssid ?? 0, ssid: ssid ?? 0, devno: devno ?? 0, assigned: false };
      if (a.cssid > 0xfe || a.ssid > 3 || a.devno > 0xffff) {
        throw internalError(
          `Invalid specification for virtio ccw address: cssid='0x${a.cssid.toString(16)}' ssid='0x${a.ssid.toString(16)}' devno='0x${a.devno.toString(16).padStart(4, '0')}'`,
        );
      }
      if (cssid !== undefined && ssid !== undefined && devno !== undefined) a.assigned = true;
      else if (cssid !== undefined || ssid !== undefined || devno !== undefined) {
        throw internalError('Invalid partial specification for virtio ccw address');
      }
      return a;
    }
    case 'virtio-mmio':
      return { type: 'virtio-mmio' };
    case 'isa': {
      const a: IsaAddress = { type: 'isa' };
      const iobase = ctx.uintProp(el, 'iobase', 16);
      const irq = ctx.uintProp(el, 'irq', 16);
      if (iobase) a.iobase = iobase;
      if (irq) a.irq = irq;
      return a;
    }
    case 'virtio-s390':
      throw xmlError("virtio-s390 bus doesn't have an address");
    case 'dimm': {
      const slot = ctx.uintProp(el, 'slot', 10, { required: true })!;
      const base = ctx.ullProp(el, 'base', 16);
      return base ? { type: 'dimm', slot, base } : { type: 'dimm', slot };
    }
    case 'unassigned':
      return { type: 'unassigned' };
    default:
      return undefined;
  }
}

/** A USB hub path: up to 4 dot-separated port numbers. */
function parseUsbPort(port: string): string {
  const parts = port.split('.');
  if (parts.length > 4 || parts.some((p) => strToUIntP(p) === undefined)) {
    throw internalError("Cannot parse <address> 'port' attribute", { element: 'address', attribute: 'port', value: port });
  }
  return parts.map((p) => String(strToUIntP(p))).join('.');
}

const hex = (n: number | bigint, width: number): string => '0x' + n.toString(16).padStart(width, '0');

export function formatDeviceAddress(w: XmlWriter, a: DeviceAddress | undefined): void {
  if (!a) return;
  switch (a.type) {
    case 'pci': {
      const attrs: Record<string, string | undefined> = { type: 'pci' };
      if (!pciAddressIsEmpty(a)) {
        attrs.domain = hex(a.domain, 4);
        attrs.bus = hex(a.bus, 2);
        attrs.slot = hex(a.slot, 2);
        // libvirt prints the function in decimal after a '0x' prefix
        attrs.function = `0x${a.function}`;
      }
      attrs.multifunction = onOff(a.multifunction);
      const z = a.zpci;
      w.element('address', attrs, (c) => {
        if (z && (z.uid !== undefined || z.fid !== undefined)) c.empty('zpci', { uid: hex(z.uid ?? 0, 4), fid: hex(z.fid ?? 0, 8) });
      });
      return;
    }
    case 'drive':
      w.empty('address', { type: 'drive', controller: a.controller, bus: a.bus, target: a.target, unit: a.unit });
      return;
    case 'virtio-serial':
      w.empty('address', { type: 'virtio-serial', controller: a.controller, bus: a.bus, port: a.port });
      return;
    case 'ccid':
      w.empty('address', { type: 'ccid', controller: a.controller, slot: a.slot });
      return;
    case 'usb':
      w.empty('address', { type: 'usb', bus: a.bus, port: a.port });
      return;
    case 'spapr-vio':
      w.empty('address', { type: 'spapr-vio', reg: a.reg ? hex(a.reg, 8) : undefined });
      return;
    case 'ccw':
      w.empty('address', { type: 'ccw', cssid: '0x' + a.cssid.toString(16), ssid: '0x' + a.ssid.toString(16), devno: hex(a.devno, 4) });
      return;
    case 'isa':
      w.empty('address', {
        type: 'isa',
        iobase: a.iobase ? '0x' + a.iobase.toString(16) : undefined,
        irq: a.irq ? '0x' + a.irq.toString(16) : undefined,
      });
      return;
    case 'dimm':
      w.empty('address', { type: 'dimm', slot: a.slot, base: a.base ? '0x' + a.base.toString(16) : undefined });
      return;
    case 'virtio-mmio':
    case 'unassigned':
      w.empty('address', { type: a.type });
      return;
  }
}

/** '0000:03:00.1' form, as libvirt writes PCI addresses in messages. */
export function pciAddressString(a: { domain: number; bus: number; slot: number; function: number }): string {
  return `${a.domain.toString(16).padStart(4, '0')}:${a.bus.toString(16).padStart(2, '0')}:${a.slot.toString(16).padStart(2, '0')}.${a.function}`;
}
