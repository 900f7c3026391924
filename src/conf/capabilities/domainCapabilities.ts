// Domain capabilities (virConnectGetDomainCapabilities, `virsh domcapabilities`): what one
// emulator/machine/arch/virt-type combination can do, printed as libvirt's virDomainCapsFormat.
// Lists of values are kept as strings in the order libvirt prints them (its enum order), so the
// QEMU driver fills them from its probes and the formatter stays generic.
import { XmlWriter } from '../xml/xmlWriter.js';
import { type CapsCpuDef, writeCapsCpuDef } from './cpuDef.js';

/** <enum name='…'><value>…</value></enum>; an empty list prints <enum name='…'/>. */
export interface DomainCapsEnum {
  name: string;
  values: string[];
}

/**
 * An item with supported='yes|no' and enums (os, memoryBacking, each device, gic, hyperv).
 * undefined in its slot = not reported at all.
 */
export interface DomainCapsItem {
  supported: boolean;
  enums: DomainCapsEnum[];
}

export interface DomainCapsCpuModel {
  name: string;
  usable: 'yes' | 'no' | 'unknown';
  deprecated?: boolean;
  /** printed as 'unknown' when not known */
  vendor?: string;
}

export interface DomainCapsCpu {
  hostPassthrough: boolean;
  /** <enum name='hostPassthroughMigratable'> values (on/off), when reported */
  hostPassthroughMigratable?: string[];
  maximum: boolean;
  /** <enum name='maximumMigratable'> values, when reported */
  maximumMigratable?: string[];
  /** the host-model CPU; undefined = host-model not supported */
  hostModel?: CapsCpuDef;
  /** models of mode custom; empty = custom not supported */
  custom: DomainCapsCpuModel[];
}

export interface DomainCapsSev {
  cbitpos: number;
  reducedPhysBits: number;
  maxGuests: number;
  maxESGuests: number;
  cpu0Id?: string;
}

export interface DomainCapsSgx {
  flc: boolean;
  sgx1: boolean;
  sgx2: boolean;
  /** KiB */
  sectionSize: number;
  sections: { node: number; size: number }[];
}

/** The device kinds in the order libvirt prints them. */
export const DOMAIN_CAPS_DEVICES = ['disk', 'graphics', 'video', 'hostdev', 'rng', 'filesystem', 'tpm', 'redirdev', 'channel', 'crypto'] as const;
export type DomainCapsDeviceName = (typeof DOMAIN_CAPS_DEVICES)[number];

/** Simple yes/no features in the order libvirt prints them (after gic). */
export const DOMAIN_CAPS_SIMPLE_FEATURES = ['vmcoreinfo', 'genid', 'backingStoreInput', 'backup', 'async-teardown', 's390-pv'] as const;
export type DomainCapsSimpleFeature = (typeof DOMAIN_CAPS_SIMPLE_FEATURES)[number];

export interface DomainCapabilities {
  /** emulator binary */
  path: string;
  /** virt type: kvm, qemu, … */
  domain: string;
  machine?: string;
  arch: string;
  /** 0/undefined = not printed */
  maxVcpus?: number;
  /** undefined = not reported */
  iothreads?: boolean;
  /** os: the firmware enum plus the loader with its paths */
  os?: { supported: boolean; enums: DomainCapsEnum[]; loader?: { supported: boolean; values: string[]; enums: DomainCapsEnum[] } };
  cpu: DomainCapsCpu;
  memoryBacking?: DomainCapsItem;
  devices: Partial<Record<DomainCapsDeviceName, DomainCapsItem>>;
  features: {
    gic?: DomainCapsItem;
    simple: Partial<Record<DomainCapsSimpleFeature, boolean>>;
    /** undefined prints <sev supported='no'/> */
    sev?: DomainCapsSev;
    /** undefined prints <sgx supported='no'/> */
    sgx?: DomainCapsSgx;
    hyperv?: DomainCapsItem;
  };
}

function writeEnums(w: XmlWriter, enums: DomainCapsEnum[]): void {
  for (const e of enums) {
    w.element('enum', { name: e.name }, (ew) => {
      for (const v of e.values) ew.text('value', v);
    });
  }
}

/** FORMAT_PROLOGUE/EPILOGUE: <x supported='no'/> or <x supported='yes'> … </x>. */
function writeItem(w: XmlWriter, name: string, item: DomainCapsItem | undefined, body?: (w: XmlWriter) => void): void {
  if (!item) return;
  if (!item.supported) {
    w.empty(name, { supported: 'no' });
    return;
  }
  w.open(name, { supported: 'yes' });
  body?.(w);
  writeEnums(w, item.enums);
  w.close(name);
}

function writeCpu(w: XmlWriter, cpu: DomainCapsCpu): void {
  w.open('cpu');
  const modeWithEnum = (name: string, supported: boolean, enumName: string, values: string[] | undefined) => {
    if (supported && values) {
      w.open('mode', { name, supported: 'yes' });
      writeEnums(w, [{ name: enumName, values }]);
      w.close('mode');
    } else w.empty('mode', { name, supported: supported ? 'yes' : 'no' });
  };
  modeWithEnum('host-passthrough', cpu.hostPassthrough, 'hostPassthroughMigratable', cpu.hostPassthroughMigratable);
  modeWithEnum('maximum', cpu.maximum, 'maximumMigratable', cpu.maximumMigratable);
  if (cpu.hostModel) {
    w.open('mode', { name: 'host-model', supported: 'yes' });
    writeCapsCpuDef(w, cpu.hostModel);
    w.close('mode');
  } else w.empty('mode', { name: 'host-model', supported: 'no' });
  if (cpu.custom.length) {
    w.open('mode', { name: 'custom', supported: 'yes' });
    for (const m of cpu.custom) w.text('model', m.name, { usable: m.usable, deprecated: m.deprecated ? 'yes' : undefined, vendor: m.vendor ?? 'unknown' });
    w.close('mode');
  } else w.empty('mode', { name: 'custom', supported: 'no' });
  w.close('cpu');
}

/** virDomainCapsFormat. */
export function formatDomainCapabilitiesXML(caps: DomainCapabilities): string {
  const w = new XmlWriter();
  w.open('domainCapabilities');
  w.text('path', caps.path);
  w.text('domain', caps.domain);
  if (caps.machine !== undefined) w.text('machine', caps.machine);
  w.text('arch', caps.arch);
  if (caps.maxVcpus) w.empty('vcpu', { max: caps.maxVcpus });
  if (caps.iothreads !== undefined) w.empty('iothreads', { supported: caps.iothreads ? 'yes' : 'no' });

  const os = caps.os;
  if (os) {
    writeItem(w, 'os', { supported: os.supported, enums: [] }, (ow) => {
      writeEnums(ow, os.enums);
      const loader = os.loader;
      if (loader) {
        writeItem(ow, 'loader', { supported: loader.supported, enums: loader.enums }, (lw) => {
          for (const v of loader.values) lw.text('value', v);
        });
      }
    });
  }
  writeCpu(w, caps.cpu);
  writeItem(w, 'memoryBacking', caps.memoryBacking);

  w.open('devices');
  for (const d of DOMAIN_CAPS_DEVICES) writeItem(w, d, caps.devices[d]);
  w.close('devices');

  w.element('features', undefined, (fw) => {
    writeItem(fw, 'gic', caps.features.gic);
    for (const f of DOMAIN_CAPS_SIMPLE_FEATURES) {
      const v = caps.features.simple[f];
      if (v !== undefined) fw.empty(f, { supported: v ? 'yes' : 'no' });
    }
    const sev = caps.features.sev;
    if (sev) {
      fw.open('sev', { supported: 'yes' });
      fw.text('cbitpos', sev.cbitpos);
      fw.text('reducedPhysBits', sev.reducedPhysBits);
      fw.text('maxGuests', sev.maxGuests);
      fw.text('maxESGuests', sev.maxESGuests);
      if (sev.cpu0Id !== undefined) fw.text('cpu0Id', sev.cpu0Id);
      fw.close('sev');
    } else fw.empty('sev', { supported: 'no' });
    const sgx = caps.features.sgx;
    if (sgx) {
      fw.open('sgx', { supported: 'yes' });
      fw.text('flc', sgx.flc ? 'yes' : 'no');
      fw.text('sgx1', sgx.sgx1 ? 'yes' : 'no');
      fw.text('sgx2', sgx.sgx2 ? 'yes' : 'no');
      fw.text('section_size', sgx.sectionSize, { unit: 'KiB' });
      if (sgx.sections.length) {
        fw.open('sections');
        for (const s of sgx.sections) fw.empty('section', { node: s.node, size: s.size, unit: 'KiB' });
        fw.close('sections');
      }
      fw.close('sgx');
    } else fw.empty('sgx', { supported: 'no' });
    writeItem(fw, 'hyperv', caps.features.hyperv);
  });
  w.close('domainCapabilities');
  return w.toString();
}
