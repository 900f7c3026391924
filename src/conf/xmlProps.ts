// What the netdev and network parsers share: a reader interface (so a caller's validating
// context can see which elements and attributes were read), C-style number parsing with the
// semantics of libvirt's virStrToLong_* helpers, and the virXMLProp* attribute readers with
// their exact error texts (error domain XML, as libvirt's virxml.c reports them).
import { ErrorDomain, ErrorNumber, virtError, type VirtError } from '../errors/index.js';
import { normalizeUuid } from './uuid.js';
import { child, children, textOf, type XmlElement } from './xml/xmlTree.js';

/**
 * How a parser reads the tree. A caller that validates (VIR_*_DEFINE_VALIDATE) passes a reader
 * that records every element and attribute read, so anything left unread can be refused.
 * conf/domain's ParseContext has this shape.
 */
export interface XmlReader {
  attr(el: XmlElement, name: string): string | undefined;
  child(el: XmlElement, name: string): XmlElement | undefined;
  children(el: XmlElement, name?: string): XmlElement[];
}

/** A reader that only reads. */
export const plainReader: XmlReader = { attr: (el, name) => el.attrs[name], child, children };

export { textOf };

// ---- numbers (strtol family, as libvirt's virStrToLong_* call them) ----

export type CBase = 0 | 8 | 10 | 16;

/**
 * strtoull/strtoll over the whole string: leading whitespace, an optional sign, "0x" for base 0
 * and 16, a leading "0" meaning octal for base 0. Returns the signed value, or undefined when the
 * text is not entirely a number.
 */
export function parseCLong(s: string, base: CBase): bigint | undefined {
  let i = 0;
  while (i < s.length && (s[i] === ' ' || (s[i]! >= '\t' && s[i]! <= '\r'))) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') {
    neg = s[i] === '-';
    i++;
  }
  let b: number = base;
  if ((b === 0 || b === 16) && s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && /^[0-9a-fA-F]$/.test(s[i + 2] ?? '')) {
    i += 2;
    b = 16;
  } else if (b === 0) {
    b = s[i] === '0' ? 8 : 10;
  }
  const re = b === 16 ? /^[0-9a-fA-F]+/ : b === 8 ? /^[0-7]+/ : /^[0-9]+/;
  const m = re.exec(s.slice(i));
  if (!m || i + m[0].length !== s.length) return undefined;
  const v = BigInt((b === 16 ? '0x' : b === 8 ? '0o' : '') + m[0]);
  return neg ? -v : v;
}

const U32 = 0xffffffffn;
const U64 = 0xffffffffffffffffn;

/** virStrToLong_ui: unsigned int; a negative value wraps as C's strtoul does ("-1" is UINT_MAX). */
export function strToUInt(s: string, base: CBase = 10): number | undefined {
  const v = parseCLong(s, base);
  if (v === undefined) return undefined;
  if (v < 0n) return -v > U32 ? undefined : Number((U32 + 1n + v) & U32);
  return v > U32 ? undefined : Number(v);
}

/** virStrToLong_uip: unsigned int, a minus sign refused. */
export function strToUIntP(s: string, base: CBase = 10): number | undefined {
  if (s.includes('-')) return undefined;
  return strToUInt(s, base);
}

/** virStrToLong_i: int. */
export function strToInt(s: string, base: CBase = 10): number | undefined {
  const v = parseCLong(s, base);
  if (v === undefined || v < -0x80000000n || v > 0x7fffffffn) return undefined;
  return Number(v);
}

/** virStrToLong_ll: long long. */
export function strToLongLong(s: string, base: CBase = 10): bigint | undefined {
  const v = parseCLong(s, base);
  return v === undefined || v < -(1n << 63n) || v >= 1n << 63n ? undefined : v;
}

/** virStrToLong_ullp: unsigned long long, a minus sign refused; a bigint for the full range. */
export function strToULongLongP(s: string, base: CBase = 10): bigint | undefined {
  if (s.includes('-')) return undefined;
  const v = parseCLong(s, base);
  return v === undefined || v > U64 ? undefined : v;
}

/** virStrToLong_ull: unsigned long long; negative values wrap. */
export function strToULongLong(s: string, base: CBase = 10): bigint | undefined {
  const v = parseCLong(s, base);
  if (v === undefined) return undefined;
  if (v < 0n) return -v > U64 ? undefined : (U64 + 1n + v) & U64;
  return v > U64 ? undefined : v;
}

// ---- virXMLProp* readers (errors from libvirt's XML helpers: XML_ERROR, domain XML) ----

/** The values of virTristateBool and virTristateSwitch; the first ("default") is not valid XML. */
export const TRISTATE_BOOL = ['default', 'yes', 'no'] as const;
export const TRISTATE_SWITCH = ['default', 'on', 'off'] as const;

export interface PropOptions {
  required?: boolean;
  /** Zero (or the enum's first, "default" value) is refused. */
  nonzero?: boolean;
}

export interface NumberPropOptions extends PropOptions {
  base?: CBase;
}

function missingAttr(el: XmlElement, name: string): VirtError {
  return virtError(ErrorNumber.XML_ERROR, ErrorDomain.XML, `Missing required attribute '${name}' in element '${el.name}'`, {
    element: el.name,
    attribute: name,
  });
}

function invalidAttr(el: XmlElement, name: string, value: string, suffix: string): VirtError {
  return virtError(
    ErrorNumber.XML_ERROR,
    ErrorDomain.XML,
    `Invalid value for attribute '${name}' in element '${el.name}': '${value}'.${suffix}`,
    { element: el.name, attribute: name, value },
  );
}

function zeroAttr(el: XmlElement, name: string, value: string): VirtError {
  return virtError(ErrorNumber.XML_ERROR, ErrorDomain.XML, `Invalid value for attribute '${name}' in element '${el.name}': Zero is not permitted`, {
    element: el.name,
    attribute: name,
    value,
  });
}

/** An attribute that must be present (virXMLPropStringRequired). */
export function propRequired(r: XmlReader, el: XmlElement, name: string): string {
  const v = r.attr(el, name);
  if (v === undefined) throw missingAttr(el, name);
  return v;
}

/**
 * A number attribute: absent → undefined (or the missing-attribute error when required); text
 * `parse` refuses → invalid value with `expected` ("Expected integer value"); zero refused with
 * nonzero.
 */
function propNumber<T extends number | bigint>(
  r: XmlReader,
  el: XmlElement,
  name: string,
  opts: PropOptions,
  parse: (v: string) => T | undefined,
  expected: string,
): T | undefined {
  const v = r.attr(el, name);
  if (v === undefined) {
    if (opts.required) throw missingAttr(el, name);
    return undefined;
  }
  const n = parse(v);
  if (n === undefined) throw invalidAttr(el, name, v, expected);
  if (opts.nonzero && (n === 0 || n === 0n)) throw zeroAttr(el, name, v);
  return n;
}

/** virXMLPropUInt: an unsigned int attribute; a minus sign is refused. */
export function propUInt(r: XmlReader, el: XmlElement, name: string, opts: NumberPropOptions = {}): number | undefined {
  return propNumber(r, el, name, opts, (v) => strToUIntP(v, opts.base ?? 10), ' Expected non-negative integer value');
}

/** virXMLPropInt; with nonnegative a negative value is refused as well. */
export function propInt(r: XmlReader, el: XmlElement, name: string, opts: NumberPropOptions & { nonnegative?: boolean } = {}): number | undefined {
  const n = propNumber(r, el, name, opts, (v) => strToInt(v, opts.base ?? 10), ' Expected integer value');
  if (opts.nonnegative && n !== undefined && n < 0) throw invalidAttr(el, name, r.attr(el, name)!, ' Expected non-negative value');
  return n;
}

/** virXMLPropULongLong (a bigint for the full range); a minus sign is refused. */
export function propULongLong(r: XmlReader, el: XmlElement, name: string, opts: NumberPropOptions = {}): bigint | undefined {
  return propNumber(r, el, name, opts, (v) => strToULongLongP(v, opts.base ?? 10), ' Expected non-negative integer value');
}

/** virXMLPropUUID: a UUID attribute, returned in canonical form. */
export function propUuid(r: XmlReader, el: XmlElement, name: string, opts: { required?: boolean } = {}): string | undefined {
  const v = r.attr(el, name);
  if (v === undefined) {
    if (opts.required) throw missingAttr(el, name);
    return undefined;
  }
  const u = normalizeUuid(v);
  if (!u) throw invalidAttr(el, name, v, ' Expected UUID');
  return u;
}

/**
 * virXMLPropEnum: one of `values`. libvirt's enums start with a "default"/"none" entry that
 * the XML may not name; pass it as `values[0]` with `nonzero` to refuse it the same way.
 */
export function propEnum<T extends string>(r: XmlReader, el: XmlElement, name: string, values: readonly T[], opts: PropOptions = {}): T | undefined {
  const v = r.attr(el, name);
  if (v === undefined) {
    if (opts.required) throw missingAttr(el, name);
    return undefined;
  }
  const i = values.indexOf(v as T);
  if (i < 0 || (opts.nonzero && i === 0)) throw invalidAttr(el, name, v, '');
  return v as T;
}

/** virXMLPropTristateBool: 'yes' | 'no'. */
export function propYesNo(r: XmlReader, el: XmlElement, name: string, opts: { required?: boolean } = {}): boolean | undefined {
  const v = propEnum(r, el, name, TRISTATE_BOOL, { ...opts, nonzero: true });
  return v === undefined ? undefined : v === 'yes';
}

/** virXMLPropTristateSwitch: 'on' | 'off'. */
export function propOnOff(r: XmlReader, el: XmlElement, name: string, opts: { required?: boolean } = {}): boolean | undefined {
  const v = propEnum(r, el, name, TRISTATE_SWITCH, { ...opts, nonzero: true });
  return v === undefined ? undefined : v === 'on';
}

export function yesNo(v: boolean | undefined): 'yes' | 'no' | undefined {
  return v === undefined ? undefined : v ? 'yes' : 'no';
}

export function onOff(v: boolean | undefined): 'on' | 'off' | undefined {
  return v === undefined ? undefined : v ? 'on' : 'off';
}

/**
 * virXMLCheckIllegalChars: XML_DETAIL "invalid char in name: /" for the first of `chars` found
 * in the value of `element`.
 */
export function checkIllegalChars(element: string, value: string, chars: string): void {
  for (const c of chars) {
    if (value.includes(c)) throw virtError(ErrorNumber.XML_DETAIL, ErrorDomain.XML, `invalid char in ${element}: ${c}`, { element, value });
  }
}
