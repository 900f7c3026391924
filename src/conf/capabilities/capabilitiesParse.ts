// Reading capabilities XML back into the typed form: for a client that asks a real libvirtd
// (the remote driver) and wants objects, and for tests that check the formatter against
// libvirt's own output. Lenient, as libvirt's clients are: unknown elements are skipped.
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { parseBitmap } from '../bitmap.js';
import { children as kids, child, parseXml, textOf, type XmlElement } from '../xml/xmlTree.js';
import type { Capabilities, CacheBank, GuestCapabilities, GuestFeatureName, GuestMachine, GuestOsType, HostCapabilities, NumaCell, PowerManagementTarget } from './capabilities.js';
import type { CapsCpuDef, CpuFeaturePolicy } from './cpuDef.js';
import { DOMAIN_CAPS_DEVICES, DOMAIN_CAPS_SIMPLE_FEATURES, type DomainCapabilities, type DomainCapsEnum, type DomainCapsItem } from './domainCapabilities.js';

const num = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));

/** A host CPU list ("0-3,8"); leniently empty when it does not parse. */
function bits(s: string): number[] {
  try {
    return parseBitmap(s, 1 << 16);
  } catch {
    return [];
  }
}

const UNIT_FACTORS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

export function parseCapsCpuDef(el: XmlElement): CapsCpuDef {
  const cpu: CapsCpuDef = { feature: [] };
  const model = child(el, 'model');
  if (model) {
    cpu.model = { name: textOf(model) };
    if (model.attrs.fallback) cpu.model.fallback = model.attrs.fallback as 'allow' | 'forbid';
    if (model.attrs.vendor_id) cpu.model.vendorId = model.attrs.vendor_id;
  }
  const vendor = child(el, 'vendor');
  if (vendor) cpu.vendor = textOf(vendor);
  const mc = child(el, 'microcode');
  if (mc) cpu.microcode = { version: Number(mc.attrs.version) };
  const sig = child(el, 'signature');
  if (sig) cpu.signature = { family: Number(sig.attrs.family), model: Number(sig.attrs.model), stepping: Number(sig.attrs.stepping) };
  const counter = child(el, 'counter');
  if (counter) {
    cpu.counter = { name: counter.attrs.name ?? 'tsc', frequency: Number(counter.attrs.frequency) };
    if (counter.attrs.scaling) cpu.counter.scaling = counter.attrs.scaling === 'yes';
  }
  const topo = child(el, 'topology');
  if (topo) {
    cpu.topology = { sockets: Number(topo.attrs.sockets), dies: Number(topo.attrs.dies ?? 1), cores: Number(topo.attrs.cores), threads: Number(topo.attrs.threads) };
  }
  const cache = child(el, 'cache');
  if (cache) cpu.cache = { ...(cache.attrs.level ? { level: Number(cache.attrs.level) } : {}), mode: cache.attrs.mode as 'emulate' };
  const mpa = child(el, 'maxphysaddr');
  if (mpa) cpu.maxphysaddr = { mode: mpa.attrs.mode as 'emulate', ...(mpa.attrs.bits ? { bits: Number(mpa.attrs.bits) } : {}) };
  for (const f of kids(el, 'feature')) {
    cpu.feature.push(f.attrs.policy ? { policy: f.attrs.policy as CpuFeaturePolicy, name: f.attrs.name! } : { name: f.attrs.name! });
  }
  return cpu;
}

function parseHost(el: XmlElement): HostCapabilities {
  const cpuEl = child(el, 'cpu');
  const archEl = cpuEl ? child(cpuEl, 'arch') : undefined;
  const host: HostCapabilities = {
    cpu: { arch: archEl ? textOf(archEl) : '', features: [], pages: [] },
    powerManagement: [],
    iommu: child(el, 'iommu')?.attrs.support === 'yes',
    secmodel: [],
  };
  const uuid = child(el, 'uuid');
  if (uuid) host.uuid = textOf(uuid);
  if (cpuEl) {
    const feats = child(cpuEl, 'features');
    if (feats) host.cpu.features = kids(feats).map((f) => f.name);
    const def = parseCapsCpuDef(cpuEl);
    if (def.model || def.vendor !== undefined || def.topology || def.feature.length || def.microcode || def.signature) host.cpu.def = def;
    host.cpu.pages = kids(cpuEl, 'pages').map((p) => Number(p.attrs.size));
  }
  const pm = child(el, 'power_management');
  if (pm) host.powerManagement = kids(pm).map((p) => p.name as PowerManagementTarget);
  const mig = child(el, 'migration_features');
  if (mig) {
    const tr = child(mig, 'uri_transports');
    host.migration = { live: !!child(mig, 'live'), uriTransports: tr ? kids(tr, 'uri_transport').map(textOf) : [] };
  }
  const np = child(el, 'netprefix');
  if (np) host.netprefix = textOf(np);
  const cells = child(el, 'topology') && child(child(el, 'topology')!, 'cells');
  if (cells) {
    host.topology = {
      cells: kids(cells, 'cell').map((c): NumaCell => {
        const cell: NumaCell = {
          id: Number(c.attrs.id),
          pages: kids(c, 'pages').map((p) => ({ size: Number(p.attrs.size), count: Number(textOf(p)) })),
          distances: kids(child(c, 'distances') ?? c, 'sibling').map((s) => ({ id: Number(s.attrs.id), value: Number(s.attrs.value) })),
          cpus: kids(child(c, 'cpus') ?? c, 'cpu').map((p) =>
            p.attrs.siblings !== undefined
              ? { id: Number(p.attrs.id), socketId: num(p.attrs.socket_id)!, dieId: num(p.attrs.die_id)!, coreId: num(p.attrs.core_id)!, siblings: bits(p.attrs.siblings) }
              : { id: Number(p.attrs.id) },
          ),
        };
        const mem = child(c, 'memory');
        if (mem) cell.memory = Number(textOf(mem));
        const caches = kids(c, 'cache');
        if (caches.length) {
          cell.cache = caches.map((k) => ({
            level: Number(k.attrs.level),
            associativity: k.attrs.associativity as 'none',
            policy: k.attrs.policy as 'none',
            size: Number(child(k, 'size')?.attrs.value),
            line: Number(child(k, 'line')?.attrs.value),
          }));
        }
        return cell;
      }),
    };
  }
  const cache = child(el, 'cache');
  if (cache) {
    host.cache = {
      banks: kids(cache, 'bank').map((b): CacheBank => {
        const bank: CacheBank = {
          id: Number(b.attrs.id),
          level: Number(b.attrs.level),
          type: b.attrs.type as 'both',
          size: Number(b.attrs.size) * (UNIT_FACTORS[b.attrs.unit ?? 'B'] ?? 1),
          cpus: bits(b.attrs.cpus ?? ''),
        };
        const controls = kids(b, 'control');
        if (controls.length) {
          bank.control = controls.map((c) => ({
            granularity: Number(c.attrs.granularity),
            ...(c.attrs.min !== undefined ? { min: Number(c.attrs.min) } : {}),
            unit: c.attrs.unit ?? 'KiB',
            type: c.attrs.type as 'both',
            maxAllocs: Number(c.attrs.maxAllocs),
          }));
        }
        return bank;
      }),
    };
  }
  host.secmodel = kids(el, 'secmodel').map((s) => ({
    model: textOf(child(s, 'model') ?? s),
    doi: child(s, 'doi') ? textOf(child(s, 'doi')!) : '',
    baselabel: kids(s, 'baselabel').map((b) => ({ type: b.attrs.type ?? '', label: textOf(b) })),
  }));
  return host;
}

function parseMachine(m: XmlElement): GuestMachine {
  const out: GuestMachine = { name: textOf(m) };
  if (m.attrs.canonical) out.canonical = m.attrs.canonical;
  if (m.attrs.maxCpus) out.maxCpus = Number(m.attrs.maxCpus);
  if (m.attrs.deprecated === 'yes') out.deprecated = true;
  return out;
}

function parseGuest(el: XmlElement): GuestCapabilities {
  const arch = child(el, 'arch');
  const g: GuestCapabilities = {
    osType: textOf(child(el, 'os_type') ?? el) as GuestOsType,
    arch: { name: arch?.attrs.name ?? '', wordsize: Number(textOf(child(arch ?? el, 'wordsize') ?? el)), machines: [], domains: [] },
    features: [],
  };
  if (arch) {
    const emu = child(arch, 'emulator');
    if (emu) g.arch.emulator = textOf(emu);
    const loader = child(arch, 'loader');
    if (loader) g.arch.loader = textOf(loader);
    g.arch.machines = kids(arch, 'machine').map(parseMachine);
    g.arch.domains = kids(arch, 'domain').map((d) => {
      const out: GuestCapabilities['arch']['domains'][number] = { type: d.attrs.type ?? '', machines: kids(d, 'machine').map(parseMachine) };
      const e = child(d, 'emulator');
      if (e) out.emulator = textOf(e);
      const l = child(d, 'loader');
      if (l) out.loader = textOf(l);
      return out;
    });
  }
  const feats = child(el, 'features');
  if (feats) {
    g.features = kids(feats).map((f) => {
      const out: GuestCapabilities['features'][number] = { name: f.name as GuestFeatureName };
      if (f.attrs.default) out.default = f.attrs.default as 'on' | 'off';
      if (f.attrs.toggle) out.toggle = f.attrs.toggle === 'yes';
      return out;
    });
  }
  return g;
}

/** Reads `virsh capabilities` output. */
export function parseCapabilitiesXML(xml: string): Capabilities {
  const root = parseXml(xml, { url: '(capabilities)', errorDomain: ErrorDomain.CAPABILITIES });
  if (root.name !== 'capabilities') {
    throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.CAPABILITIES, `expecting root element of 'capabilities', not '${root.name}'`);
  }
  const hostEl = child(root, 'host');
  const caps: Capabilities = {
    host: hostEl ? parseHost(hostEl) : { cpu: { arch: '', features: [], pages: [] }, powerManagement: [], iommu: false, secmodel: [] },
    guests: kids(root, 'guest').map(parseGuest),
  };
  const pool = child(root, 'pool');
  if (pool) caps.pools = kids(child(pool, 'enum') ?? pool, 'value').map(textOf);
  return caps;
}

function parseEnums(el: XmlElement): DomainCapsEnum[] {
  return kids(el, 'enum').map((e) => ({ name: e.attrs.name ?? '', values: kids(e, 'value').map(textOf) }));
}

function parseItem(el: XmlElement | undefined): DomainCapsItem | undefined {
  if (!el) return undefined;
  return { supported: el.attrs.supported === 'yes', enums: parseEnums(el) };
}

/** Reads `virsh domcapabilities` output. */
export function parseDomainCapabilitiesXML(xml: string): DomainCapabilities {
  const root = parseXml(xml, { url: '(domain_capabilities)', errorDomain: ErrorDomain.CAPABILITIES });
  if (root.name !== 'domainCapabilities') {
    throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.CAPABILITIES, `expecting root element of 'domainCapabilities', not '${root.name}'`);
  }
  const txt = (name: string) => {
    const c = child(root, name);
    return c ? textOf(c) : undefined;
  };
  const caps: DomainCapabilities = {
    path: txt('path') ?? '',
    domain: txt('domain') ?? '',
    arch: txt('arch') ?? '',
    cpu: { hostPassthrough: false, maximum: false, custom: [] },
    devices: {},
    features: { simple: {} },
  };
  const machine = txt('machine');
  if (machine !== undefined) caps.machine = machine;
  const vcpu = child(root, 'vcpu');
  if (vcpu) caps.maxVcpus = Number(vcpu.attrs.max);
  const io = child(root, 'iothreads');
  if (io) caps.iothreads = io.attrs.supported === 'yes';
  const os = child(root, 'os');
  if (os) {
    caps.os = { supported: os.attrs.supported === 'yes', enums: parseEnums(os) };
    const loader = child(os, 'loader');
    if (loader) caps.os.loader = { supported: loader.attrs.supported === 'yes', values: kids(loader, 'value').map(textOf), enums: parseEnums(loader) };
  }
  const cpu = child(root, 'cpu');
  for (const mode of cpu ? kids(cpu, 'mode') : []) {
    const yes = mode.attrs.supported === 'yes';
    const en = parseEnums(mode)[0];
    switch (mode.attrs.name) {
      case 'host-passthrough':
        caps.cpu.hostPassthrough = yes;
        if (en) caps.cpu.hostPassthroughMigratable = en.values;
        break;
      case 'maximum':
        caps.cpu.maximum = yes;
        if (en) caps.cpu.maximumMigratable = en.values;
        break;
      case 'host-model':
        if (yes) caps.cpu.hostModel = parseCapsCpuDef(mode);
        break;
      case 'custom':
        caps.cpu.custom = kids(mode, 'model').map((m) => ({
          name: textOf(m),
          usable: (m.attrs.usable ?? 'unknown') as 'yes',
          ...(m.attrs.deprecated === 'yes' ? { deprecated: true } : {}),
          ...(m.attrs.vendor && m.attrs.vendor !== 'unknown' ? { vendor: m.attrs.vendor } : {}),
        }));
        break;
    }
  }
  const mb = parseItem(child(root, 'memoryBacking'));
  if (mb) caps.memoryBacking = mb;
  const devices = child(root, 'devices');
  for (const d of DOMAIN_CAPS_DEVICES) {
    const item = devices ? parseItem(child(devices, d)) : undefined;
    if (item) caps.devices[d] = item;
  }
  const feats = child(root, 'features');
  if (feats) {
    const gic = parseItem(child(feats, 'gic'));
    if (gic) caps.features.gic = gic;
    for (const f of DOMAIN_CAPS_SIMPLE_FEATURES) {
      const el = child(feats, f);
      if (el) caps.features.simple[f] = el.attrs.supported === 'yes';
    }
    const sev = child(feats, 'sev');
    if (sev?.attrs.supported === 'yes') {
      const n = (name: string) => Number(textOf(child(sev, name) ?? sev));
      caps.features.sev = { cbitpos: n('cbitpos'), reducedPhysBits: n('reducedPhysBits'), maxGuests: n('maxGuests'), maxESGuests: n('maxESGuests') };
      const c0 = child(sev, 'cpu0Id');
      if (c0) caps.features.sev.cpu0Id = textOf(c0);
    }
    const sgx = child(feats, 'sgx');
    if (sgx?.attrs.supported === 'yes') {
      const yn = (name: string) => textOf(child(sgx, name) ?? sgx) === 'yes';
      const sections = child(sgx, 'sections');
      caps.features.sgx = {
        flc: yn('flc'),
        sgx1: yn('sgx1'),
        sgx2: yn('sgx2'),
        sectionSize: Number(textOf(child(sgx, 'section_size') ?? sgx)),
        sections: sections ? kids(sections, 'section').map((s) => ({ node: Number(s.attrs.node), size: Number(s.attrs.size) })) : [],
      };
    }
    const hv = parseItem(child(feats, 'hyperv'));
    if (hv) caps.features.hyperv = hv;
  }
  return caps;
}
