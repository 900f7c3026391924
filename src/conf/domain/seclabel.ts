// <seclabel>: the security driver labels of the domain (selinux, apparmor, dac, none).
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { ParseContext, unsupported, xmlError } from './parseContext.js';

const SECLABEL_TYPES = ['default', 'none', 'dynamic', 'static'] as const;

export interface SeclabelDef {
  type: 'none' | 'dynamic' | 'static';
  model?: string;
  relabel: boolean;
  label?: string;
  imagelabel?: string;
  baselabel?: string;
}

function parseOne(ctx: ParseContext, el: XmlElement): SeclabelDef {
  let model = ctx.attr(el, 'model');
  if (model !== undefined && model.length > 255) model = undefined;
  const type = (ctx.enumProp(el, 'type', SECLABEL_TYPES, { nonzero: true }) ?? 'dynamic') as SeclabelDef['type'];
  const relabelAttr = ctx.boolProp(el, 'relabel');
  const sec: SeclabelDef = { type, relabel: relabelAttr ?? (type === 'dynamic') };
  if (relabelAttr === undefined && (type === 'static' || type === 'none')) sec.relabel = false;
  if (model !== undefined) sec.model = model;
  if (type === 'dynamic' && !sec.relabel) throw unsupported('dynamic label type must use resource relabeling');
  if (type === 'none' && sec.relabel) throw unsupported("resource relabeling is not compatible with 'none' label type");
  for (const n of ['label', 'imagelabel', 'baselabel']) ctx.child(el, n);
  if (model === 'none') {
    if (!ctx.live) {
      sec.type = 'none';
      sec.relabel = false;
    } else if (type !== 'none') throw unsupported(`unsupported type='${type}' to model 'none'`);
    return sec;
  }
  if (type === 'static' || (ctx.live && type !== 'none')) {
    const label = ctx.childText(el, 'label');
    if (!label || label.length > 4095) throw xmlError('security label is missing');
    sec.label = label;
  }
  if (sec.relabel && ctx.live && type !== 'none') {
    const il = ctx.childText(el, 'imagelabel');
    if (!il || il.length > 4095) throw xmlError('security imagelabel is missing');
    sec.imagelabel = il;
  }
  if (type === 'dynamic') {
    const bl = ctx.childText(el, 'baselabel');
    if (bl && bl.length <= 4095) sec.baselabel = bl;
  }
  return sec;
}

/** virSecurityLabelDefsParseXML; `defModel` is the host's first security model (capabilities). */
export function parseSeclabels(ctx: ParseContext, root: XmlElement, defModel: string | undefined): SeclabelDef[] {
  const out: SeclabelDef[] = [];
  for (const el of ctx.children(root, 'seclabel')) {
    const s = parseOne(ctx, el);
    if (out.some((o) => o.model === s.model)) {
      throw virtError(ErrorNumber.XML_DETAIL, ErrorDomain.DOMAIN, `seclabel for model ${s.model} is already provided`);
    }
    out.push(s);
  }
  if (out.length === 1 && !out[0]!.model && defModel !== undefined) {
    const s = out[0]!;
    if (s.type === 'none' || (s.type === 'dynamic' && !s.baselabel && !ctx.live)) {
      s.model = defModel;
      if (defModel === 'none' && !ctx.live) {
        s.type = 'none';
        s.relabel = false;
      }
    } else throw xmlError('missing security model in domain seclabel');
  }
  if (out.length > 1 && out.some((s) => !s.model)) throw xmlError('missing security model when using multiple labels');
  return out;
}

export function formatSeclabels(w: XmlWriter, labels: SeclabelDef[] | undefined): void {
  for (const s of labels ?? []) {
    if (s.type === 'none') {
      w.empty('seclabel', { type: 'none', model: s.model });
      continue;
    }
    const attrs = { type: s.type, model: s.model, relabel: s.relabel ? 'yes' : 'no' };
    if (s.label || s.imagelabel || s.baselabel) {
      w.open('seclabel', attrs);
      w.text('label', s.label);
      if (s.relabel) w.text('imagelabel', s.imagelabel);
      if (s.type === 'dynamic') w.text('baselabel', s.baselabel);
      w.close('seclabel');
    } else w.empty('seclabel', attrs);
  }
}
