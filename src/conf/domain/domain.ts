// parseDomainXML / formatDomainXML: the whole <domain> document, in libvirt's element order.
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { parseXml, type XmlElement } from '../xml/xmlTree.js';
import { XmlWriter } from '../xml/xmlWriter.js';
import { formatClock, parseClock } from './clock.js';
import { formatCpu, parseCpu } from './cpu.js';
import { formatDeviceElement, formatDevices, netPrefixesOf, parseDeviceElement, parseDevices, type DeviceFormatEnv, type DomainDeviceDef } from './devices.js';
import type { DomainDef } from './domainDef.js';
import type { DomainDriverDefaults } from './driverDefaults.js';
import { generateUuidString as generateUuid, normalizeUuid as parseUuidLenient } from '../uuid.js';
import { formatFeatures, parseFeatures } from './features.js';
import { formatLifecycle, parseLifecycle } from './lifecycle.js';
import { formatMemory, formatMemoryTune, parseMemory, parseMemtune } from './memory.js';
import { inheritedScope, parseMetadata } from './metadata.js';
import { checkArch, formatOs, hostArch, parseOsBoot, parseOsCaps } from './os.js';
import { ParseContext, internalError, unsupported, xmlError } from './parseContext.js';
import { postParseDomain } from './postParse.js';
import { validateDomain } from './validate.js';
import { formatNumatune, formatVcpu, parseNumatune, parseVcpu } from './vcpu.js';
import { formatSeclabels, parseSeclabels } from './seclabel.js';
import { formatCputune, formatIothreads, parseCputune, parseIothreads } from './tunables.js';

export interface DomainParseOptions {
  /** VIR_DOMAIN_DEFINE_VALIDATE: unknown elements and attributes are errors. */
  validate?: boolean;
  /** Parse live/status XML: keep the id, aliases, generated names and runtime data. */
  live?: boolean;
  /** The driver's hooks (virDomainDefParserConfig). */
  driver?: DomainDriverDefaults;
}

export interface DomainFormatOptions {
  /** VIR_DOMAIN_XML_INACTIVE: the persistent config, without runtime data. */
  inactive?: boolean;
  /** VIR_DOMAIN_XML_SECURE: include passwords. */
  secure?: boolean;
  /** VIR_DOMAIN_XML_MIGRATABLE. */
  migratable?: boolean;
  /** Live id: <domain type='…' id='N'>. */
  id?: number;
  /** Status XML (libvirt's VIR_DOMAIN_DEF_FORMAT_STATUS): keep runtime-only data such as <actual>. */
  status?: boolean;
  /** The driver whose XML namespace data (def.namespaceData) is written back. */
  driver?: DomainDriverDefaults;
}

export const VIRT_TYPES = [
  'none', 'qemu', 'kqemu', 'kvm', 'xen', 'lxc', 'uml', 'openvz', 'test', 'vmware', 'hyperv', 'vbox', 'phyp',
  'parallels', 'bhyve', 'vz', 'hvf',
] as const;

/** Parses, fills in defaults (generic and the driver's) and validates a domain document. */
export function parseDomainXML(xml: string, opts: DomainParseOptions = {}): DomainDef {
  const root = parseXml(xml, { url: '(domain_definition)', errorDomain: ErrorDomain.DOMAIN });
  if (root.name !== 'domain') {
    throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.XML, `expecting root element of 'domain', not '${root.name}'`, {
      element: root.name,
    });
  }
  return parseDomainElement(root, opts);
}

/** The same from an already parsed <domain> element (status files embed it). */
export function parseDomainElement(root: XmlElement, opts: DomainParseOptions = {}): DomainDef {
  const ctx = new ParseContext({ validate: opts.validate === true, live: opts.live === true });
  const driver = opts.driver ?? {};
  const def = readDomain(ctx, root, driver);
  ctx.checkUnknown(root);
  const ppOpts = { inactive: !ctx.live };
  postParseDomain(def, driver, ppOpts);
  validateDomain(def, driver);
  return def;
}

function readDomain(ctx: ParseContext, root: XmlElement, driver: DomainDriverDefaults): DomainDef {
  // virDomainDefParseIDs
  let id: number | undefined;
  if (ctx.live) {
    id = ctx.intProp(root, 'id', 10, { nonnegative: true });
  }
  const name = ctx.childText(root, 'name');
  if (!name) throw virtError(ErrorNumber.NO_NAME, ErrorDomain.DOMAIN, undefined, { element: 'name' });
  const uuidText = ctx.childText(root, 'uuid');
  let uuid: string;
  if (!uuidText) uuid = generateUuid();
  else {
    const u = parseUuidLenient(uuidText);
    if (!u) throw internalError('malformed uuid element', { element: 'uuid', value: uuidText });
    uuid = u;
  }
  const genids = ctx.children(root, 'genid');
  let genid: string | undefined;
  if (genids.length > 1) throw xmlError("element 'genid' can only appear once", { element: 'genid' });
  if (genids.length === 1) {
    const t = ctx.text(genids[0]!);
    if (!t) genid = generateUuid();
    else {
      const g = parseUuidLenient(t);
      if (!g) throw internalError('malformed genid element', { element: 'genid', value: t });
      genid = g;
    }
  }

  // virDomainDefParseCaps
  const virtType = ctx.attr(root, 'type');
  if (virtType === undefined || virtType === '') throw internalError('missing domain type attribute', { element: 'domain', attribute: 'type' });
  if (!(VIRT_TYPES as readonly string[]).includes(virtType)) {
    throw unsupported(`invalid domain type ${virtType}`, { element: 'domain', attribute: 'type', value: virtType });
  }
  const caps = parseOsCaps(ctx, root);
  const os = caps.os;
  if (virtType === 'xen' && os.type === 'linux') os.type = 'xen';
  if (os.arch) checkArch(os.arch);
  else os.arch = driver.defArch ?? hostArch();
  const devicesEl = ctx.child(root, 'devices');
  const emulatorEl = devicesEl ? ctx.child(devicesEl, 'emulator') : undefined;
  const emulator = emulatorEl ? ctx.text(emulatorEl) : undefined;

  const title = ctx.childText(root, 'title');
  if (title && title.includes('\n')) throw xmlError("Domain title can't contain newlines", { element: 'title', value: title });
  const description = ctx.childText(root, 'description');

  const seclabels = parseSeclabels(ctx, root, driver.defSecModel);
  const mem = parseMemory(ctx, root);
  const memtune = parseMemtune(ctx, root);
  const vcpu = parseVcpu(ctx, ctx.child(root, 'vcpu'));
  const iothreads = parseIothreads(ctx, root);
  const cputune = parseCputune(ctx, root, vcpu.count, iothreads);
  const cpuEl = ctx.child(root, 'cpu');
  const cpu = cpuEl ? parseCpu(ctx, cpuEl) : undefined;
  if (cpu?.numa) {
    const cpus = cpu.numa.flatMap((c) => c.cpus ?? []);
    if (cpus.length > vcpu.count) throw internalError('Number of CPUs in <numa> exceeds the <vcpu> count');
    if (cpus.some((c) => c >= vcpu.count)) throw internalError('CPU IDs in <numa> exceed the <vcpu> count');
  }
  const numatune = parseNumatune(ctx, root, vcpu.placement === 'static');
  const pinned = !!cputune && (cputune.vcpupin.length > 0 || !!cputune.emulatorpin || cputune.iothreadpin.length > 0);
  if (numatune?.memory?.placement === 'auto' && !vcpu.cpuset && !pinned) vcpu.placement = 'auto';
  const resources = ctx.children(root, 'resource');
  if (resources.length > 1) throw xmlError('only one resource element is supported', { element: 'resource' });
  let resource: DomainDef['resource'];
  if (resources.length === 1) {
    const r = resources[0]!;
    const partition = ctx.childText(r, 'partition');
    const fc = ctx.child(r, 'fibrechannel');
    const appid = fc ? ctx.attr(fc, 'appid') : undefined;
    if (partition || appid) {
      resource = {};
      if (partition) resource.partition = partition;
      if (appid) resource.fibrechannelAppid = appid;
    }
  }
  const features = parseFeatures(ctx, ctx.child(root, 'features'));
  const lifecycle = parseLifecycle(ctx, root);
  const clock = parseClock(ctx, ctx.child(root, 'clock'));
  parseOsBoot(ctx, ctx.child(root, 'os'), os);

  const def: DomainDef = {
    type: virtType,
    name,
    uuid,
    memory: mem.memory,
    currentMemory: mem.currentMemory,
    vcpu,
    os,
    features,
    clock,
    ...lifecycle,
    devices: { emulator: emulator || undefined } as DomainDef['devices'],
  };
  if (def.devices.emulator === undefined) delete def.devices.emulator;
  if (id !== undefined) def.id = id;
  if (genid) def.genid = genid;
  if (title) def.title = title;
  if (description) def.description = description;
  if (mem.maxMemory) def.maxMemory = mem.maxMemory;
  if (mem.memoryDumpCore !== undefined) def.memoryDumpCore = mem.memoryDumpCore;
  if (memtune) def.memtune = memtune;
  if (mem.memoryBacking) def.memoryBacking = mem.memoryBacking;
  if (cpu) def.cpu = cpu;
  if (iothreads) def.iothreads = iothreads;
  if (cputune) def.cputune = cputune;
  if (seclabels.length) def.seclabels = seclabels;
  if (numatune) def.numatune = numatune;
  if (resource) def.resource = resource;
  if (caps.bootloader) def.bootloader = caps.bootloader;
  if (caps.bootloaderArgs) def.bootloaderArgs = caps.bootloaderArgs;

  parseDevices(
    {
      ctx,
      userAlias: driver.features?.userAlias === true,
      netPrefixes: netPrefixesOf(driver),
      netModelString: driver.features?.netModelString === true,
      domain: { type: virtType, os },
    },
    devicesEl,
    def,
  );

  const metaEl = ctx.child(root, 'metadata');
  if (metaEl) def.metadata = parseMetadata(ctx, metaEl, inheritedScope([root]));
  if (driver.namespace) {
    const data = driver.namespace.parse(ctx, root);
    if (data !== undefined) def.namespaceData = data;
  }
  return def;
}


/** Writes a domain as libvirt's virDomainDefFormat does. */
export function formatDomainXML(def: DomainDef, opts: DomainFormatOptions = {}): string {
  const driver = opts.driver;
  const id = opts.inactive ? undefined : (opts.id ?? def.id);
  const inactive = id === undefined || id < 0;
  const w = new XmlWriter();
  const rootAttrs: Record<string, string | number | undefined> = { type: def.type, id: inactive ? undefined : id };
  if (def.namespaceData !== undefined && driver?.namespace) rootAttrs[`xmlns:${driver.namespace.prefix}`] = driver.namespace.uri;
  w.open('domain', rootAttrs);
  w.text('name', def.name);
  w.text('uuid', def.uuid);
  if (def.genid) w.text('genid', def.genid);
  w.text('title', def.title);
  w.text('description', def.description);
  if (def.metadata) w.verbatim(def.metadata);
  formatMemory(w, def);
  formatMemoryTune(w, def);
  formatVcpu(w, def.vcpu);
  formatIothreads(w, def.iothreads);
  formatCputune(w, def.cputune);
  formatNumatune(w, def.numatune);
  if (def.resource) {
    const r = def.resource;
    w.element('resource', undefined, (c) => {
      c.text('partition', r.partition);
      if (r.fibrechannelAppid) c.empty('fibrechannel', { appid: r.fibrechannelAppid });
    });
  }
  formatOs(w, def.os, def.type, def.bootloader, def.bootloaderArgs);
  formatFeatures(w, def.features);
  if (def.cpu) formatCpu(w, def.cpu);
  formatClock(w, def.clock);
  formatLifecycle(w, def);
  const env: DeviceFormatEnv = {
    inactive,
    secure: opts.secure === true,
    migratable: opts.migratable === true,
    status: opts.status === true,
    netPrefixes: netPrefixesOf(driver ?? {}),
  };
  formatDevices(w, def, env);
  formatSeclabels(w, def.seclabels);
  if (def.namespaceData !== undefined && driver?.namespace) driver.namespace.format(w, def.namespaceData);
  w.close('domain');
  return w.toString();
}

/** Parses a device document for attach/detach/update-device against the domain `def`. */
export function parseDeviceXML(xml: string, def: DomainDef, opts: DomainParseOptions = {}): DomainDeviceDef {
  const root = parseXml(xml, { url: '(device_definition)', errorDomain: ErrorDomain.DOMAIN });
  return parseDeviceElement(root, def, opts);
}

/** Writes one device element as libvirt formats it at top level (no indentation). */
export function formatDeviceXML(dev: DomainDeviceDef, opts: DomainFormatOptions = {}): string {
  return formatDeviceElement(dev, {
    inactive: opts.inactive === true,
    secure: opts.secure === true,
    migratable: opts.migratable === true,
    status: opts.status === true,
    netPrefixes: netPrefixesOf(opts.driver ?? {}),
  });
}
