// <input>: mouse, tablet, keyboard, passthrough and evdev input devices.
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import type { DeviceFormatEnv, DeviceParseEnv } from './deviceEnv.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './deviceInfo.js';
import { sanitizePath } from './os.js';
import { internalError, onOff, unsupported, xmlError } from './parseContext.js';
import { parseVirtioOptions, virtioOptionAttrs, type VirtioOptions } from './virtioOptions.js';

export const INPUT_TYPES = ['mouse', 'tablet', 'keyboard', 'passthrough', 'evdev'] as const;
export const INPUT_BUSES = ['ps2', 'usb', 'xen', 'parallels', 'virtio', 'none'] as const;
const INPUT_MODELS = ['default', 'virtio', 'virtio-transitional', 'virtio-non-transitional'] as const;
const GRAB = ['default', 'all'] as const;
const GRAB_TOGGLE = ['default', 'ctrl-ctrl', 'alt-alt', 'shift-shift', 'meta-meta', 'scrolllock', 'ctrl-scrolllock'] as const;

export interface InputDef extends DeviceInfo {
  type: (typeof INPUT_TYPES)[number];
  /** Defaults by OS and arch: ps2 for x86 mouse/keyboard, usb otherwise, … */
  bus: (typeof INPUT_BUSES)[number];
  model?: 'virtio' | 'virtio-transitional' | 'virtio-non-transitional';
  source?: { evdev?: string; grab?: 'all'; grabToggle?: string; repeat?: boolean };
  driver?: VirtioOptions;
}

const X86 = new Set(['i686', 'x86_64']);

export function parseInput(env: DeviceParseEnv, el: XmlElement): InputDef {
  const { ctx } = env;
  const type = ctx.attr(el, 'type');
  const bus = ctx.attr(el, 'bus');
  const model = ctx.attr(el, 'model');
  if (!type) throw internalError('missing input device type');
  if (!(INPUT_TYPES as readonly string[]).includes(type)) throw unsupported(`unknown input device type '${type}'`);
  const t = type as InputDef['type'];
  const def: InputDef = { type: t, bus: 'ps2' };
  if (model !== undefined) {
    const i = (INPUT_MODELS as readonly string[]).indexOf(model);
    if (i <= 0) throw unsupported(`unknown input model '${model}'`);
    def.model = model as InputDef['model'];
  }
  const dom = env.domain;
  if (bus !== undefined) {
    if (!(INPUT_BUSES as readonly string[]).includes(bus)) throw unsupported(`unknown input bus type '${bus}'`);
    def.bus = bus as InputDef['bus'];
  } else if (dom?.os.type === 'hvm') {
    if ((t === 'mouse' || t === 'keyboard') && (X86.has(dom.os.arch) || dom.os.arch === 'none')) def.bus = 'ps2';
    else if (dom.os.arch.startsWith('s390') || t === 'passthrough') def.bus = 'virtio';
    else if (t === 'evdev') def.bus = 'none';
    else def.bus = 'usb';
  } else if (dom?.os.type === 'xen' || dom?.os.type === 'xenpvh') def.bus = 'xen';
  else if (dom?.type === 'vz' || dom?.type === 'parallels') def.bus = 'parallels';
  parseDeviceInfo(ctx, el, def, { userAlias: env.userAlias });
  if (def.bus === 'usb' && def.address && def.address.type !== 'usb') throw xmlError('Invalid address for a USB device');
  const src = ctx.child(el, 'source');
  if (src) {
    let evdev: string | undefined;
    if (t === 'passthrough') evdev = ctx.attr(src, 'evdev');
    else if (t === 'evdev') evdev = ctx.attr(src, 'dev');
    const s: NonNullable<InputDef['source']> = {};
    if (evdev) s.evdev = sanitizePath(evdev);
    if ((t === 'passthrough' || t === 'evdev') && !s.evdev) throw xmlError('Missing evdev path for input device');
    if (t === 'evdev') {
      const g = ctx.enumProp(src, 'grab', GRAB, { nonzero: true });
      if (g) s.grab = 'all';
      const gt = ctx.enumProp(src, 'grabToggle', GRAB_TOGGLE, { nonzero: true });
      if (gt) s.grabToggle = gt;
      const r = ctx.switchProp(src, 'repeat');
      if (r !== undefined) s.repeat = r;
    }
    def.source = s;
  }
  const drv = parseVirtioOptions(ctx, ctx.child(el, 'driver'));
  if (drv) def.driver = drv;
  return def;
}

export function validateInput(input: InputDef, dom: { type: string; os: { type: string } }): void {
  if (dom.os.type === 'hvm') {
    if (input.bus === 'ps2' && input.type !== 'mouse' && input.type !== 'keyboard') {
      throw internalError(`ps2 bus does not support ${input.type} input device`);
    }
    if (input.bus === 'xen') throw internalError(`unsupported input bus ${input.bus}`);
  } else if (dom.os.type === 'xen' || dom.os.type === 'xenpvh') {
    if (input.bus !== 'xen') throw internalError(`unsupported input bus ${input.bus}`);
    if (input.type !== 'mouse' && input.type !== 'keyboard') throw internalError(`xen bus does not support ${input.type} input device`);
  } else if (dom.type === 'vz' || dom.type === 'parallels') {
    if (input.bus !== 'parallels') throw internalError(`parallels containers don't support input bus ${input.bus}`);
    if (input.type !== 'mouse' && input.type !== 'keyboard') throw internalError(`parallels bus does not support ${input.type} input device`);
  } else {
    throw internalError('Input devices are not supported by this virtualization driver.');
  }
  if ((input.type === 'mouse' || input.type === 'tablet' || input.type === 'keyboard') && input.source?.evdev) {
    throw unsupported('setting source evdev path only supported for passthrough input devices');
  }
  if (input.type === 'passthrough' && input.bus !== 'virtio') throw unsupported("only bus 'virtio' is supported for 'passthrough' input devices");
  if (input.type === 'evdev' && input.bus !== 'none') throw unsupported("input evdev doesn't support bus element");
  if (input.model && input.bus !== 'virtio') throw unsupported(`only bus 'virtio' is supported for input model '${input.model}'`);
}

export function formatInput(w: XmlWriter, def: InputDef, env: DeviceFormatEnv): void {
  if (env.migratable && def.type === 'keyboard' && (def.bus === 'ps2' || def.bus === 'xen')) return;
  const s = def.source ?? {};
  w.element('input', { type: def.type, bus: def.bus !== 'none' ? def.bus : undefined, model: def.model }, (c) => {
    c.element('driver', virtioOptionAttrs(def.driver));
    c.element('source', {
      dev: def.type === 'evdev' ? s.evdev : undefined,
      evdev: def.type !== 'evdev' ? s.evdev : undefined,
      grab: s.grab,
      grabToggle: s.grabToggle,
      repeat: onOff(s.repeat),
    });
    formatDeviceInfo(c, def);
  });
}
