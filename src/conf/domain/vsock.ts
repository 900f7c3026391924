// <vsock>: a virtio socket device and the guest's context id.
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import type { DeviceFormatEnv, DeviceParseEnv } from './deviceEnv.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './deviceInfo.js';
import { yesNo } from './parseContext.js';
import { parseVirtioOptions, virtioOptionAttrs, type VirtioOptions } from './virtioOptions.js';

const VSOCK_MODELS = ['default', 'virtio', 'virtio-transitional', 'virtio-non-transitional'] as const;

export interface VsockDef extends DeviceInfo {
  model?: 'virtio' | 'virtio-transitional' | 'virtio-non-transitional';
  /** <cid auto address>: auto defaults to yes unless an address is given. */
  cid: { auto?: boolean; address?: number };
  driver?: VirtioOptions;
}

export function parseVsock(env: DeviceParseEnv, el: XmlElement): VsockDef {
  const { ctx } = env;
  const def: VsockDef = { cid: {} };
  const model = ctx.enumProp(el, 'model', VSOCK_MODELS);
  if (model && model !== 'default') def.model = model;
  const cid = ctx.child(el, 'cid');
  if (cid) {
    const addr = ctx.uintProp(cid, 'address', 10, { nonzero: true });
    const auto = ctx.boolProp(cid, 'auto');
    if (addr) def.cid.address = addr;
    if (auto !== undefined) def.cid.auto = auto;
  }
  parseDeviceInfo(ctx, el, def, { userAlias: env.userAlias });
  const drv = parseVirtioOptions(ctx, ctx.child(el, 'driver'));
  if (drv) def.driver = drv;
  return def;
}

/** virDomainVsockDefPostParse. */
export function postParseVsock(def: VsockDef): void {
  if (def.cid.auto === undefined) def.cid.auto = !def.cid.address;
}

export function formatVsock(w: XmlWriter, def: VsockDef, _env: DeviceFormatEnv): void {
  w.element('vsock', { model: def.model }, (c) => {
    c.element('cid', { auto: yesNo(def.cid.auto), address: def.cid.address });
    formatDeviceInfo(c, def);
    c.element('driver', virtioOptionAttrs(def.driver));
  });
}
