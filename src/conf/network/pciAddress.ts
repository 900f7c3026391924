// <address type='pci' domain bus slot function [multifunction]/> as libvirt's device_conf.c reads
// it (virPCIDeviceAddressParseXML) and writes it with the type included.
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import { plainReader, propOnOff, propUInt, type XmlReader } from '../xmlProps.js';

export interface PciAddress {
  domain: number;
  bus: number;
  slot: number;
  function: number;
  multifunction?: boolean;
}

function invalid(msg: string) {
  return virtError(ErrorNumber.XML_ERROR, ErrorDomain.NONE, msg, { element: 'address' });
}

/** Empty = domain, bus and slot all 0; libvirt skips the range checks for it. */
export function pciAddressIsEmpty(a: PciAddress): boolean {
  return !(a.domain || a.bus || a.slot);
}

/** virPCIDeviceAddressIsValid's checks, with its messages (XML_ERROR, domain NONE). */
export function validatePciAddress(a: PciAddress): void {
  if (a.bus > 0xff) throw invalid(`Invalid PCI address bus='0x${a.bus.toString(16)}', must be <= 0xFF`);
  if (a.slot > 0x1f) throw invalid(`Invalid PCI address slot='0x${a.slot.toString(16)}', must be <= 0x1F`);
  if (a.function > 7) throw invalid(`Invalid PCI address function=0x${a.function.toString(16)}, must be <= 7`);
}

export function parsePciAddress(el: XmlElement, r: XmlReader = plainReader): PciAddress {
  const a: PciAddress = {
    domain: propUInt(r, el, 'domain', { base: 0 }) ?? 0,
    bus: propUInt(r, el, 'bus', { base: 0 }) ?? 0,
    slot: propUInt(r, el, 'slot', { base: 0 }) ?? 0,
    function: propUInt(r, el, 'function', { base: 0 }) ?? 0,
  };
  const multi = propOnOff(r, el, 'multifunction');
  if (multi !== undefined) a.multifunction = multi;
  if (!pciAddressIsEmpty(a)) validatePciAddress(a);
  return a;
}

const hex = (n: number, width: number): string => `0x${n.toString(16).padStart(width, '0')}`;

/** "0000:04:10.2" */
export function formatPciAddressText(a: PciAddress): string {
  return `${a.domain.toString(16).padStart(4, '0')}:${a.bus.toString(16).padStart(2, '0')}:${a.slot.toString(16).padStart(2, '0')}.${a.function.toString(16)}`;
}

/** `<address type='pci' domain='0x0000' bus='0x04' slot='0x10' function='0x1'/>` */
export function formatPciAddress(w: XmlWriter, a: PciAddress): void {
  w.empty('address', { type: 'pci', domain: hex(a.domain, 4), bus: hex(a.bus, 2), slot: hex(a.slot, 2), function: hex(a.function, 1) });
}

export function pciAddressEqual(a: PciAddress, b: PciAddress): boolean {
  return a.domain === b.domain && a.bus === b.bus && a.slot === b.slot && a.function === b.function;
}
