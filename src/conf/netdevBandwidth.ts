// <bandwidth> of an interface, a network, a portgroup or a network port: inbound/outbound rates
// in kilobytes per second (burst in KiB), as libvirt's netdev_bandwidth_conf.c reads and writes
// them. libvirt reports these errors from its util code, error domain NONE; callers may pick
// another domain.
import { ErrorDomain, ErrorNumber, virtError, type VirtError } from '../errors/index.js';
import type { XmlElement } from './xml/xmlTree.js';
import type { XmlWriter } from './xml/xmlWriter.js';
import { plainReader, strToUInt, strToULongLongP, type XmlReader } from './xmlProps.js';

/** One direction. An attribute that was not given is undefined (libvirt: 0 = not set). */
export interface NetDevBandwidthRate {
  /** kB/s */
  average?: bigint;
  /** kB/s */
  peak?: bigint;
  /** kB/s guaranteed minimum; inbound only, and only where the caller supports it. */
  floor?: bigint;
  /** KiB */
  burst?: bigint;
}

export interface NetDevBandwidth {
  inbound?: NetDevBandwidthRate;
  outbound?: NetDevBandwidthRate;
}

export interface NetDevBandwidthParseOptions {
  /** `floor` is supported here (interface type='network', network port). Default false. */
  allowFloor?: boolean;
  /** `classID` may be read (status and port XML). Default false. */
  allowClassID?: boolean;
  /** Error domain of the semantic errors; libvirt uses NONE. */
  errorDomain?: number;
  reader?: XmlReader;
}

export interface NetDevBandwidthParsed {
  /** undefined when the element had neither <inbound> nor <outbound>. */
  bandwidth?: NetDevBandwidth;
  /** The tc class of a port plugged into a network with QoS (status/port XML only). */
  classID?: number;
}

const RATE_ATTRS = ['average', 'peak', 'burst', 'floor'] as const;

/** virNetDevBandwidthParse. Unknown children of <bandwidth> are ignored, as libvirt does. */
export function parseNetDevBandwidth(el: XmlElement, opts: NetDevBandwidthParseOptions = {}): NetDevBandwidthParsed {
  const r = opts.reader ?? plainReader;
  const dom = opts.errorDomain ?? ErrorDomain.NONE;
  const out: NetDevBandwidthParsed = {};

  const classID = r.attr(el, 'classID');
  if (classID !== undefined) {
    if (!opts.allowClassID) {
      throw virtError(ErrorNumber.XML_DETAIL, dom, 'classID attribute not supported on <bandwidth> in this usage context', {
        element: 'bandwidth',
        attribute: 'classID',
        value: classID,
      });
    }
    const id = strToUInt(classID, 10);
    if (id === undefined) {
      throw virtError(ErrorNumber.INTERNAL_ERROR, dom, `Unable to parse class id '${classID}'`, {
        element: 'bandwidth',
        attribute: 'classID',
        value: classID,
      });
    }
    out.classID = id;
  }

  let inEl: XmlElement | undefined;
  let outEl: XmlElement | undefined;
  for (const c of r.children(el)) {
    if (c.name === 'inbound') {
      if (inEl) throw virtError(ErrorNumber.XML_DETAIL, dom, 'Only one child <inbound> element allowed', { element: 'bandwidth/inbound' });
      inEl = c;
    } else if (c.name === 'outbound') {
      if (outEl) throw virtError(ErrorNumber.XML_DETAIL, dom, 'Only one child <outbound> element allowed', { element: 'bandwidth/outbound' });
      outEl = c;
    }
  }

  const bw: NetDevBandwidth = {};
  if (inEl) {
    bw.inbound = parseRate(r, inEl, dom);
    if (bw.inbound.floor && !opts.allowFloor) throw floorNotSupported(dom);
  }
  if (outEl) {
    bw.outbound = parseRate(r, outEl, dom);
    if (bw.outbound.floor) throw floorOnlyInbound(dom);
  }
  if (bw.inbound || bw.outbound) out.bandwidth = bw;
  return out;
}

function parseRate(r: XmlReader, el: XmlElement, dom: number): NetDevBandwidthRate {
  const raw: Partial<Record<(typeof RATE_ATTRS)[number], string>> = {};
  for (const a of RATE_ATTRS) {
    const v = r.attr(el, a);
    if (v !== undefined) raw[a] = v;
  }
  const rate: NetDevBandwidthRate = {};
  const convert = (a: (typeof RATE_ATTRS)[number]): void => {
    const s = raw[a];
    if (s === undefined) return;
    const v = strToULongLongP(s, 10);
    if (v === undefined) {
      throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, dom, `could not convert bandwidth ${a} value '${s}'`, {
        element: `bandwidth/${el.name}`,
        attribute: a,
        value: s,
      });
    }
    rate[a] = v;
  };
  // The order of the checks is libvirt's, so the first error reported is the same.
  if (raw.average !== undefined) convert('average');
  else if (raw.floor === undefined) throw missingAverage(dom, el.name);
  if ((raw.peak !== undefined || raw.burst !== undefined) && raw.average === undefined) throw peakNeedsAverage(dom, el.name);
  convert('peak');
  convert('burst');
  convert('floor');
  return rate;
}

function missingAverage(dom: number, dir: string): VirtError {
  return virtError(ErrorNumber.XML_DETAIL, dom, 'Missing mandatory average or floor attributes', { element: `bandwidth/${dir}` });
}
function peakNeedsAverage(dom: number, dir: string): VirtError {
  return virtError(ErrorNumber.CONFIG_UNSUPPORTED, dom, "'peak' and 'burst' require 'average' attribute", { element: `bandwidth/${dir}` });
}
function floorNotSupported(dom: number): VirtError {
  return virtError(ErrorNumber.CONFIG_UNSUPPORTED, dom, 'floor attribute is not supported for this config', {
    element: 'bandwidth/inbound',
    attribute: 'floor',
  });
}
function floorOnlyInbound(dom: number): VirtError {
  return virtError(ErrorNumber.CONFIG_UNSUPPORTED, dom, "'floor' attribute allowed only in <inbound> element", {
    element: 'bandwidth/outbound',
    attribute: 'floor',
  });
}

const U64_MAX = 0xffffffffffffffffn;

/**
 * The parse rules applied to a definition built in code (not from XML): each direction needs
 * average or floor, peak/burst need average, values are unsigned 64-bit, floor only inbound and
 * only where allowed. Throws the error libvirt's parser would have raised.
 */
export function validateNetDevBandwidth(bw: NetDevBandwidth | undefined, opts: { allowFloor?: boolean; errorDomain?: number } = {}): void {
  if (!bw) return;
  const dom = opts.errorDomain ?? ErrorDomain.NONE;
  for (const dir of ['inbound', 'outbound'] as const) {
    const rate = bw[dir];
    if (!rate) continue;
    for (const a of RATE_ATTRS) {
      const v = rate[a];
      if (v !== undefined && (typeof v !== 'bigint' || v < 0n || v > U64_MAX)) {
        throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, dom, `could not convert bandwidth ${a} value '${String(v)}'`, {
          element: `bandwidth/${dir}`,
          attribute: a,
          value: String(v),
        });
      }
    }
    if (rate.average === undefined && rate.floor === undefined) throw missingAverage(dom, dir);
    if ((rate.peak !== undefined || rate.burst !== undefined) && rate.average === undefined) throw peakNeedsAverage(dom, dir);
    if (dir === 'inbound' && rate.floor && !opts.allowFloor) throw floorNotSupported(dom);
    if (dir === 'outbound' && rate.floor) throw floorOnlyInbound(dom);
  }
}

function writeRate(w: XmlWriter, name: string, rate: NetDevBandwidthRate | undefined): void {
  if (!rate || !(rate.average || rate.floor)) return;
  // Zero means "not set" to libvirt: it is never printed.
  w.empty(name, {
    average: rate.average || undefined,
    peak: rate.peak || undefined,
    floor: rate.floor || undefined,
    burst: rate.burst || undefined,
  });
}

/**
 * virNetDevBandwidthFormat: `<bandwidth [classID]>` with the directions that have an average or
 * a floor; attribute order average, peak, floor, burst. A bandwidth whose directions are all
 * zero still prints an empty `<bandwidth>`…`</bandwidth>` pair, as libvirt does.
 */
export function formatNetDevBandwidth(w: XmlWriter, bw: NetDevBandwidth | undefined, classID?: number): void {
  if (!bw) return;
  w.open('bandwidth', { classID: classID || undefined });
  writeRate(w, 'inbound', bw.inbound);
  writeRate(w, 'outbound', bw.outbound);
  w.close('bandwidth');
}

/** A floor is set on the inbound direction. */
export function netDevBandwidthHasFloor(bw: NetDevBandwidth | undefined): boolean {
  return !!bw?.inbound?.floor;
}

/** Network forward modes whose ports may have a floor (virNetDevBandwidthSupportsFloor). */
export function netDevBandwidthSupportsFloor(forwardMode: string | undefined): boolean {
  return forwardMode === undefined || forwardMode === 'none' || forwardMode === 'nat' || forwardMode === 'route' || forwardMode === 'open';
}

function rateEqual(a: NetDevBandwidthRate | undefined, b: NetDevBandwidthRate | undefined): boolean {
  if (!a || !b) return !a && !b;
  return (
    (a.average ?? 0n) === (b.average ?? 0n) &&
    (a.peak ?? 0n) === (b.peak ?? 0n) &&
    (a.burst ?? 0n) === (b.burst ?? 0n) &&
    (a.floor ?? 0n) === (b.floor ?? 0n)
  );
}

/** virNetDevBandwidthEqual: same rates in both directions (absent and 0 are the same value). */
export function netDevBandwidthEqual(a: NetDevBandwidth | undefined, b: NetDevBandwidth | undefined): boolean {
  if (!a || !b) return !a && !b;
  return rateEqual(a.inbound, b.inbound) && rateEqual(a.outbound, b.outbound);
}
