// <vlan [trunk='yes']><tag id='N' [nativeMode='tagged|untagged']/>…</vlan> of an interface,
// network, portgroup or port (libvirt's netdev_vlan_conf.c). The semantic errors come from
// libvirt's util code (error domain NONE unless the caller picks another); attribute syntax
// errors from its XML helpers (domain XML).
import { ErrorDomain, ErrorNumber, virtError } from '../errors/index.js';
import type { XmlElement } from './xml/xmlTree.js';
import type { XmlWriter } from './xml/xmlWriter.js';
import { plainReader, propEnum, propUInt, type XmlReader } from './xmlProps.js';

export const VLAN_TAG_MAX = 4095;

export type NativeVlanMode = 'tagged' | 'untagged';

export interface NetDevVlanTag {
  id: number;
  /** Set on at most one tag: the native VLAN of a trunk. */
  nativeMode?: NativeVlanMode;
}

export interface NetDevVlan {
  /** True for more than one tag, or when trunk='yes' was given. */
  trunk: boolean;
  tag: NetDevVlanTag[];
}

export interface NetDevVlanParseOptions {
  errorDomain?: number;
  reader?: XmlReader;
}

const NATIVE_MODES = ['default', 'tagged', 'untagged'] as const;

/** virNetDevVlanParse. */
export function parseNetDevVlan(el: XmlElement, opts: NetDevVlanParseOptions = {}): NetDevVlan {
  const r = opts.reader ?? plainReader;
  const dom = opts.errorDomain ?? ErrorDomain.NONE;
  const tagEls = r.children(el, 'tag');
  if (tagEls.length === 0) {
    throw virtError(ErrorNumber.XML_ERROR, dom, "missing tag id - each <vlan> must have at least one <tag id='n'/> subelement", {
      element: 'vlan',
    });
  }
  const tag: NetDevVlanTag[] = [];
  let hasNative = false;
  for (const t of tagEls) {
    const id = propUInt(r, t, 'id', { required: true })!;
    if (id > VLAN_TAG_MAX) {
      throw virtError(ErrorNumber.XML_ERROR, dom, `vlan tag id ${id} too large (maximum ${VLAN_TAG_MAX})`, {
        element: 'vlan/tag',
        attribute: 'id',
        value: String(id),
      });
    }
    const mode = propEnum(r, t, 'nativeMode', NATIVE_MODES, { nonzero: true }) as NativeVlanMode | undefined;
    if (mode) {
      if (hasNative) throw virtError(ErrorNumber.XML_ERROR, dom, 'duplicate native vlan setting', { element: 'vlan/tag', attribute: 'nativeMode' });
      hasNative = true;
      tag.push({ id, nativeMode: mode });
    } else {
      tag.push({ id });
    }
  }

  let trunk = tag.length > 1;
  const trunkAttr = r.attr(el, 'trunk');
  if (trunkAttr !== undefined) {
    trunk = trunkAttr.toLowerCase() === 'yes';
    if (!trunk) {
      const fault = { element: 'vlan', attribute: 'trunk', value: trunkAttr };
      if (tag.length > 1) {
        throw virtError(
          ErrorNumber.XML_ERROR,
          dom,
          `invalid "trunk='${trunkAttr}'" in <vlan> - trunk='yes' is required for more than one vlan tag`,
          fault,
        );
      }
      if (hasNative) {
        throw virtError(ErrorNumber.XML_ERROR, dom, `invalid configuration in <vlan> - "trunk='no'" is not allowed with a native vlan id`, fault);
      }
      // trunk='no' with a single tag is accepted and forgotten.
      if (trunkAttr.toLowerCase() !== 'no') {
        throw virtError(ErrorNumber.XML_ERROR, dom, `invalid "trunk='${trunkAttr}'" in <vlan> - must be yes or no`, fault);
      }
    }
  }
  return { trunk, tag };
}

/**
 * The checks of the parser for a definition built in code. Throws libvirt's parse error.
 */
export function validateNetDevVlan(vlan: NetDevVlan | undefined, opts: { errorDomain?: number } = {}): void {
  if (!vlan) return;
  const dom = opts.errorDomain ?? ErrorDomain.NONE;
  if (vlan.tag.length === 0) {
    throw virtError(ErrorNumber.XML_ERROR, dom, "missing tag id - each <vlan> must have at least one <tag id='n'/> subelement", { element: 'vlan' });
  }
  let natives = 0;
  for (const t of vlan.tag) {
    if (!Number.isInteger(t.id) || t.id < 0) {
      throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.XML, `Invalid value for attribute 'id' in element 'tag': '${t.id}'. Expected non-negative integer value`, {
        element: 'vlan/tag',
        attribute: 'id',
        value: String(t.id),
      });
    }
    if (t.id > VLAN_TAG_MAX) {
      throw virtError(ErrorNumber.XML_ERROR, dom, `vlan tag id ${t.id} too large (maximum ${VLAN_TAG_MAX})`, { element: 'vlan/tag', attribute: 'id', value: String(t.id) });
    }
    if (t.nativeMode !== undefined) {
      if (t.nativeMode !== 'tagged' && t.nativeMode !== 'untagged') {
        throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.XML, `Invalid value for attribute 'nativeMode' in element 'tag': '${String(t.nativeMode)}'.`, {
          element: 'vlan/tag',
          attribute: 'nativeMode',
          value: String(t.nativeMode),
        });
      }
      if (++natives > 1) throw virtError(ErrorNumber.XML_ERROR, dom, 'duplicate native vlan setting', { element: 'vlan/tag', attribute: 'nativeMode' });
    }
  }
  if (!vlan.trunk && vlan.tag.length > 1) {
    throw virtError(ErrorNumber.XML_ERROR, dom, `invalid "trunk='no'" in <vlan> - trunk='yes' is required for more than one vlan tag`, {
      element: 'vlan',
      attribute: 'trunk',
      value: 'no',
    });
  }
  if (!vlan.trunk && natives > 0) {
    throw virtError(ErrorNumber.XML_ERROR, dom, `invalid configuration in <vlan> - "trunk='no'" is not allowed with a native vlan id`, {
      element: 'vlan',
      attribute: 'trunk',
      value: 'no',
    });
  }
}

/**
 * virNetDevVlanFormat. libvirt keeps one native (tag, mode) pair and marks every tag with that
 * id, so `<tag id='5'/><tag id='5' nativeMode='tagged'/>` comes back with both marked; the same
 * is done here.
 */
export function formatNetDevVlan(w: XmlWriter, vlan: NetDevVlan | undefined): void {
  if (!vlan || vlan.tag.length === 0) return;
  const native = vlan.tag.find((t) => t.nativeMode !== undefined);
  w.open('vlan', { trunk: vlan.trunk ? 'yes' : undefined });
  for (const t of vlan.tag) {
    w.empty('tag', { id: t.id, nativeMode: native && native.id === t.id ? native.nativeMode : undefined });
  }
  w.close('vlan');
}

/** virNetDevVlanEqual: same trunk flag, native setting and tags in the same order. */
export function netDevVlanEqual(a: NetDevVlan | undefined, b: NetDevVlan | undefined): boolean {
  const ea = !a || a.tag.length === 0;
  const eb = !b || b.tag.length === 0;
  if (ea || eb) return ea && eb;
  if (a!.trunk !== b!.trunk || a!.tag.length !== b!.tag.length) return false;
  const na = a!.tag.find((t) => t.nativeMode);
  const nb = b!.tag.find((t) => t.nativeMode);
  if (na?.nativeMode !== nb?.nativeMode || na?.id !== nb?.id) return false;
  return a!.tag.every((t, i) => t.id === b!.tag[i]!.id);
}
