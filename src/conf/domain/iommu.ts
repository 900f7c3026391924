// <iommu model>: an emulated IOMMU (intel, smmuv3, virtio) and its driver options.
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import type { DeviceFormatEnv, DeviceParseEnv } from './deviceEnv.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './deviceInfo.js';
import { onOff, unsupported, xmlError } from './parseContext.js';

export const IOMMU_MODELS = ['intel', 'smmuv3', 'virtio'] as const;

export interface IommuDef extends DeviceInfo {
  model: (typeof IOMMU_MODELS)[number];
  driver?: { intremap?: boolean; cachingMode?: boolean; eim?: boolean; iotlb?: boolean; awBits?: number };
}

export function parseIommu(env: DeviceParseEnv, el: XmlElement): IommuDef {
  const { ctx } = env;
  const def: IommuDef = { model: ctx.enumProp(el, 'model', IOMMU_MODELS, { required: true })! };
  const d = ctx.child(el, 'driver');
  if (d) {
    const drv: NonNullable<IommuDef['driver']> = {};
    const ir = ctx.switchProp(d, 'intremap');
    const cm = ctx.switchProp(d, 'caching_mode');
    const io = ctx.switchProp(d, 'iotlb');
    const eim = ctx.switchProp(d, 'eim');
    const aw = ctx.uintProp(d, 'aw_bits');
    if (ir !== undefined) drv.intremap = ir;
    if (cm !== undefined) drv.cachingMode = cm;
    if (io !== undefined) drv.iotlb = io;
    if (eim !== undefined) drv.eim = eim;
    if (aw) drv.awBits = aw;
    def.driver = drv;
  }
  parseDeviceInfo(ctx, el, def, { userAlias: env.userAlias });
  return def;
}

export function formatIommu(w: XmlWriter, def: IommuDef, _env: DeviceFormatEnv): void {
  const d = def.driver ?? {};
  w.element('iommu', { model: def.model }, (c) => {
    c.element('driver', { intremap: onOff(d.intremap), caching_mode: onOff(d.cachingMode), eim: onOff(d.eim), iotlb: onOff(d.iotlb), aw_bits: d.awBits });
    formatDeviceInfo(c, def);
  });
}

/** virDomainIOMMUDefValidate and the domain-level IOMMU checks. */
export function validateIommu(def: IommuDef, dom: { features: { ioapic?: { driver: string } } }): void {
  const d = def.driver ?? {};
  if (def.model !== 'intel' && (d.intremap !== undefined || d.cachingMode !== undefined || d.eim !== undefined || d.iotlb !== undefined || d.awBits)) {
    throw xmlError(`iommu model '${def.model}' doesn't support additional attributes`);
  }
  if (def.model !== 'virtio' && def.address) throw xmlError(`iommu model '${def.model}' can't have address`);
  if (d.intremap === true && dom.features.ioapic?.driver !== 'qemu') {
    throw unsupported("IOMMU interrupt remapping requires split I/O APIC (ioapic driver='qemu')");
  }
  if (d.eim === true && d.intremap !== true) throw unsupported('IOMMU eim requires interrupt remapping to be enabled');
}
