// Host capabilities (virConnectGetCapabilities, `virsh capabilities`): the typed data a driver
// fills and the formatter that prints it exactly as libvirt's virCapabilitiesFormatXML, blank
// lines between the top-level sections included.
import { XmlWriter } from '../xml/xmlWriter.js';
import { yesNo } from '../xmlProps.js';
import { type CapsCpuDef, writeCapsCpuDef } from './cpuDef.js';

export type PowerManagementTarget = 'suspend_mem' | 'suspend_disk' | 'suspend_hybrid';

export interface NumaCellCpu {
  id: number;
  /** socket/die/core/siblings are printed only when siblings are known */
  socketId?: number;
  dieId?: number;
  coreId?: number;
  siblings?: number[];
}

export interface NumaCellCache {
  level: number;
  associativity: 'none' | 'direct' | 'full';
  policy: 'none' | 'writeback' | 'writethrough';
  /** KiB */
  size: number;
  /** bytes */
  line: number;
}

export interface NumaCell {
  id: number;
  /** KiB; left out when 0/unknown */
  memory?: number;
  pages: { size: number; count: number }[];
  distances: { id: number; value: number }[];
  cache?: NumaCellCache[];
  cpus: NumaCellCpu[];
}

export interface CacheBank {
  id: number;
  level: number;
  type: 'both' | 'code' | 'data';
  /** bytes; printed in the largest unit that divides it */
  size: number;
  cpus: number[];
  control?: { granularity: number; min?: number; unit: string; type: 'both' | 'code' | 'data'; maxAllocs: number }[];
}

export interface SecModel {
  model: string;
  doi: string;
  baselabel: { type: string; label: string }[];
}

export interface HostCapabilities {
  /** printed when valid (not all bytes equal) */
  uuid?: string;
  cpu: {
    arch: string;
    /** host-wide CPU flags printed as <features><pae/>…</features> (test driver, old Xen) */
    features: string[];
    /** the host CPU model, vendor, topology and feature names */
    def?: CapsCpuDef;
    /** page sizes in KiB */
    pages: number[];
  };
  powerManagement: PowerManagementTarget[];
  iommu: boolean;
  /** printed when migration is supported at all (libvirt's offlineMigrate) */
  migration?: { live: boolean; uriTransports: string[] };
  netprefix?: string;
  /** NUMA topology; undefined prints nothing, [] prints <cells num='0'> */
  topology?: { cells: NumaCell[] };
  cache?: { banks: CacheBank[] };
  secmodel: SecModel[];
}

export type GuestOsType = 'hvm' | 'xen' | 'linux' | 'exe' | 'xenpvh';

export interface GuestMachine {
  name: string;
  /** the versioned machine an alias stands for (pc → pc-i440fx-7.2) */
  canonical?: string;
  maxCpus?: number;
  deprecated?: boolean;
}

export interface GuestDomainType {
  /** virDomainVirtType name: qemu, kvm, test, … */
  type: string;
  /** set only when they differ from the arch's defaults */
  emulator?: string;
  loader?: string;
  machines: GuestMachine[];
}

export type GuestFeatureName = 'pae' | 'nonpae' | 'ia64_be' | 'acpi' | 'apic' | 'cpuselection' | 'deviceboot' | 'disksnapshot' | 'hap';

export interface GuestFeature {
  name: GuestFeatureName;
  default?: 'on' | 'off';
  toggle?: boolean;
}

/** The order libvirt prints guest features in (virCapsGuestFeatureType). */
export const GUEST_FEATURE_ORDER: readonly GuestFeatureName[] = ['pae', 'nonpae', 'ia64_be', 'acpi', 'apic', 'cpuselection', 'deviceboot', 'disksnapshot', 'hap'];

export interface GuestCapabilities {
  osType: GuestOsType;
  arch: {
    name: string;
    wordsize: number;
    emulator?: string;
    loader?: string;
    machines: GuestMachine[];
    domains: GuestDomainType[];
  };
  features: GuestFeature[];
}

export interface Capabilities {
  host: HostCapabilities;
  guests: GuestCapabilities[];
  /** storage pool types (newer libvirt prints a <pool> section; 9.0 does not) */
  pools?: string[];
}

function hostIsEmpty(h: HostCapabilities): boolean {
  return h.uuid === undefined && !h.cpu.arch && h.powerManagement.length === 0 && !h.iommu;
}

/** virFormatIntPretty: the largest binary unit that divides the byte count. */
export function prettySize(bytes: number): { size: number; unit: string } {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let size = bytes;
  let i = 0;
  while (size !== 0 && size % 1024 === 0 && i < units.length - 1) {
    size /= 1024;
    i++;
  }
  return { size, unit: units[i]! };
}

function bitmap(bits: readonly number[]): string {
  const s = [...new Set(bits)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    out.push(i === j ? String(s[i]) : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

function writeHost(w: XmlWriter, h: HostCapabilities): void {
  w.open('host');
  if (h.uuid !== undefined) w.text('uuid', h.uuid);
  w.open('cpu');
  if (h.cpu.arch) w.text('arch', h.cpu.arch);
  if (h.cpu.features.length) {
    w.open('features');
    for (const f of h.cpu.features) w.empty(f);
    w.close('features');
  }
  if (h.cpu.def) writeCapsCpuDef(w, h.cpu.def);
  for (const p of h.cpu.pages) w.empty('pages', { unit: 'KiB', size: p });
  w.close('cpu');

  if (h.powerManagement.length) {
    w.open('power_management');
    const order: PowerManagementTarget[] = ['suspend_mem', 'suspend_disk', 'suspend_hybrid'];
    for (const t of order) if (h.powerManagement.includes(t)) w.empty(t);
    w.close('power_management');
  } else w.empty('power_management');
  w.empty('iommu', { support: h.iommu ? 'yes' : 'no' });

  if (h.migration) {
    w.open('migration_features');
    if (h.migration.live) w.empty('live');
    if (h.migration.uriTransports.length) {
      w.open('uri_transports');
      for (const t of h.migration.uriTransports) w.text('uri_transport', t);
      w.close('uri_transports');
    }
    w.close('migration_features');
  }
  if (h.netprefix !== undefined) w.text('netprefix', h.netprefix);

  if (h.topology) {
    w.open('topology');
    w.open('cells', { num: h.topology.cells.length });
    for (const c of h.topology.cells) {
      w.open('cell', { id: c.id });
      if (c.memory) w.text('memory', c.memory, { unit: 'KiB' });
      for (const p of c.pages) w.text('pages', p.count, { unit: 'KiB', size: p.size });
      if (c.distances.length) {
        w.open('distances');
        for (const d of c.distances) w.empty('sibling', { id: d.id, value: d.value });
        w.close('distances');
      }
      for (const k of c.cache ?? []) {
        w.open('cache', { level: k.level, associativity: k.associativity, policy: k.policy });
        w.empty('size', { value: k.size, unit: 'KiB' });
        w.empty('line', { value: k.line, unit: 'B' });
        w.close('cache');
      }
      w.element('cpus', { num: c.cpus.length }, (cw) => {
        for (const cpu of c.cpus) {
          cw.empty(
            'cpu',
            cpu.siblings
              ? { id: cpu.id, socket_id: cpu.socketId ?? 0, die_id: cpu.dieId ?? 0, core_id: cpu.coreId ?? 0, siblings: bitmap(cpu.siblings) }
              : { id: cpu.id },
          );
        }
      });
      w.close('cell');
    }
    w.close('cells');
    w.close('topology');
  }

  if (h.cache?.banks.length) {
    w.open('cache');
    for (const b of h.cache.banks) {
      const { size, unit } = prettySize(b.size);
      w.element('bank', { id: b.id, level: b.level, type: b.type, size, unit, cpus: bitmap(b.cpus) }, (bw) => {
        for (const c of b.control ?? []) {
          bw.empty('control', { granularity: c.granularity, min: c.min, unit: c.unit, type: c.type, maxAllocs: c.maxAllocs });
        }
      });
    }
    w.close('cache');
  }

  for (const s of h.secmodel) {
    w.open('secmodel');
    // libvirt prints these two with %s: an empty doi is <doi></doi>, not <doi/>.
    w.text('model', s.model);
    w.text('doi', s.doi);
    for (const l of s.baselabel) w.text('baselabel', l.label, { type: l.type });
    w.close('secmodel');
  }
  w.close('host');
}

function writeMachine(w: XmlWriter, m: GuestMachine, withDeprecated: boolean): void {
  w.text('machine', m.name, {
    canonical: m.canonical,
    maxCpus: m.maxCpus && m.maxCpus > 0 ? m.maxCpus : undefined,
    deprecated: withDeprecated && m.deprecated ? 'yes' : undefined,
  });
}

function writeGuest(w: XmlWriter, g: GuestCapabilities): void {
  w.open('guest');
  w.text('os_type', g.osType);
  w.open('arch', { name: g.arch.name });
  w.text('wordsize', g.arch.wordsize);
  if (g.arch.emulator !== undefined) w.text('emulator', g.arch.emulator);
  if (g.arch.loader !== undefined) w.text('loader', g.arch.loader);
  for (const m of g.arch.machines) writeMachine(w, m, true);
  for (const d of g.arch.domains) {
    if (d.emulator === undefined && d.loader === undefined && d.machines.length === 0) {
      w.empty('domain', { type: d.type });
      continue;
    }
    w.open('domain', { type: d.type });
    if (d.emulator !== undefined) w.text('emulator', d.emulator);
    if (d.loader !== undefined) w.text('loader', d.loader);
    // libvirt does not mark deprecated machines inside a <domain>.
    for (const m of d.machines) writeMachine(w, m, false);
    w.close('domain');
  }
  w.close('arch');
  w.element('features', undefined, (fw) => {
    for (const name of GUEST_FEATURE_ORDER) {
      const f = g.features.find((x) => x.name === name);
      if (f) fw.empty(name, { default: f.default, toggle: yesNo(f.toggle) });
    }
  });
  w.close('guest');
}

/** virCapabilitiesFormatXML. */
export function formatCapabilitiesXML(caps: Capabilities): string {
  let out = '<capabilities>\n\n';
  if (!hostIsEmpty(caps.host)) {
    const w = new XmlWriter(1);
    writeHost(w, caps.host);
    out += `${w.toString()}\n`;
  }
  for (const g of caps.guests) {
    const w = new XmlWriter(1);
    writeGuest(w, g);
    out += `${w.toString()}\n`;
  }
  if (caps.pools?.length) {
    const w = new XmlWriter(1);
    w.open('pool');
    w.open('enum', { name: 'type' });
    for (const p of caps.pools) w.text('value', p);
    w.close('enum');
    w.close('pool');
    out += `${w.toString()}\n`;
  }
  return `${out}</capabilities>\n`;
}

/** virCapabilitiesDomainDataLookup's question: is this os type / arch / virt type offered? */
export function capabilitiesSupport(caps: Capabilities, osType: GuestOsType, arch: string | undefined, virtType: string): GuestCapabilities | undefined {
  return caps.guests.find((g) => g.osType === osType && (arch === undefined || g.arch.name === arch) && g.arch.domains.some((d) => d.type === virtType));
}
