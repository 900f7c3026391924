// <video>: the guest display adapter (model, memory sizes, heads, acceleration).
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import { strToUIntP } from '../xmlProps.js';
import type { DeviceFormatEnv, DeviceParseEnv } from './deviceEnv.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './deviceInfo.js';
import { sanitizePath } from './os.js';
import { internalError, unsupported, xmlError, yesNo } from './parseContext.js';
import { parseVirtioOptions, virtioOptionAttrs, type VirtioOptions } from './virtioOptions.js';

export const VIDEO_TYPES = ['default', 'vga', 'cirrus', 'vmvga', 'xen', 'vbox', 'qxl', 'parallels', 'virtio', 'gop', 'none', 'bochs', 'ramfb'] as const;
const BACKENDS = ['default', 'qemu', 'vhostuser'] as const;
const VGACONF = ['io', 'on', 'off'] as const;

export interface VideoDef extends DeviceInfo {
  model: {
    /** Undefined until the driver picks its default (the test driver: cirrus). */
    type?: Exclude<(typeof VIDEO_TYPES)[number], 'default'>;
    ram?: number;
    vram?: number;
    vram64?: number;
    vgamem?: number;
    heads?: number;
    primary?: boolean;
    acceleration?: { accel3d?: boolean; accel2d?: boolean; rendernode?: string };
    resolution?: { x: number; y: number };
  };
  driver?: { name?: 'qemu' | 'vhostuser'; vgaconf?: (typeof VGACONF)[number] } & VirtioOptions;
}

export function parseVideo(env: DeviceParseEnv, el: XmlElement): VideoDef {
  const { ctx } = env;
  const def: VideoDef = { model: { heads: 1 } };
  const m = ctx.child(el, 'model');
  if (m) {
    const primary = ctx.attr(m, 'primary');
    if (primary === 'yes') def.model.primary = true;
    const acc = ctx.child(m, 'acceleration');
    if (acc) {
      const rn = ctx.attr(acc, 'rendernode');
      const a3 = ctx.boolProp(acc, 'accel3d');
      const a2 = ctx.boolProp(acc, 'accel2d');
      if (rn === undefined && a3 === undefined && a2 === undefined) throw unsupported('missing values for acceleration');
      const a: NonNullable<VideoDef['model']['acceleration']> = {};
      if (a3 !== undefined) a.accel3d = a3;
      if (a2 !== undefined) a.accel2d = a2;
      if (rn !== undefined) a.rendernode = sanitizePath(rn);
      def.model.acceleration = a;
    }
    const res = ctx.child(m, 'resolution');
    if (res) def.model.resolution = { x: ctx.uintProp(res, 'x', 10, { required: true })!, y: ctx.uintProp(res, 'y', 10, { required: true })! };
  }
  const drv = ctx.child(el, 'driver');
  if (drv) {
    const d: NonNullable<VideoDef['driver']> = { ...parseVirtioOptions(ctx, drv) };
    const name = ctx.enumProp(drv, 'name', BACKENDS, { nonzero: true });
    if (name) d.name = name as 'qemu' | 'vhostuser';
    const vc = ctx.enumProp(drv, 'vgaconf', VGACONF);
    if (vc) d.vgaconf = vc;
    def.driver = d;
  }
  if (m) {
    const type = ctx.attr(m, 'type');
    if (type) {
      if (!(VIDEO_TYPES as readonly string[]).includes(type)) throw unsupported(`unknown video model '${type}'`, { element: 'video/model', attribute: 'type', value: type });
      if (type !== 'default') def.model.type = type as NonNullable<VideoDef['model']['type']>;
    }
    for (const k of ['ram', 'vram', 'vram64', 'vgamem', 'heads'] as const) {
      const v = ctx.attr(m, k);
      if (!v) continue;
      const n = strToUIntP(v, 10);
      if (n === undefined) {
        if (k === 'heads') throw internalError(`cannot parse video heads '${v}'`);
        throw xmlError(`cannot parse video ${k} '${v}'`);
      }
      if (n) def.model[k] = n;
      else delete def.model[k];
    }
  }
  parseDeviceInfo(ctx, el, def, { userAlias: env.userAlias });
  return def;
}

/** virDomainVideoDefaultRAM. */
function defaultRam(virtType: string, type: string | undefined): number {
  switch (type) {
    case 'vga':
    case 'cirrus':
    case 'vmvga':
      return virtType === 'vbox' ? 8 * 1024 : virtType === 'vmware' ? 4 * 1024 : 16 * 1024;
    case 'bochs':
      return 16 * 1024;
    case 'xen':
      return 4 * 1024;
    case 'qxl':
      return 64 * 1024;
    default:
      return 0;
  }
}

function roundUpPow2(n: number | undefined): number | undefined {
  if (!n) return n;
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** virDomainVideoDefPostParse: default memory sizes, rounded up to powers of two. */
export function postParseVideo(v: VideoDef, view: { type: string }): void {
  if (!v.model.ram && v.model.type === 'qxl') v.model.ram = defaultRam(view.type, v.model.type) || undefined;
  if (!v.model.vram) v.model.vram = defaultRam(view.type, v.model.type) || undefined;
  const ram = roundUpPow2(v.model.ram);
  const vram = roundUpPow2(v.model.vram);
  if (ram) v.model.ram = ram;
  else delete v.model.ram;
  if (vram) v.model.vram = vram;
  else delete v.model.vram;
}

export function validateVideo(v: VideoDef, all: VideoDef[]): void {
  if (!v.model.type) throw internalError('missing video model and cannot determine default');
  if (all.length > 1 && all.some((o) => o.model.type === 'none')) {
    throw unsupported("a 'none' video type must be the only video device defined for the domain");
  }
  if (v.driver?.name === 'vhostuser' && v.model.type !== 'virtio') throw unsupported("'vhostuser' driver is only supported with 'virtio' device");
  if (v.driver?.name !== 'vhostuser' && v.model.acceleration?.rendernode) {
    throw unsupported("unsupported rendernode accel attribute without 'vhostuser'");
  }
  if (v.model.resolution && (v.model.resolution.x === 0 || v.model.resolution.y === 0)) {
    throw unsupported('video resolution values must be greater than 0');
  }
  if (v.model.type !== 'qxl') {
    if (v.model.ram) throw unsupported('ram attribute only supported for video type qxl');
    if (v.model.vram64) throw unsupported('vram64 attribute only supported for video type qxl');
    if (v.model.vgamem) throw unsupported('vgamem attribute only supported for video type qxl');
  }
  if (v.model.type === 'ramfb' && v.address) throw unsupported('address not supported for video type ramfb');
}

export function formatVideo(w: XmlWriter, v: VideoDef, _env: DeviceFormatEnv): void {
  w.open('video');
  const d = v.driver;
  const vo = virtioOptionAttrs(d);
  if (d && (Object.values(vo).some((x) => x !== undefined) || d.vgaconf || d.name)) {
    w.empty('driver', { ...vo, vgaconf: d.vgaconf, name: d.name });
  }
  const m = v.model;
  const attrs = {
    type: m.type ?? 'default',
    ram: m.ram,
    vram: m.vram,
    vram64: m.vram64,
    vgamem: m.vgamem,
    heads: m.heads,
    primary: m.primary ? 'yes' : undefined,
  };
  if (m.acceleration || m.resolution) {
    w.open('model', attrs);
    if (m.acceleration) {
      const a = m.acceleration;
      w.empty('acceleration', { accel3d: yesNo(a.accel3d), accel2d: yesNo(a.accel2d), rendernode: a.rendernode });
    }
    if (m.resolution) w.empty('resolution', { x: m.resolution.x || undefined, y: m.resolution.x && m.resolution.y ? m.resolution.y : undefined });
    w.close('model');
  } else w.empty('model', attrs);
  formatDeviceInfo(w, v);
  w.close('video');
}
