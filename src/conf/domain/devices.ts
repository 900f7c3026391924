// <devices>: wires the per-kind device modules into the domain, in the order libvirt parses and
// writes them, and runs their defaults and checks.
import type { XmlElement } from '../xml/xmlTree.js';
import { ParseContext, unsupported, xmlError } from './parseContext.js';
import { XmlWriter } from '../xml/xmlWriter.js';
import type { DeviceFormatEnv, DeviceParseEnv } from './deviceEnv.js';
import type { DeviceDefs, DeviceKind, DomainDeviceDef, DomainDevices } from './domainDevices.js';
import { addConsoleCompat, assignIsaSerialPorts, assignParsePorts, consoleForFormat, formatChr, parseChr, postParseChr, validateChr } from './chardev.js';
import {
  assignControllerIndexes,
  checkUsbControllers,
  formatController,
  insertController,
  maybeAddController,
  parseController,
  postParseController,
  rejectDuplicateControllers,
  validateController,
  type ControllerDef,
} from './controller.js';
import { formatDisk, insertDisk, parseDisk, postParseDisk, validateDisk, type DiskDef } from './disk.js';
import { formatGraphics, parseGraphics, postParseGraphics, validateGraphics } from './graphics.js';
import { formatHostdev, parseHostdev, validateHostdev } from './hostdev.js';
import { formatHub, parseHub } from './hub.js';
import { formatInput, parseInput, validateInput } from './input.js';
import { formatIommu, parseIommu, validateIommu } from './iommu.js';
import { formatRedirdev, parseRedirdev, validateRedirdev } from './redirdev.js';
import { formatTpm, parseTpm, validateTpm } from './tpm.js';
import { formatVsock, parseVsock, postParseVsock } from './vsock.js';
import { formatRng, parseRng, postParseRng, validateRng } from './rng.js';
import { ensureAudioId, formatAudio, formatSound, parseAudio, parseSound, validateAudio } from './sound.js';
import { formatVideo, parseVideo, postParseVideo, validateVideo } from './video.js';
import { formatInterface, parseInterface, validateInterface } from './interface.js';
import { formatMemballoon, parseMemballoon } from './memballoon.js';
import { formatPanic, parsePanic } from './panic.js';
import { formatWatchdog, parseWatchdog } from './watchdog.js';

export type { DeviceFormatEnv, DeviceParseEnv } from './deviceEnv.js';
export type { DeviceDefs, DeviceKind, DomainDeviceDef, DomainDevices } from './domainDevices.js';
import type { DomainDef } from './domainDef.js';
import type { DomainDriverDefaults, PostParseOptions } from './driverDefaults.js';

/** How one device kind is read and written. */
export interface DeviceKindSpec<K extends DeviceKind = DeviceKind> {
  kind: K;
  /** The device list in DomainDevices holding this kind. */
  list: keyof DomainDevices;
  /** Only one device of this kind: the entry is the device itself, not a list. */
  single?: string;
  parse(env: DeviceParseEnv, el: XmlElement): DeviceDefs[K];
  format(w: XmlWriter, dev: DeviceDefs[K], env: DeviceFormatEnv): void;
  /** Where a parsed device goes in its list (default: appended). */
  insert?(list: unknown[], dev: DeviceDefs[K]): void;
  /** Generic defaults after the driver's device callback. */
  postParse?(dev: DeviceDefs[K], def: DomainDef, driver: DomainDriverDefaults): void;
  /** Generic checks (virDomainDeviceDefValidate). */
  validate?(dev: DeviceDefs[K], def: DomainDef): void;
  /** Writes the whole list when the kind needs the domain to do it (consoles aliasing serials). */
  formatAll?(w: XmlWriter, def: DomainDef, env: DeviceFormatEnv): void;
  /** Boot order, when the kind has one and it counts (virDomainDefCollectBootOrder). */
  bootOrder?(dev: DeviceDefs[K]): number | undefined;
}

export function emptyDevices(): DomainDevices {
  return {};
}

function spec<K extends DeviceKind>(s: DeviceKindSpec<K>): DeviceKindSpec {
  return s as unknown as DeviceKindSpec;
}

/** The device kinds, in libvirt's format order. */
export const DEVICE_KINDS: DeviceKindSpec[] = [
  spec({
    kind: 'disk',
    list: 'disks',
    parse: parseDisk,
    format: formatDisk,
    insert: (list, d) => insertDisk(list as DiskDef[], d),
    postParse: (d) => postParseDisk(d),
    validate: validateDisk,
    bootOrder: (d) => d.boot?.order,
  }),
  spec({
    kind: 'controller',
    list: 'controllers',
    parse: parseController,
    format: formatController,
    insert: (list, c) => insertController(list as ControllerDef[], c),
    postParse: postParseController,
    validate: validateController,
  }),
  spec({ kind: 'interface', list: 'interfaces', parse: parseInterface, format: formatInterface, validate: validateInterface, bootOrder: (d) => d.boot?.order }),
  spec({ kind: 'serial', list: 'serials', parse: parseChr, format: formatChr, postParse: postParseChr, validate: validateChr }),
  spec({ kind: 'parallel', list: 'parallels', parse: parseChr, format: formatChr, postParse: postParseChr, validate: validateChr }),
  spec({
    kind: 'console',
    list: 'consoles',
    parse: parseChr,
    format: formatChr,
    formatAll: (w, def, env) => (def.devices.consoles ?? []).forEach((_c, i) => formatChr(w, consoleForFormat(def, i), env)),
    postParse: postParseChr,
    validate: validateChr,
  }),
  spec({ kind: 'channel', list: 'channels', parse: parseChr, format: formatChr, postParse: postParseChr, validate: validateChr }),
  spec({ kind: 'input', list: 'inputs', parse: parseInput, format: formatInput, validate: validateInput }),
  spec({ kind: 'tpm', list: 'tpms', parse: parseTpm, format: formatTpm, validate: validateTpm }),
  spec({
    kind: 'graphics',
    list: 'graphics',
    parse: parseGraphics,
    format: formatGraphics,
    validate: (g, def) => {
      validateGraphics(g);
      if (g.type === 'vnc') ensureAudioId(def.devices.audios, g.audioId);
    },
  }),
  spec({ kind: 'sound', list: 'sounds', parse: parseSound, format: formatSound, validate: (s, def) => ensureAudioId(def.devices.audios, s.audioId) }),
  spec({ kind: 'audio', list: 'audios', parse: parseAudio, format: formatAudio, validate: (a, def) => validateAudio(a, def.devices.audios ?? []) }),
  spec({
    kind: 'video',
    list: 'videos',
    parse: parseVideo,
    format: formatVideo,
    insert: (list, v) => {
      if (v.model.primary) list.unshift(v);
      else list.push(v);
    },
    postParse: postParseVideo,
    validate: (v, def) => validateVideo(v, def.devices.videos ?? []),
  }),
  spec({ kind: 'hostdev', list: 'hostdevs', parse: parseHostdev, format: formatHostdev, validate: validateHostdev, bootOrder: (d) => d.boot?.order }),
  spec({ kind: 'redirdev', list: 'redirdevs', parse: parseRedirdev, format: formatRedirdev, validate: validateRedirdev, bootOrder: (d) => d.boot?.order }),
  spec({ kind: 'hub', list: 'hubs', parse: parseHub, format: formatHub }),
  spec({ kind: 'watchdog', list: 'watchdogs', single: 'only a single watchdog device is supported', parse: parseWatchdog, format: formatWatchdog }),
  spec({ kind: 'memballoon', list: 'memballoon', single: 'only a single memory balloon device is supported', parse: parseMemballoon, format: formatMemballoon }),
  spec({ kind: 'rng', list: 'rngs', parse: parseRng, format: formatRng, postParse: postParseRng, validate: validateRng }),
  spec({ kind: 'panic', list: 'panics', parse: parsePanic, format: formatPanic }),
  spec({ kind: 'iommu', list: 'iommu', single: 'only a single IOMMU device is supported', parse: parseIommu, format: formatIommu, validate: validateIommu }),
  spec({ kind: 'vsock', list: 'vsock', single: 'only a single vsock device is supported', parse: parseVsock, format: formatVsock, postParse: postParseVsock }),
];

type DeviceSlots = Record<string, unknown[] | unknown | undefined>;

/** Reads every device under <devices> into def.devices (virDomainDefParseXML's device part). */
export function parseDevices(env: DeviceParseEnv, devicesEl: XmlElement | undefined, def: { devices: DomainDevices }): void {
  if (!devicesEl) return;
  const slots = def.devices as unknown as DeviceSlots;
  // one pass over <devices>, grouping the children by element name
  const byName = new Map<string, XmlElement[]>();
  for (const el of devicesEl.children) {
    if (typeof el !== 'object' || !('name' in el)) continue;
    const list = byName.get(el.name);
    if (list) list.push(el);
    else byName.set(el.name, [el]);
  }
  for (const s of DEVICE_KINDS) {
    const els = byName.get(s.kind);
    if (!els) continue;
    for (const el of els) env.ctx.use(el);
    if (s.single && (s.list === 'memballoon' || s.list === 'iommu' || s.list === 'vsock')) {
      if (els.length > 1) throw xmlError(s.single, { element: s.kind });
      slots[s.list] = s.parse(env, els[0]!);
      continue;
    }
    if (s.single && els.length > 1) throw xmlError(s.single, { element: s.kind });
    const list = (slots[s.list as string] as unknown[] | undefined) ?? [];
    for (const el of els) {
      const d = s.parse(env, el);
      if (s.insert) s.insert(list, d as never);
      else list.push(d);
    }
    slots[s.list as string] = list;
  }
  if (def.devices.controllers) checkUsbControllers(def.devices.controllers);
}

/** Writes <devices>, always as an open/close pair like libvirt. */
export function formatDevices(w: XmlWriter, def: DomainDef, env: DeviceFormatEnv): void {
  w.open('devices');
  w.text('emulator', def.devices.emulator);
  for (const s of DEVICE_KINDS) {
    if (s.formatAll) s.formatAll(w, def, env);
    else for (const d of listOf(def, s)) s.format(w, d as never, env);
  }
  w.close('devices');
}

function listOf(def: { devices: DomainDevices }, s: DeviceKindSpec): unknown[] {
  const v = (def.devices as unknown as DeviceSlots)[s.list as string];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** Every device of the domain, kind by kind. */
export function allDevices(def: { devices: DomainDevices }): DomainDeviceDef[] {
  const out: DomainDeviceDef[] = [];
  for (const spec of DEVICE_KINDS) for (const d of listOf(def, spec)) out.push({ kind: spec.kind, def: d } as DomainDeviceDef);
  return out;
}

function specOf(kind: DeviceKind): DeviceKindSpec | undefined {
  return DEVICE_KINDS.find((s) => s.kind === kind);
}

/** Generic per-device defaults. */
export function DEVICE_POST_PARSE(dev: DomainDeviceDef, def: DomainDef, driver: DomainDriverDefaults): void {
  specOf(dev.kind)?.postParse?.(dev.def as never, def, driver);
}

/** Generic per-device checks. */
export function validateDevice(dev: DomainDeviceDef, def: DomainDef): void {
  specOf(dev.kind)?.validate?.(dev.def as never, def);
}

/** Boot orders given on devices, in device order. */
export function deviceBootOrders(def: { devices: DomainDevices }): number[] {
  const out: number[] = [];
  for (const spec of DEVICE_KINDS) {
    if (!spec.bootOrder) continue;
    for (const d of listOf(def, spec)) {
      const o = spec.bootOrder(d as never);
      if (o) out.push(o);
    }
  }
  return out;
}

/** Domain-wide device steps of the generic post-parse, filled in by the device modules. */
export const domainPostParseDevices: {
  /** Right after parsing, before any driver callback (ports libvirt numbers while parsing). */
  afterParse?(def: DomainDef): void;
  assignControllerIndexes?(def: DomainDef): void;
  isaSerialPorts?(def: DomainDef): void;
  rejectDuplicates?(def: DomainDef): void;
  implicitDevices?(def: DomainDef, driver: DomainDriverDefaults, opts: PostParseOptions): void;
} = {
  afterParse: (def) => assignParsePorts(def),
  assignControllerIndexes: (def) => {
    if (def.devices.controllers) assignControllerIndexes(def.devices.controllers);
  },
  isaSerialPorts: (def) => assignIsaSerialPorts(def),
  rejectDuplicates: (def) => {
    if (def.devices.controllers) rejectDuplicateControllers(def.devices.controllers);
    // virDomainDefRejectDuplicatePanics (after the driver gave each its model)
    const models = new Set<string>();
    for (const p of def.devices.panics ?? []) {
      const m = p.model ?? 'default';
      if (models.has(m)) throw xmlError(`Multiple panic devices with model '${m}'`, { element: 'panic', attribute: 'model', value: m });
      models.add(m);
    }
  },
  implicitDevices: (def, driver, opts) => {
    addConsoleCompat(def);
    addImplicitControllers(def);
    // a <graphics> without <video> gets one of the driver's default model
    const graphics = def.devices.graphics ?? [];
    if (graphics.length && !(def.devices.videos ?? []).length) def.devices.videos = [{ model: { heads: 1 } }];
    const v0 = def.devices.videos?.[0];
    if (v0) {
      if (v0.model.type === 'none') {
        def.devices.videos![0] = v0.alias ? { model: { type: 'none' }, alias: v0.alias } : { model: { type: 'none' } };
      } else {
        v0.model.primary = true;
        const dev = { kind: 'video', def: v0 } as DomainDeviceDef;
        driver.devicePostParse?.(dev, def, opts);
        DEVICE_POST_PARSE(dev, def, driver);
      }
    }
    for (const g of graphics) postParseGraphics(g);
    // serials[0] may have come from a console: give it the per-device defaults too
    const s0 = def.devices.serials?.[0];
    if (s0) {
      const dev = { kind: 'serial', def: s0 } as DomainDeviceDef;
      driver.devicePostParse?.(dev, def, opts);
      DEVICE_POST_PARSE(dev, def, driver);
    }
  },
};

/**
 * Parses one device document (attach/detach/update-device): the device is read as inactive XML
 * unless opts.live, then gets the driver's and the generic defaults and checks.
 */
export function parseDeviceElement(
  root: XmlElement,
  def: DomainDef,
  opts: { validate?: boolean; live?: boolean; driver?: DomainDriverDefaults },
): DomainDeviceDef {
  const s = DEVICE_KINDS.find((k) => k.kind === root.name);
  if (!s) throw unsupported(`unknown device type '${root.name}'`, { element: root.name });
  const ctx = new ParseContext({ validate: opts.validate === true, live: opts.live === true });
  const driver = opts.driver ?? {};
  const env: DeviceParseEnv = {
    ctx,
    userAlias: driver.features?.userAlias === true,
    netPrefixes: netPrefixesOf(driver),
    netModelString: driver.features?.netModelString === true,
    domain: def,
  };
  const dev = { kind: s.kind, def: s.parse(env, root) } as DomainDeviceDef;
  ctx.checkUnknown(root);
  const ppOpts = { inactive: !ctx.live };
  driver.devicePostParse?.(dev, def, ppOpts);
  DEVICE_POST_PARSE(dev, def, driver);
  driver.deviceValidate?.(dev, def);
  validateDevice(dev, def);
  return dev;
}

/** Host interface name prefixes every driver treats as generated, plus the driver's own. */
export function netPrefixesOf(driver: DomainDriverDefaults): string[] {
  const p = ['vnet', 'macvtap', 'macvlan'];
  if (driver.netPrefix && !p.includes(driver.netPrefix)) p.push(driver.netPrefix);
  return p;
}

/** Writes one device as it appears inside <devices>, without indentation. */
export function formatDeviceElement(dev: DomainDeviceDef, env: DeviceFormatEnv): string {
  const s = DEVICE_KINDS.find((k) => k.kind === dev.kind);
  if (!s) throw unsupported(`unknown device type '${dev.kind}'`);
  const w = new XmlWriter();
  s.format(w, dev.def as never, env);
  return w.toString();
}

/** virDomainDefAddImplicitControllers: controllers the devices' addresses need. */
function addImplicitControllers(def: DomainDef): void {
  const list = (def.devices.controllers ??= []);
  const disks = def.devices.disks ?? [];
  for (const [ctype, bus] of [
    ['scsi', 'scsi'],
    ['fdc', 'fdc'],
    ['ide', 'ide'],
    ['sata', 'sata'],
  ] as const) {
    let max = -1;
    for (const d of disks) if (d.target.bus === bus && d.address?.type === 'drive') max = Math.max(max, d.address.controller);
    for (let i = 0; i <= max; i++) maybeAddController(list, ctype, i);
  }
  for (const c of [...(def.devices.channels ?? []), ...(def.devices.consoles ?? [])]) {
    if (c.target.type !== 'virtio') continue;
    const idx = c.address?.type === 'virtio-serial' ? c.address.controller : 0;
    maybeAddController(list, 'virtio-serial', idx);
  }
  let maxScsi = -1;
  for (const h of def.devices.hostdevs ?? []) {
    if (h.source.type === 'scsi' && h.address?.type === 'drive') maxScsi = Math.max(maxScsi, h.address.controller);
  }
  for (let i = 0; i <= maxScsi; i++) maybeAddController(list, 'scsi', i);
  if (list.length === 0) delete def.devices.controllers;
}
