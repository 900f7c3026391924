// The hooks a hypervisor driver gives the domain parser, like libvirt's virDomainDefParserConfig:
// defaults filled in after parsing, device defaults, address assignment, extra validation and a
// driver XML namespace. The generic defaults every driver gets live in postParse.ts.
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import type { DomainDef } from './domainDef.js';
import type { DomainDeviceDef } from './domainDevices.js';
import type { ParseContext } from './parseContext.js';

/** virDomainDefFeatures: optional parser behaviour a driver opts into. */
export interface DomainParserFeatures {
  /** <maxMemory> and memory devices are accepted. */
  memoryHotplug?: boolean;
  /** vcpupin for offline vCPUs is kept. */
  offlineVcpupin?: boolean;
  /** <vcpus><vcpu id enabled/></vcpus> is accepted. */
  individualVcpus?: boolean;
  /** User aliases ('ua-…') are kept in inactive XML. */
  userAlias?: boolean;
  /** <os firmware='…'> autoselection is supported. */
  fwAutoselect?: boolean;
  /** <model type='…'/> of an interface may be any string. */
  netModelString?: boolean;
  /** Domain names may contain '/'. */
  nameSlash?: boolean;
  /** The driver has no per-device <boot order>; <os><boot/> is not defaulted. */
  noBootOrder?: boolean;
  /** Disks may be passed as file descriptors. */
  diskFd?: boolean;
}

export interface PostParseOptions {
  /** Parsing inactive (persistent) XML, as define does. */
  inactive: boolean;
}

/** A driver XML namespace (<test:runstate>, <qemu:commandline>): parsed and written by the driver. */
export interface DomainXmlNamespace {
  prefix: string;
  uri: string;
  /** Reads the driver's elements under <domain>; marks what it read via ctx. */
  parse(ctx: ParseContext, root: XmlElement): unknown;
  /** Writes the driver's elements (indented inside <domain>). */
  format(w: XmlWriter, data: unknown): void;
}

export interface DomainDriverDefaults {
  features?: DomainParserFeatures;
  /** Architecture when <os><type arch> is absent (libvirt's defArch; the host's otherwise). */
  defArch?: string;
  /** The host's first security model, given to a single <seclabel> without one (defSecModel). */
  defSecModel?: string;
  /** Prefix of host interface names this driver generates ('vnet'); dropped from inactive XML. */
  netPrefix?: string;
  /** First callback after parsing (capabilities: emulator, machine for the os/virt type). */
  domainPostParseBasic?(def: DomainDef, opts: PostParseOptions): void;
  /** Domain-wide defaults (qemuDomainDefPostParse: machine defaults, implicit controllers, …). */
  domainPostParse?(def: DomainDef, opts: PostParseOptions): void;
  /** Per-device defaults, called for every device before the generic ones. */
  devicePostParse?(dev: DomainDeviceDef, def: DomainDef, opts: PostParseOptions): void;
  /** Address assignment (PCI slots, drive units) once all defaults are in. */
  assignAddresses?(def: DomainDef, opts: PostParseOptions): void;
  /** Driver checks after the generic validation. */
  domainValidate?(def: DomainDef): void;
  deviceValidate?(dev: DomainDeviceDef, def: DomainDef): void;
  namespace?: DomainXmlNamespace;
}
