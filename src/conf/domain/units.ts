// Scaled sizes: <memory unit='GiB'>4</memory> and friends. libvirt accepts b/byte/bytes, a
// single letter k m g t p e (powers of 1024), the same with "iB" (1024) or "B" (1000), case
// insensitive, and stores memory in KiB rounded up.
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { strToULongLongP } from '../xmlProps.js';
import type { XmlElement } from '../xml/xmlTree.js';
import type { ParseContext } from './parseContext.js';

const LLONG_MAX = (1n << 63n) - 1n;

/**
 * virScaleInteger: multiplies `value` by the unit's factor (`defaultScale` when the unit is
 * empty). Unknown units are INVALID_ARG and overflow is OVERFLOW, both from libvirt's util code
 * (error domain NONE).
 */
export function scaleInteger(value: bigint, unit: string | undefined, defaultScale: bigint, limit: bigint): bigint {
  let scale: bigint;
  let suffix = unit ?? '';
  if (!suffix) {
    scale = defaultScale;
    suffix = '';
  } else {
    const low = suffix.toLowerCase();
    if (low === 'b' || low === 'byte' || low === 'bytes') {
      scale = 1n;
    } else {
      let base: bigint;
      if (suffix.length === 1 || low.slice(1) === 'ib') base = 1024n;
      else if (low[1] === 'b' && suffix.length === 2) base = 1000n;
      else throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, `unknown suffix '${suffix}'`, { attribute: 'unit', value: suffix });
      const power = 'kmgtpe'.indexOf(low[0]!);
      if (power < 0) throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, `unknown suffix '${suffix}'`, { attribute: 'unit', value: suffix });
      scale = base ** BigInt(power + 1);
    }
  }
  if (value !== 0n && value > limit / scale) {
    throw virtError(ErrorNumber.OVERFLOW, ErrorDomain.NONE, `value too large: ${value}${suffix}`, { value: `${value}${suffix}` });
  }
  return value * scale;
}

/**
 * virParseScaledValue over an element's text and its unit attribute. `path` is the XPath libvirt
 * names in its messages ('./memory[1]'). Returns undefined when the element is absent or empty
 * and not required.
 */
export function parseScaledElement(
  ctx: ParseContext,
  el: XmlElement | undefined,
  path: string,
  opts: { scale: bigint; max: bigint; required?: boolean },
): bigint | undefined {
  const text = el ? ctx.text(el) : '';
  if (!text) {
    if (!opts.required) {
      if (el) ctx.attr(el, 'unit');
      return undefined;
    }
    throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.XML, `missing element or attribute '${path}'`, { element: path });
  }
  const v = strToULongLongP(text, 10);
  if (v === undefined) {
    throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.XML, `Invalid value '${text}' for element or attribute '${path}'`, {
      element: el!.name,
      value: text,
    });
  }
  return scaleInteger(v, ctx.attr(el!, 'unit'), opts.scale, opts.max);
}

/**
 * virDomainParseMemory: a memory size in KiB (bytes rounded up), at most 2^63 bytes. Returns
 * undefined when absent.
 */
export function parseMemoryKiB(ctx: ParseContext, el: XmlElement | undefined, path: string, required = false): number | undefined {
  const bytes = parseScaledElement(ctx, el, path, { scale: 1024n, max: LLONG_MAX, required });
  if (bytes === undefined) return undefined;
  const kib = (bytes + 1023n) / 1024n;
  if (kib >= (LLONG_MAX + 1023n) / 1024n) {
    throw virtError(ErrorNumber.OVERFLOW, ErrorDomain.DOMAIN, 'size value too large', { element: el?.name });
  }
  return Number(kib);
}
