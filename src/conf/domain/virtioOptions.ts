// The virtio options several devices accept on their <driver> element (virDomainVirtioOptions).
import type { XmlElement } from '../xml/xmlTree.js';
import { ParseContext, onOff } from './parseContext.js';

export interface VirtioOptions {
  iommu?: boolean;
  ats?: boolean;
  packed?: boolean;
  pagePerVq?: boolean;
}

export function parseVirtioOptions(ctx: ParseContext, driver: XmlElement | undefined): VirtioOptions | undefined {
  if (!driver) return undefined;
  const o: VirtioOptions = {};
  const iommu = ctx.switchProp(driver, 'iommu');
  const ats = ctx.switchProp(driver, 'ats');
  const packed = ctx.switchProp(driver, 'packed');
  const ppv = ctx.switchProp(driver, 'page_per_vq');
  if (iommu !== undefined) o.iommu = iommu;
  if (ats !== undefined) o.ats = ats;
  if (packed !== undefined) o.packed = packed;
  if (ppv !== undefined) o.pagePerVq = ppv;
  return o;
}

/** The attributes, in libvirt's order, to merge into a <driver> element. */
export function virtioOptionAttrs(o: VirtioOptions | undefined): Record<string, string | undefined> {
  if (!o) return {};
  return { iommu: onOff(o.iommu), ats: onOff(o.ats), packed: onOff(o.packed), page_per_vq: onOff(o.pagePerVq) };
}

export function hasVirtioOptions(o: VirtioOptions | undefined): boolean {
  return !!o && (o.iommu !== undefined || o.ats !== undefined || o.packed !== undefined || o.pagePerVq !== undefined);
}
