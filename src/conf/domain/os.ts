// <os>: guest OS type, firmware, loader/nvram, direct kernel boot, boot order and menu; plus
// the top-level <bootloader>/<bootloader_args> that libvirt keeps with it.
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { ParseContext, unsupported, xmlError, yesNo } from './parseContext.js';

export const OS_TYPES = ['hvm', 'xen', 'linux', 'exe', 'uml', 'xenpvh'] as const;
export const BOOT_DEVS = ['fd', 'cdrom', 'hd', 'network'] as const;
export const LOADER_TYPES = ['none', 'rom', 'pflash'] as const;
export const FIRMWARES = ['none', 'bios', 'efi'] as const;
export const FIRMWARE_FEATURES = ['enrolled-keys', 'secure-boot'] as const;
export const SMBIOS_MODES = ['none', 'emulate', 'host', 'sysinfo'] as const;

export type BootDev = (typeof BOOT_DEVS)[number];

export interface OsLoaderDef {
  path?: string;
  readonly?: boolean;
  secure?: boolean;
  type?: 'rom' | 'pflash';
  stateless?: boolean;
}

export interface OsNvramDef {
  template?: string;
  /** Old-style <nvram>PATH</nvram>. */
  path?: string;
}

export interface OsDef {
  /** <os firmware='efi'>. */
  firmware?: 'bios' | 'efi';
  /** <type>: hvm, xen, linux, exe, uml, xenpvh. */
  type: string;
  /** <type arch>: filled from the driver's default when absent. */
  arch: string;
  machine?: string;
  /** <firmware><feature enabled name/></firmware>, by name. */
  firmwareFeatures?: Partial<Record<(typeof FIRMWARE_FEATURES)[number], boolean>>;
  init?: string;
  initargs?: string[];
  initenv?: { name: string; value: string }[];
  initdir?: string;
  inituser?: string;
  initgroup?: string;
  loader?: OsLoaderDef;
  nvram?: OsNvramDef;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  dtb?: string;
  root?: string;
  /** <acpi><table type='slic'>PATH</table></acpi>. */
  acpiSlicTable?: string;
  /** <boot dev='…'/> in order. */
  boot: BootDev[];
  bootmenu?: { enable?: boolean; timeout?: number };
  bios?: { useserial?: boolean; rebootTimeout?: number };
  smbios?: { mode: (typeof SMBIOS_MODES)[number] };
}

/** Reads the parts of <os> libvirt reads before anything else (virDomainDefParseCaps). */
export function parseOsCaps(ctx: ParseContext, root: XmlElement): { os: OsDef; bootloader?: string; bootloaderArgs?: string } {
  const bootloader = nonEmpty(ctx.childText(root, 'bootloader'));
  const bootloaderArgs = nonEmpty(ctx.childText(root, 'bootloader_args'));
  const osEl = ctx.child(root, 'os');
  const typeEl = osEl ? ctx.child(osEl, 'type') : undefined;
  const osType = typeEl ? nonEmpty(ctx.text(typeEl)) : undefined;
  const arch = typeEl ? nonEmpty(ctx.attr(typeEl, 'arch')) : undefined;
  const machine = typeEl ? nonEmpty(ctx.attr(typeEl, 'machine')) : undefined;
  let type: string;
  if (!osType) {
    if (bootloader) type = 'xen';
    else throw xmlError('an os <type> must be specified', { element: 'os/type' });
  } else {
    if (!(OS_TYPES as readonly string[]).includes(osType)) {
      throw unsupported(`unknown OS type '${osType}'`, { element: 'os/type', value: osType });
    }
    type = osType;
  }
  const os: OsDef = { type, arch: arch ?? '', boot: [] };
  if (machine !== undefined) os.machine = machine;
  const out: { os: OsDef; bootloader?: string; bootloaderArgs?: string } = { os };
  if (bootloader !== undefined) out.bootloader = bootloader;
  if (bootloaderArgs !== undefined) out.bootloaderArgs = bootloaderArgs;
  return out;
}

/** virArch names. */
export const KNOWN_ARCHES: ReadonlySet<string> = new Set([
  'none', 'alpha', 'armv6l', 'armv7l', 'armv7b', 'aarch64', 'cris', 'i686', 'ia64', 'lm32', 'loongarch64',
  'm68k', 'microblaze', 'microblazeel', 'mips', 'mipsel', 'mips64', 'mips64el', 'openrisc', 'parisc',
  'parisc64', 'ppc', 'ppcle', 'ppc64', 'ppc64le', 'ppcemb', 'riscv32', 'riscv64', 's390', 's390x', 'sh4',
  'sh4eb', 'sparc', 'sparc64', 'unicore32', 'x86_64', 'xtensa', 'xtensaeb',
]);

/** The boot options that depend on the OS type (virDomainDefParseBootOptions). */
export function parseOsBoot(ctx: ParseContext, osEl: XmlElement | undefined, os: OsDef): void {
  if (!osEl) return;
  const kernelOpts = (): void => {
    setText(os, 'kernel', ctx.childText(osEl, 'kernel'));
    setText(os, 'initrd', ctx.childText(osEl, 'initrd'));
    setText(os, 'cmdline', ctx.childText(osEl, 'cmdline'));
    setText(os, 'dtb', ctx.childText(osEl, 'dtb'));
    setText(os, 'root', ctx.childText(osEl, 'root'));
  };
  switch (os.type) {
    case 'hvm':
      kernelOpts();
      parseFirmware(ctx, osEl, os);
      parseLoader(ctx, osEl, os);
      parseAcpi(ctx, osEl, os);
      parseBootDevs(ctx, osEl, os);
      break;
    case 'xen':
    case 'xenpvh':
    case 'uml':
      kernelOpts();
      parseLoader(ctx, osEl, os);
      break;
    case 'exe':
      parseInit(ctx, osEl, os);
      break;
    default:
      break;
  }
  const smbios = ctx.child(osEl, 'smbios');
  if (smbios) {
    const mode = ctx.attr(smbios, 'mode');
    if (mode) {
      if (!(SMBIOS_MODES as readonly string[]).includes(mode)) {
        throw unsupported(`unknown smbios mode '${mode}'`, { element: 'os/smbios', attribute: 'mode', value: mode });
      }
      os.smbios = { mode: mode as (typeof SMBIOS_MODES)[number] };
    }
  }
}

function parseInit(ctx: ParseContext, osEl: XmlElement, os: OsDef): void {
  setText(os, 'init', ctx.childText(osEl, 'init'));
  setText(os, 'cmdline', ctx.childText(osEl, 'cmdline'));
  setText(os, 'initdir', ctx.childText(osEl, 'initdir'));
  setText(os, 'inituser', ctx.childText(osEl, 'inituser'));
  setText(os, 'initgroup', ctx.childText(osEl, 'initgroup'));
  const args = ctx.children(osEl, 'initarg');
  if (args.length) {
    os.initargs = args.map((a) => {
      const t = ctx.text(a);
      if (!t) throw xmlError('No data supplied for <initarg> element', { element: 'os/initarg' });
      return t;
    });
  }
  const envs = ctx.children(osEl, 'initenv');
  if (envs.length) {
    os.initenv = envs.map((e) => {
      const name = ctx.attr(e, 'name');
      if (name === undefined) throw xmlError('No name supplied for <initenv> element', { element: 'os/initenv' });
      const value = ctx.text(e);
      if (!value) throw xmlError(`No value supplied for <initenv name='${name}'> element`, { element: 'os/initenv', value: name });
      return { name, value };
    });
  }
}

function parseFirmware(ctx: ParseContext, osEl: XmlElement, os: OsDef): void {
  const fwEl = ctx.child(osEl, 'firmware');
  if (fwEl) {
    const feats = ctx.children(fwEl, 'feature');
    if (feats.length) {
      os.firmwareFeatures = {};
      for (const f of feats) {
        const name = ctx.enumProp(f, 'name', FIRMWARE_FEATURES, { required: true })!;
        os.firmwareFeatures[name] = ctx.boolProp(f, 'enabled', { required: true })!;
      }
    }
  }
  const firmware = ctx.attr(osEl, 'firmware');
  if (firmware) {
    const i = (FIRMWARES as readonly string[]).indexOf(firmware);
    if (i <= 0) throw xmlError(`unknown firmware value ${firmware}`, { element: 'os', attribute: 'firmware', value: firmware });
    os.firmware = firmware as 'bios' | 'efi';
  }
}

function parseLoader(ctx: ParseContext, osEl: XmlElement, os: OsDef): void {
  const loaderEl = ctx.child(osEl, 'loader');
  const nvramEl = ctx.child(osEl, 'nvram');
  if (nvramEl) {
    const nvram: OsNvramDef = {};
    const template = ctx.attr(nvramEl, 'template');
    if (template !== undefined) nvram.template = template;
    const path = ctx.text(nvramEl);
    if (path) nvram.path = path;
    os.nvram = nvram;
  }
  if (!loaderEl) {
    if (nvramEl) os.loader ??= {};
    return;
  }
  const loader: OsLoaderDef = {};
  const ro = ctx.boolProp(loaderEl, 'readonly');
  if (ro !== undefined) loader.readonly = ro;
  const type = ctx.enumProp(loaderEl, 'type', LOADER_TYPES, { nonzero: true });
  if (type) loader.type = type as 'rom' | 'pflash';
  const path = ctx.text(loaderEl);
  if (path) loader.path = path;
  const secure = ctx.boolProp(loaderEl, 'secure');
  if (secure !== undefined) loader.secure = secure;
  const stateless = ctx.boolProp(loaderEl, 'stateless');
  if (stateless !== undefined) loader.stateless = stateless;
  os.loader = loader;
}

function parseAcpi(ctx: ParseContext, osEl: XmlElement, os: OsDef): void {
  const acpi = ctx.child(osEl, 'acpi');
  if (!acpi) return;
  const tables = ctx.children(acpi, 'table');
  if (tables.length > 1) throw xmlError('Only one acpi table is supported', { element: 'os/acpi/table' });
  if (tables.length === 1) {
    const t = tables[0]!;
    const type = ctx.attr(t, 'type');
    if (!type) throw xmlError('Missing acpi table type', { element: 'os/acpi/table', attribute: 'type' });
    if (type !== 'slic') throw xmlError(`Unknown acpi table type: ${type}`, { element: 'os/acpi/table', attribute: 'type', value: type });
    os.acpiSlicTable = sanitizePath(ctx.text(t));
  }
}

function parseBootDevs(ctx: ParseContext, osEl: XmlElement, os: OsDef): void {
  const boots = ctx.children(osEl, 'boot');
  for (const b of boots.slice(0, BOOT_DEVS.length)) os.boot.push(ctx.enumProp(b, 'dev', BOOT_DEVS, { required: true })!);
  for (const b of boots.slice(BOOT_DEVS.length)) ctx.attr(b, 'dev');
  const menu = ctx.child(osEl, 'bootmenu');
  if (menu) {
    const enable = ctx.boolProp(menu, 'enable');
    const bm: NonNullable<OsDef['bootmenu']> = {};
    if (enable !== undefined) bm.enable = enable;
    if (enable === true) {
      const t = ctx.uintProp(menu, 'timeout');
      if (t !== undefined) bm.timeout = t;
    } else {
      ctx.attr(menu, 'timeout');
    }
    if (enable !== undefined) os.bootmenu = bm;
  }
  const bios = ctx.child(osEl, 'bios');
  if (bios) {
    const b: NonNullable<OsDef['bios']> = {};
    let useserial: boolean | undefined;
    try {
      useserial = ctx.boolProp(bios, 'useserial');
    } catch {
      // libvirt turns an invalid useserial into 'no' instead of failing
      useserial = false;
    }
    if (useserial !== undefined) b.useserial = useserial;
    const rt = ctx.intProp(bios, 'rebootTimeout');
    if (rt !== undefined) b.rebootTimeout = rt;
    if (b.useserial !== undefined || b.rebootTimeout !== undefined) os.bios = b;
  }
}

/** This host's architecture as virArch names it (Node's process.arch 'x64' is 'x86_64'). */
export function hostArch(): string {
  switch (process.arch) {
    case 'x64':
      return 'x86_64';
    case 'ia32':
      return 'i686';
    case 'arm64':
      return 'aarch64';
    case 'arm':
      return 'armv7l';
    case 'ppc64':
      return 'ppc64le';
    default:
      // s390x, riscv64, mips64el: the same names
      return process.arch;
  }
}

/** virFileSanitizePath: collapses '//' runs and drops a trailing '/'. */
export function sanitizePath(p: string): string {
  let s = p.replace(/\/{2,}/g, '/');
  if (p.startsWith('//') && !p.startsWith('///')) s = '/' + s;
  if (s.length > 1 && s.endsWith('/')) s = s.slice(0, -1);
  return s;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}

function setText<K extends keyof OsDef>(os: OsDef, key: K, v: string | undefined): void {
  if (v !== undefined && v !== '') (os as unknown as Record<string, unknown>)[key] = v;
  else delete (os as unknown as Record<string, unknown>)[key];
}

/** An architecture the XML names must be a virArch other than 'none'. */
export function checkArch(arch: string): void {
  if (!KNOWN_ARCHES.has(arch) || arch === 'none') {
    throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.DOMAIN, `Unknown architecture ${arch}`, {
      element: 'os/type',
      attribute: 'arch',
      value: arch,
    });
  }
}

export function formatOs(w: XmlWriter, os: OsDef, virtType: string, bootloader?: string, bootloaderArgs?: string): void {
  if (bootloader) {
    w.text('bootloader', bootloader);
    w.text('bootloader_args', bootloaderArgs);
  }
  w.open('os', { firmware: os.firmware });
  // libvirt writes Xen paravirt guests back with the historical type 'linux'
  w.text('type', virtType === 'xen' && os.type === 'xen' ? 'linux' : os.type, { arch: os.arch || undefined, machine: os.machine });
  if (os.firmwareFeatures) {
    w.open('firmware');
    for (const f of FIRMWARE_FEATURES) {
      const v = os.firmwareFeatures[f];
      if (v !== undefined) w.empty('feature', { enabled: yesNo(v), name: f });
    }
    w.close('firmware');
  }
  w.text('init', os.init);
  for (const a of os.initargs ?? []) w.text('initarg', a);
  for (const e of os.initenv ?? []) w.text('initenv', e.value, { name: e.name });
  w.text('initdir', os.initdir);
  w.text('inituser', os.inituser);
  w.text('initgroup', os.initgroup);
  if (os.loader) {
    const l = os.loader;
    w.inline('loader', { readonly: yesNo(l.readonly), secure: yesNo(l.secure), type: l.type, stateless: yesNo(l.stateless) }, l.path);
    if (os.nvram) w.inline('nvram', { template: os.nvram.template }, os.nvram.path);
  }
  w.text('kernel', os.kernel);
  w.text('initrd', os.initrd);
  w.text('cmdline', os.cmdline);
  w.text('dtb', os.dtb);
  w.text('root', os.root);
  if (os.acpiSlicTable !== undefined) {
    w.open('acpi');
    w.text('table', os.acpiSlicTable, { type: 'slic' });
    w.close('acpi');
  }
  if (!bootloader) {
    for (const b of os.boot) w.empty('boot', { dev: b });
    if (os.bootmenu?.enable !== undefined) w.empty('bootmenu', { enable: yesNo(os.bootmenu.enable), timeout: os.bootmenu.timeout });
    if (os.bios && (os.bios.useserial !== undefined || os.bios.rebootTimeout !== undefined)) {
      w.empty('bios', { useserial: yesNo(os.bios.useserial), rebootTimeout: os.bios.rebootTimeout });
    }
  }
  if (os.smbios) w.empty('smbios', { mode: os.smbios.mode });
  w.close('os');
}
