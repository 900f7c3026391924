// The reading vocabulary of every domain XML parser: attribute and child access that, when the
// caller asked for validation (VIR_DOMAIN_DEFINE_VALIDATE), remembers what was read so that
// anything left unread is reported as unknown; and typed attribute readers with the error codes
// and messages of libvirt's virXMLProp* helpers.
import { ErrorDomain, ErrorNumber, VirtError, virtError, type ErrorFault } from '../../errors/index.js';
import {
  onOff,
  propEnum,
  propInt,
  propOnOff,
  propRequired,
  propUInt,
  propULongLong,
  propYesNo,
  strToUInt,
  yesNo,
  type CBase,
  type PropOptions,
} from '../xmlProps.js';
import { child, children, isElement, textOf, type XmlElement } from '../xml/xmlTree.js';

export type NumberBase = CBase;

/** Where libvirt's RNG schema lives; named in validation errors exactly as libvirt does. */
const DOMAIN_RNG = '/usr/share/libvirt/schemas/domain.rng';

export class ParseContext {
  readonly validate: boolean;
  /** Parsing live/status XML: keep aliases, generated names and runtime data. */
  readonly live: boolean;
  private readonly usedEls: Set<XmlElement> | undefined;
  private readonly usedAttrs: Map<XmlElement, Set<string>> | undefined;

  constructor(opts: { validate?: boolean; live?: boolean } = {}) {
    this.validate = opts.validate === true;
    this.live = opts.live === true;
    if (this.validate) {
      this.usedEls = new Set();
      this.usedAttrs = new Map();
    }
  }

  // ---- access that records what was read ----

  /** Marks an element as known (its attributes and children are checked separately). */
  use(el: XmlElement): XmlElement {
    this.usedEls?.add(el);
    return el;
  }

  /** Marks an element and everything inside it as known (foreign or verbatim content). */
  useSubtree(el: XmlElement): void {
    if (!this.usedEls) return;
    this.usedEls.add(el);
    this.usedAttrs!.set(el, new Set(Object.keys(el.attrs)));
    for (const c of children(el)) this.useSubtree(c);
  }

  attr(el: XmlElement, name: string): string | undefined {
    if (this.usedAttrs) {
      let s = this.usedAttrs.get(el);
      if (!s) this.usedAttrs.set(el, (s = new Set()));
      s.add(name);
    }
    return el.attrs[name];
  }

  /** First child element with this name. */
  child(el: XmlElement, name: string): XmlElement | undefined {
    const c = child(el, name);
    if (c) this.usedEls?.add(c);
    return c;
  }

  /** All child elements with this name, or all child elements. */
  children(el: XmlElement, name?: string): XmlElement[] {
    const out = children(el, name);
    if (this.usedEls) for (const c of out) this.usedEls.add(c);
    return out;
  }

  /** Text content, as XPath string() of the element. */
  text(el: XmlElement): string {
    this.usedEls?.add(el);
    return textOf(el);
  }

  /** Text of the first child with this name, undefined when there is none. */
  childText(el: XmlElement, name: string): string | undefined {
    const c = this.child(el, name);
    return c ? textOf(c) : undefined;
  }

  // ---- typed attributes (virXMLProp*, xmlProps.ts) ----

  /** A string attribute that must be present. */
  requiredAttr(el: XmlElement, name: string): string {
    return propRequired(this, el, name);
  }

  /** virXMLPropEnum: one of `values`; with nonzero the first value (libvirt's "default") is refused. */
  enumProp<T extends string>(el: XmlElement, name: string, values: readonly T[], opts: PropOptions = {}): T | undefined {
    return propEnum(this, el, name, values, opts);
  }

  /** virXMLPropTristateBool: 'yes' | 'no'. */
  boolProp(el: XmlElement, name: string, opts: PropOptions = {}): boolean | undefined {
    return propYesNo(this, el, name, opts);
  }

  /** virXMLPropTristateSwitch: 'on' | 'off'. */
  switchProp(el: XmlElement, name: string, opts: PropOptions = {}): boolean | undefined {
    return propOnOff(this, el, name, opts);
  }

  /** virXMLPropUInt: unsigned int; a minus sign is refused. */
  uintProp(el: XmlElement, name: string, base: NumberBase = 10, opts: PropOptions = {}): number | undefined {
    return propUInt(this, el, name, { ...opts, base });
  }

  /** virXMLPropInt. */
  intProp(el: XmlElement, name: string, base: NumberBase = 10, opts: PropOptions & { nonnegative?: boolean } = {}): number | undefined {
    return propInt(this, el, name, { ...opts, base });
  }

  /** virXMLPropULongLong (returned as bigint). */
  ullProp(el: XmlElement, name: string, base: NumberBase = 10, opts: PropOptions = {}): bigint | undefined {
    return propULongLong(this, el, name, { ...opts, base });
  }

  // ---- validation of what was not read ----

  /**
   * With validation on, refuses the first element or attribute that no parser read, in document
   * order, with libvirt's schema-validation error (XML_INVALID_SCHEMA, domain XML).
   */
  checkUnknown(root: XmlElement, rng = DOMAIN_RNG): void {
    if (!this.usedEls) return;
    this.usedEls.add(root);
    const bad = this.findUnknown(root);
    if (bad) {
      throw virtError(ErrorNumber.XML_INVALID_SCHEMA, ErrorDomain.XML, `Unable to validate doc against ${rng}\n${bad.message}\n`, bad.fault);
    }
  }

  private findUnknown(el: XmlElement): { message: string; fault: ErrorFault } | undefined {
    const used = this.usedAttrs!.get(el);
    for (const a in el.attrs) {
      if (a === 'xmlns' || a.startsWith('xmlns:')) continue;
      if (!used?.has(a)) {
        return {
          message: `Invalid attribute ${a} for element ${el.name}`,
          fault: { element: el.name, attribute: a, value: el.attrs[a], line: el.line, column: el.column },
        };
      }
    }
    for (const c of el.children) {
      if (!isElement(c)) continue;
      if (!this.usedEls!.has(c)) {
        return {
          message: `Element ${el.name} has extra content: ${c.name}`,
          fault: { element: c.name, line: c.line, column: c.column },
        };
      }
      const inner = this.findUnknown(c);
      if (inner) return inner;
    }
    return undefined;
  }
}

export { onOff, yesNo, type PropOptions };

/** An error raised by the domain XML parser (domain_conf.c reports with VIR_FROM_DOMAIN). */
export function domainError(code: number, detail: string, fault?: ErrorFault): VirtError {
  return virtError(code, ErrorDomain.DOMAIN, detail, fault);
}

/** XML_ERROR from the domain parser: "XML error: <detail>". */
export function xmlError(detail: string, fault?: ErrorFault): VirtError {
  return virtError(ErrorNumber.XML_ERROR, ErrorDomain.DOMAIN, detail, fault);
}

/** CONFIG_UNSUPPORTED from the domain parser: "unsupported configuration: <detail>". */
export function unsupported(detail: string, fault?: ErrorFault): VirtError {
  return virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.DOMAIN, detail, fault);
}

/** INTERNAL_ERROR from the domain parser. */
export function internalError(detail: string, fault?: ErrorFault): VirtError {
  return virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.DOMAIN, detail, fault);
}

export { strToUInt };
