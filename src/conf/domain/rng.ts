// <rng>: a virtio random number generator and its host source (random device, EGD, builtin).
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import { strToUInt } from '../xmlProps.js';
import type { DeviceFormatEnv, DeviceParseEnv } from './deviceEnv.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './deviceInfo.js';
import { CHR_TYPES, formatChrSource, parseChrSource, validateChrSource, type ChrSourceDef, type ChrType } from './chardev.js';
import { unsupported, xmlError } from './parseContext.js';
import { parseVirtioOptions, virtioOptionAttrs, type VirtioOptions } from './virtioOptions.js';

export const RNG_MODELS = ['virtio', 'virtio-transitional', 'virtio-non-transitional'] as const;
export const RNG_BACKENDS = ['random', 'egd', 'builtin'] as const;

export interface RngDef extends DeviceInfo {
  model: (typeof RNG_MODELS)[number];
  rate?: { bytes: number; period?: number };
  backend: { model: (typeof RNG_BACKENDS)[number]; file?: string; egd?: ChrSourceDef };
  driver?: VirtioOptions;
}

export function parseRng(env: DeviceParseEnv, el: XmlElement): RngDef {
  const { ctx } = env;
  const model = ctx.attr(el, 'model');
  if (!model) throw xmlError('missing RNG device model');
  if (!(RNG_MODELS as readonly string[]).includes(model)) throw unsupported(`unknown RNG model '${model}'`);
  const rateEl = ctx.child(el, 'rate');
  let rate: RngDef['rate'];
  if (rateEl) {
    const b = ctx.attr(rateEl, 'bytes');
    const bytes = b ? strToUInt(b, 10) : 0;
    if (bytes === undefined) throw xmlError('invalid RNG rate bytes value');
    const p = ctx.attr(rateEl, 'period');
    if (bytes > 0) {
      const period = p ? strToUInt(p, 10) : 0;
      if (period === undefined) throw xmlError('invalid RNG rate period value');
      rate = period ? { bytes, period } : { bytes };
    }
  }
  const backends = ctx.children(el, 'backend');
  if (backends.length !== 1) throw xmlError('only one RNG backend is supported');
  const be = backends[0]!;
  const bm = ctx.attr(be, 'model');
  if (!bm) throw xmlError('missing RNG device backend model');
  if (!(RNG_BACKENDS as readonly string[]).includes(bm)) throw unsupported(`unknown RNG backend model '${bm}'`);
  const def: RngDef = { model: model as RngDef['model'], backend: { model: bm as RngDef['backend']['model'] } };
  if (rate) def.rate = rate;
  if (bm === 'random') {
    const f = ctx.text(be);
    if (f) def.backend.file = f;
  } else if (bm === 'egd') {
    const t = ctx.attr(be, 'type');
    if (!t) throw xmlError('missing EGD backend type');
    if (!(CHR_TYPES as readonly string[]).includes(t)) throw unsupported(`unknown backend type '${t}' for egd`);
    const src: ChrSourceDef = { type: t as ChrType };
    parseChrSource(ctx, be, src);
    def.backend.egd = src;
  }
  parseDeviceInfo(ctx, el, def, { userAlias: env.userAlias });
  const drv = parseVirtioOptions(ctx, ctx.child(el, 'driver'));
  if (drv) def.driver = drv;
  return def;
}

/** virDomainRNGDefPostParse: the random backend reads /dev/random by default. */
export function postParseRng(def: RngDef): void {
  if (def.backend.model === 'random' && !def.backend.file) def.backend.file = '/dev/random';
}

export function validateRng(def: RngDef): void {
  if (def.backend.egd) validateChrSource(def.backend.egd);
}

export function formatRng(w: XmlWriter, def: RngDef, env: DeviceFormatEnv): void {
  w.open('rng', { model: def.model });
  if (def.rate) w.empty('rate', { bytes: def.rate.bytes, period: def.rate.period });
  const b = def.backend;
  if (b.model === 'random') w.text('backend', b.file ?? '', { model: 'random' });
  else if (b.model === 'egd' && b.egd) {
    w.open('backend', { model: 'egd', type: b.egd.type });
    formatChrSource(w, b.egd, env);
    w.close('backend');
  } else w.empty('backend', { model: b.model });
  w.element('driver', virtioOptionAttrs(def.driver));
  formatDeviceInfo(w, def);
  w.close('rng');
}
