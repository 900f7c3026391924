// What every device may carry besides its own content: <boot order>, <alias>, <master>, <rom>,
// <acpi index> and <address> (libvirt's virDomainDeviceInfo).
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import { ParseContext, internalError, onOff, unsupported, yesNo } from './parseContext.js';
import { formatDeviceAddress, parseDeviceAddress, type DeviceAddress } from './deviceAddress.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';

export interface DeviceBoot {
  order: number;
  loadparm?: string;
}

export interface DeviceRom {
  enabled?: boolean;
  bar?: boolean;
  file?: string;
}

export interface DeviceInfo {
  /** <boot order='N'/> (disks, interfaces, hostdevs, redirdevs). */
  boot?: DeviceBoot;
  /** <alias name='…'/>: kept from live XML, or user aliases ('ua-…') on define. */
  alias?: string;
  /** <master startport='N'/> of a USB companion controller. */
  master?: { startport: number };
  rom?: DeviceRom;
  /** <acpi index='N'/>. */
  acpiIndex?: number;
  address?: DeviceAddress;
}

export interface DeviceInfoParseOptions {
  allowBoot?: boolean;
  allowRom?: boolean;
  /** The driver accepts user aliases ('ua-…') in inactive XML. */
  userAlias?: boolean;
}

const USER_ALIAS_RE = /^ua-[A-Za-z0-9_-]*$/;

/** Reads the device-info children of a device element into `info`. */
export function parseDeviceInfo(ctx: ParseContext, el: XmlElement, info: DeviceInfo, opts: DeviceInfoParseOptions = {}): void {
  const aliasEl = ctx.child(el, 'alias');
  const alias = aliasEl ? ctx.attr(aliasEl, 'name') : undefined;
  if (alias && (ctx.live || (opts.userAlias && USER_ALIAS_RE.test(alias)))) info.alias = alias;
  const master = ctx.child(el, 'master');
  if (master) info.master = { startport: ctx.uintProp(master, 'startport') ?? 0 };
  if (opts.allowBoot) {
    const boot = ctx.child(el, 'boot');
    if (boot) info.boot = parseBoot(ctx, boot);
  }
  if (opts.allowRom) {
    const rom = ctx.child(el, 'rom');
    if (rom) {
      const r: DeviceRom = {};
      const enabled = ctx.boolProp(rom, 'enabled');
      const bar = ctx.switchProp(rom, 'bar');
      const file = ctx.attr(rom, 'file');
      if (enabled !== undefined) r.enabled = enabled;
      if (bar !== undefined) r.bar = bar;
      if (file !== undefined) r.file = file;
      if (enabled === false && (bar !== undefined || file !== undefined)) {
        throw unsupported('ROM tuning is not supported when ROM is disabled', { element: 'rom' });
      }
      info.rom = r;
    }
  }
  const acpi = ctx.child(el, 'acpi');
  if (acpi) {
    const idx = ctx.uintProp(acpi, 'index', 10, { nonzero: true });
    if (idx !== undefined) info.acpiIndex = idx;
  }
  const address = ctx.child(el, 'address');
  if (address) {
    const a = parseDeviceAddress(ctx, address);
    if (a) info.address = a;
  }
}

function parseBoot(ctx: ParseContext, boot: XmlElement): DeviceBoot {
  const order = ctx.uintProp(boot, 'order', 10, { required: true, nonzero: true })!;
  const b: DeviceBoot = { order };
  const loadparm = ctx.attr(boot, 'loadparm');
  if (loadparm !== undefined) {
    const up = loadparm.toUpperCase();
    if (up.length < 1 || up.length > 8) {
      throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.DOMAIN, `loadparm value '${up}' must be between 1 and 8 characters`);
    }
    if (!/^[A-Z0-9. ]+$/.test(up)) {
      throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.DOMAIN, `invalid loadparm value '${up}', expecting chars in set of [a-zA-Z0-9.] and blank spaces`);
    }
    b.loadparm = up;
  }
  return b;
}

export interface DeviceInfoFormatOptions {
  allowBoot?: boolean;
  allowRom?: boolean;
}

/** Writes the device-info children in libvirt's order: boot, alias, master, rom, acpi, address. */
export function formatDeviceInfo(w: XmlWriter, info: DeviceInfo, opts: DeviceInfoFormatOptions = {}): void {
  if (opts.allowBoot && info.boot) w.empty('boot', { order: info.boot.order, loadparm: info.boot.loadparm });
  if (info.alias) w.empty('alias', { name: info.alias });
  if (info.master) w.empty('master', { startport: info.master.startport });
  if (opts.allowRom && info.rom && (info.rom.enabled !== undefined || info.rom.bar !== undefined || info.rom.file !== undefined)) {
    w.empty('rom', { enabled: yesNo(info.rom.enabled), bar: onOff(info.rom.bar), file: info.rom.file });
  }
  if (info.acpiIndex) w.empty('acpi', { index: info.acpiIndex });
  formatDeviceAddress(w, info.address);
}

/** Copies the device-info fields from one object to another (for defs built from parts). */
export function deviceInfoOf(d: DeviceInfo): DeviceInfo {
  const out: DeviceInfo = {};
  if (d.boot) out.boot = d.boot;
  if (d.alias) out.alias = d.alias;
  if (d.master) out.master = d.master;
  if (d.rom) out.rom = d.rom;
  if (d.acpiIndex) out.acpiIndex = d.acpiIndex;
  if (d.address) out.address = d.address;
  return out;
}

export { internalError };
