// <devices>: one list per device kind, in the order libvirt parses and writes them. Each kind
// lives in its own module; this file only wires them into the domain.
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import type { ParseContext } from './parseContext.js';
import { xmlError } from './parseContext.js';
import { formatMemballoon, parseMemballoon, type MemballoonDef } from './memballoon.js';
import { formatPanic, parsePanic, type PanicDef } from './panic.js';
import { formatWatchdog, parseWatchdog, type WatchdogDef } from './watchdog.js';
import type { DomainDef } from './domainDef.js';
import type { DomainDriverDefaults, PostParseOptions } from './driverDefaults.js';

/** Per-kind device definitions, keyed by XML element name. */
export interface DeviceDefs {
  watchdog: WatchdogDef;
  memballoon: MemballoonDef;
  panic: PanicDef;
}

export type DeviceKind = keyof DeviceDefs;

/** One device of any kind, as parseDeviceXML returns it. */
export type DomainDeviceDef = { [K in DeviceKind]: { kind: K; def: DeviceDefs[K] } }[DeviceKind];

export interface DomainDevices {
  emulator?: string;
  watchdogs?: WatchdogDef[];
  memballoon?: MemballoonDef;
  panics?: PanicDef[];
}

/** What the domain parser knows while it reads devices. */
export interface DeviceParseEnv {
  ctx: ParseContext;
  /** The driver accepts user aliases ('ua-…'). */
  userAlias: boolean;
  /** Host interface name prefixes that count as generated. */
  netPrefixes: string[];
}

export interface DeviceFormatEnv {
  inactive: boolean;
  secure: boolean;
  migratable: boolean;
}

/** How one device kind is read and written. */
export interface DeviceKindSpec<K extends DeviceKind = DeviceKind> {
  kind: K;
  /** The device list in DomainDevices holding this kind. */
  list: keyof DomainDevices;
  /** Only one device of this kind: the entry is the device itself, not a list. */
  single?: string;
  parse(env: DeviceParseEnv, el: XmlElement): DeviceDefs[K];
  format(w: XmlWriter, dev: DeviceDefs[K], env: DeviceFormatEnv): void;
  /** Generic defaults after the driver's device callback. */
  postParse?(dev: DeviceDefs[K], def: DomainDef, driver: DomainDriverDefaults): void;
  /** Generic checks (virDomainDeviceDefValidate). */
  validate?(dev: DeviceDefs[K], def: DomainDef): void;
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
  spec({ kind: 'watchdog', list: 'watchdogs', single: 'only a single watchdog device is supported', parse: parseWatchdog, format: formatWatchdog }),
  spec({ kind: 'memballoon', list: 'memballoon', single: 'only a single memory balloon device is supported', parse: parseMemballoon, format: formatMemballoon }),
  spec({ kind: 'panic', list: 'panics', parse: parsePanic, format: formatPanic }),
];

type DeviceSlots = Record<string, unknown[] | unknown | undefined>;

/** Reads every device under <devices> into def.devices (virDomainDefParseXML's device part). */
export function parseDevices(env: DeviceParseEnv, devicesEl: XmlElement | undefined, def: { devices: DomainDevices }): void {
  if (!devicesEl) return;
  const slots = def.devices as unknown as DeviceSlots;
  for (const s of DEVICE_KINDS) {
    const els = env.ctx.children(devicesEl, s.kind);
    if (!els.length) continue;
    if (s.single && s.list === 'memballoon') {
      if (els.length > 1) throw xmlError(s.single, { element: s.kind });
      slots[s.list] = s.parse(env, els[0]!);
      continue;
    }
    if (s.single && els.length > 1) throw xmlError(s.single, { element: s.kind });
    const list = (slots[s.list as string] as unknown[] | undefined) ?? [];
    for (const el of els) list.push(s.parse(env, el));
    slots[s.list as string] = list;
  }
}

/** Writes <devices>, always as an open/close pair like libvirt. */
export function formatDevices(w: XmlWriter, def: { devices: DomainDevices }, env: DeviceFormatEnv): void {
  w.open('devices');
  w.text('emulator', def.devices.emulator);
  for (const s of DEVICE_KINDS) for (const d of listOf(def, s)) s.format(w, d as never, env);
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
  assignControllerIndexes?(def: DomainDef): void;
  isaSerialPorts?(def: DomainDef): void;
  rejectDuplicates?(def: DomainDef): void;
  implicitDevices?(def: DomainDef, driver: DomainDriverDefaults, opts: PostParseOptions): void;
} = {};
