// <memballoon model>: the balloon device that lets the host reclaim guest memory.
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import type { DeviceFormatEnv, DeviceParseEnv } from './deviceEnv.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './deviceInfo.js';
import { onOff } from './parseContext.js';
import { parseVirtioOptions, virtioOptionAttrs, type VirtioOptions } from './virtioOptions.js';

export const MEMBALLOON_MODELS = ['virtio', 'xen', 'none', 'virtio-transitional', 'virtio-non-transitional'] as const;

export interface MemballoonDef extends DeviceInfo {
  model: (typeof MEMBALLOON_MODELS)[number];
  autodeflate?: boolean;
  freePageReporting?: boolean;
  /** <stats period='N'/> in seconds. */
  statsPeriod?: number;
  driver?: VirtioOptions;
}

export function parseMemballoon(env: DeviceParseEnv, el: XmlElement): MemballoonDef {
  const { ctx } = env;
  const def: MemballoonDef = { model: ctx.enumProp(el, 'model', MEMBALLOON_MODELS, { required: true })! };
  const ad = ctx.switchProp(el, 'autodeflate');
  if (ad !== undefined) def.autodeflate = ad;
  const fpr = ctx.switchProp(el, 'freePageReporting');
  if (fpr !== undefined) def.freePageReporting = fpr;
  const stats = ctx.child(el, 'stats');
  if (stats) {
    const p = ctx.intProp(stats, 'period', 0) ?? 0;
    if (p > 0) def.statsPeriod = p;
  }
  // libvirt ignores the address of a 'none' balloon
  if (def.model !== 'none') parseDeviceInfo(ctx, el, def, { userAlias: env.userAlias });
  else for (const n of ['alias', 'address', 'acpi']) { const c = ctx.child(el, n); if (c) ctx.useSubtree(c); }
  const drv = parseVirtioOptions(ctx, ctx.child(el, 'driver'));
  if (drv) def.driver = drv;
  return def;
}

export function formatMemballoon(w: XmlWriter, def: MemballoonDef, _env: DeviceFormatEnv): void {
  w.element('memballoon', { model: def.model, autodeflate: onOff(def.autodeflate), freePageReporting: onOff(def.freePageReporting) }, (c) => {
    if (def.statsPeriod) c.empty('stats', { period: def.statsPeriod });
    formatDeviceInfo(c, def);
    c.element('driver', virtioOptionAttrs(def.driver));
  });
}
