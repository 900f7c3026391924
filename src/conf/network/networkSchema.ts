// VIR_NETWORK_DEFINE_VALIDATE: libvirt checks the document against its network.rng schema
// before parsing. This is that grammar written down as data (elements, their attributes with
// the schema's datatypes, their children with cardinality) and a checker that reports the first
// violation with libxml2's wording. The error is XML_INVALID_SCHEMA from the XML domain; its
// first line after the header names the element at fault the way libxml2 does, the "Extra
// element … in interleave" lines that follow approximate libxml2's trace.
import { ErrorDomain, ErrorNumber, virtError, type ErrorFault } from '../../errors/index.js';
import { child, isElement, type XmlElement } from '../xml/xmlTree.js';
import { DNSMASQ_NAMESPACE } from './networkParse.js';

export const NETWORK_RNG = '/usr/share/libvirt/schemas/network.rng';

type Check = (v: string) => boolean;

const re = (r: RegExp): Check => (v) => r.test(v);
const oneOf = (...vals: string[]): Check => (v) => vals.includes(v);
const uint = (max: bigint, min = 0n): Check => (v) => /^[0-9]+$/.test(v) && BigInt(v) <= max && BigInt(v) >= min;
const any = (...checks: Check[]): Check => (v) => checks.some((c) => c(v));

const OCTET = '((25[0-5])|(2[0-4][0-9])|(1[0-9]{2})|([1-9][0-9])|([0-9]))';
const IPV4 = `(${OCTET}\\.){3}${OCTET}`;
const H = '[0-9A-Fa-f]{1,4}';
const IPV6 = [
  `(${H}:){7}${H}`,
  `(${H}:){6}:${H}`,
  `(${H}:){5}:(${H}:)?${H}`,
  `(${H}:){4}:(${H}:){0,2}${H}`,
  `(${H}:){3}:(${H}:){0,3}${H}`,
  `(${H}:){2}:(${H}:){0,4}${H}`,
  `(${H}:){6}${IPV4}`,
  `(${H}:){0,5}:${IPV4}`,
  `::(${H}:){0,5}${IPV4}`,
  `${H}::(${H}:){0,5}${H}`,
  `::(${H}:){0,6}${H}`,
  `(${H}:){1,7}:`,
  '::',
].join('|');

const T = {
  unsignedInt: uint(0xffffffffn),
  unsignedLong: uint(0xffffffffffffffffn),
  unsignedShort: uint(65535n),
  positiveInteger: uint(0xffffffffffffffffn, 1n),
  speed: uint(0xffffffffn, 1n),
  port: uint(65535n, 1n),
  uuid: re(/^([a-fA-F0-9]{32}|[a-fA-F0-9]{8}-([a-fA-F0-9]{4}-){3}[a-fA-F0-9]{12})$/),
  yesNo: oneOf('yes', 'no'),
  onOff: oneOf('on', 'off'),
  deviceName: re(/^[a-zA-Z0-9_.\-\\:/]+$/),
  zoneName: re(/^[a-zA-Z0-9_-]+$/),
  dnsName: re(/^[a-zA-Z0-9.-]+$/),
  text: (_v: string) => true,
  filePath: re(/^[^\n\r]+$/),
  uniMacAddr: re(/^[a-fA-F0-9][02468aAcCeE](:[a-fA-F0-9]{2}){5}$/),
  ipv4Addr: re(new RegExp(`^(${IPV4})$`)),
  ipAddr: re(new RegExp(`^((${IPV4})|(${IPV6}))$`)),
  ipPrefix: uint(128n),
  family: oneOf('ipv4', 'ipv6'),
  protocol: oneOf('tcp', 'udp'),
  duid: re(
    new RegExp(
      '^(' +
        [
          '[0]{1,2}:[0]{0,1}[1]:[0]{1,2}:[0]{0,1}[a-fA-F1-9](:[a-fA-F0-9]{1,2}){4}(:[a-fA-F0-9]{1,2}){6,8}',
          '[0]{1,2}:[0]{0,1}[2](:[a-fA-F0-9]{1,2}){4}(:[a-fA-F0-9]{1,2}){1,124}',
          '[0]{1,2}:[0]{0,1}[3]:[0]{1,2}:[0]{0,1}[a-fA-F1-9](:[a-fA-F0-9]{1,2}){6,8}',
          '[0]{1,2}:[0]{0,1}[4](:[a-fA-F0-9]{1,2}){16}',
        ].join('|') +
        ')$',
    ),
  ),
  uint8: any(re(/^0x[0-9a-fA-F]{1,2}$/), uint(255n)),
  uint24: any(re(/^0x[0-9a-fA-F]{1,6}$/), uint(16777215n)),
  uint32: any(re(/^(0x)?[0-9a-fA-F]{1,8}$/), uint(4294967295n)),
  pciSlot: any(re(/^(0x)?[0-1]?[0-9a-fA-F]$/), uint(31n)),
  pciFunc: any(re(/^(0x)?[0-7]$/), uint(7n)),
  profileId: re(/^.{0,39}$/s),
};

interface Attr {
  check: Check;
  required?: boolean;
  /** one branch of an attribute <choice>: libxml2 words its failures like a required one's */
  inChoice?: boolean;
}

interface Elem {
  attrs?: Record<string, Attr>;
  /** child name → [min, max] and its grammar */
  children?: Record<string, { min?: number; max?: number; elem: () => Elem }>;
  /** text content and its type; undefined = element-only (or empty) */
  text?: Check;
  /** anything goes inside (metadata) */
  anyContent?: boolean;
  /**
   * cross-attribute rule (an RNG <choice> between attributes): null when satisfied, else the
   * attribute libxml2 names as invalid ('' when it names none)
   */
  attrRule?: (el: XmlElement) => string | null;
  /** a rule on the whole element (an RNG <choice> between content models) */
  contentRule?: (el: XmlElement) => boolean;
  /** libxml2 reports anything wrong inside only as a failure of this element (<forward>) */
  opaque?: boolean;
  /** libxml2 names no attribute when one of this element's is bad (<bridge>) */
  quietAttrs?: boolean;
}

const opt = (check: Check): Attr => ({ check });
const req = (check: Check): Attr => ({ check, required: true });
const one = (elem: () => Elem) => ({ min: 0, max: 1, elem });
const many = (elem: () => Elem, min = 0) => ({ min, max: Infinity, elem });
const notBoth = (a: string, b: string) => (el: XmlElement) => (a in el.attrs && b in el.attrs ? b : null);

const lease = (): Elem => ({ attrs: { expiry: req(T.unsignedLong), unit: opt(oneOf('seconds', 'minutes', 'hours')) } });

// Which <parameters> attributes each virtualport type allows (networkcommon.rng's choice).
const VP_PARAMS: Record<string, { allowed: string[]; required?: string }> = {
  '802.1Qbg': { allowed: ['managerid', 'typeid', 'typeidversion', 'instanceid'] },
  '802.1Qbh': { allowed: ['profileid'] },
  openvswitch: { allowed: ['profileid', 'interfaceid'] },
  midonet: { allowed: ['interfaceid'], required: 'interfaceid' },
};

function virtualportMatchesType(el: XmlElement): boolean {
  const rule = el.attrs.type === undefined ? undefined : VP_PARAMS[el.attrs.type];
  if (!rule) return true;
  const params = child(el, 'parameters');
  if (!params) return rule.required === undefined;
  const names = Object.keys(params.attrs);
  return names.every((a) => rule.allowed.includes(a)) && (rule.required === undefined || names.includes(rule.required));
}

const virtualport = (): Elem => ({
  contentRule: virtualportMatchesType,
  attrs: { type: opt(oneOf('802.1Qbg', '802.1Qbh', 'openvswitch', 'midonet')) },
  children: {
    parameters: one(() => ({
      attrs: {
        managerid: opt(T.uint8),
        typeid: opt(T.uint24),
        typeidversion: opt(T.uint8),
        instanceid: opt(T.uuid),
        profileid: opt(T.profileId),
        interfaceid: opt(T.uuid),
      },
    })),
  },
});

const rate = (): Elem => ({ attrs: { average: opt(T.speed), peak: opt(T.speed), floor: opt(T.speed), burst: opt(T.speed) } });
const bandwidth = (): Elem => ({ attrs: { classID: opt(T.positiveInteger) }, children: { inbound: one(rate), outbound: one(rate) } });
const vlan = (): Elem => ({
  attrs: { trunk: opt(oneOf('yes')) },
  children: { tag: many(() => ({ attrs: { id: req(uint(4095n)), nativeMode: opt(oneOf('tagged', 'untagged')) } }), 1) },
});

const NETWORK: Elem = {
  attrs: { connections: opt(T.unsignedInt), ipv6: opt(T.yesNo), trustGuestRxFilters: opt(T.yesNo) },
  children: {
    name: { min: 1, max: 1, elem: () => ({ text: T.text }) },
    metadata: one(() => ({ anyContent: true })),
    uuid: one(() => ({ text: T.uuid })),
    bridge: one(() => ({
      quietAttrs: true,
      attrs: {
        name: opt(T.deviceName),
        zone: opt(T.zoneName),
        stp: opt(T.onOff),
        delay: opt(T.unsignedLong),
        macTableManager: opt(oneOf('kernel', 'libvirt')),
      },
    })),
    mtu: one(() => ({ attrs: { size: req(T.unsignedShort) } })),
    mac: one(() => ({ attrs: { address: req(T.uniMacAddr) } })),
    forward: one(() => ({
      opaque: true,
      attrs: {
        dev: opt(T.deviceName),
        mode: opt(oneOf('nat', 'route', 'open', 'bridge', 'passthrough', 'private', 'vepa', 'hostdev')),
        managed: opt(T.yesNo),
      },
      children: {
        interface: many(() => ({ attrs: { dev: req(T.deviceName), connections: opt(T.unsignedInt) } })),
        address: many(() => ({
          attrs: {
            type: req(oneOf('pci')),
            domain: opt(T.uint32),
            bus: opt(T.uint8),
            slot: opt(T.pciSlot),
            function: opt(T.pciFunc),
            multifunction: opt(T.onOff),
            connections: opt(T.unsignedInt),
          },
        })),
        pf: one(() => ({ attrs: { dev: req(T.deviceName) } })),
        driver: one(() => ({ attrs: { name: req(oneOf('kvm', 'vfio')) } })),
        nat: one(() => ({
          attrs: { ipv6: opt(T.yesNo) },
          children: {
            address: one(() => ({ attrs: { start: req(T.ipv4Addr), end: req(T.ipv4Addr) } })),
            port: one(() => ({ attrs: { start: req(T.port), end: req(T.port) } })),
          },
        })),
      },
    })),
    virtualport: one(virtualport),
    portgroup: many(() => ({
      attrs: { name: req(T.deviceName), default: opt(T.yesNo), trustGuestRxFilters: opt(T.yesNo) },
      children: { virtualport: one(virtualport), bandwidth: one(bandwidth), vlan: one(vlan) },
    })),
    domain: one(() => ({ attrs: { name: req(T.dnsName), localOnly: opt(T.yesNo) } })),
    dns: one(() => ({
      attrs: { enable: opt(T.yesNo), forwardPlainNames: opt(T.yesNo) },
      children: {
        forwarder: many(() => ({ attrs: { addr: opt(T.ipAddr), domain: opt(T.dnsName) } })),
        txt: many(() => ({ attrs: { name: req(T.dnsName), value: req(T.text) } })),
        srv: many(() => ({
          attrs: {
            service: req(T.text),
            protocol: req(T.protocol),
            domain: opt(T.dnsName),
            target: opt(T.text),
            port: opt(T.unsignedShort),
            priority: opt(T.unsignedShort),
            weight: opt(T.unsignedShort),
          },
        })),
        host: many(() => ({ attrs: { ip: req(T.ipAddr) }, children: { hostname: many(() => ({ text: T.dnsName }), 1) } })),
      },
    })),
    bandwidth: one(bandwidth),
    vlan: one(vlan),
    port: one(() => ({ attrs: { isolated: opt(T.yesNo) } })),
    ip: many(() => ({
      attrs: { address: opt(T.ipAddr), netmask: opt(T.ipv4Addr), prefix: opt(T.ipPrefix), family: opt(T.family), localPtr: opt(T.yesNo) },
      attrRule: notBoth('netmask', 'prefix'),
      children: {
        tftp: one(() => ({ attrs: { root: req(T.text) } })),
        dhcp: one(() => ({
          children: {
            range: many(() => ({ attrs: { start: req(T.ipAddr), end: req(T.ipAddr) }, children: { lease: one(lease) } })),
            host: many(() => ({
              attrs: { mac: { check: T.uniMacAddr, inChoice: true }, id: { check: T.duid, inChoice: true }, name: opt(T.text), ip: req(T.ipAddr) },
              attrRule: (el) => ('mac' in el.attrs && 'id' in el.attrs ? 'id' : 'mac' in el.attrs || 'id' in el.attrs || 'name' in el.attrs ? null : ''),
              children: { lease: one(lease) },
            })),
            bootp: one(() => ({ attrs: { file: req(T.filePath), server: opt(T.dnsName) } })),
          },
        })),
      },
    })),
    route: many(() => ({
      attrs: {
        family: opt(T.family),
        address: req(T.ipAddr),
        netmask: opt(T.ipv4Addr),
        prefix: opt(T.ipPrefix),
        gateway: req(T.ipAddr),
        metric: opt(T.unsignedInt),
      },
      attrRule: notBoth('netmask', 'prefix'),
    })),
  },
};

class SchemaViolation {
  constructor(
    readonly lines: string[],
    readonly fault: ErrorFault,
  ) {}
}

/** The libxml2-style trail from an element up to the root. */
function trail(path: XmlElement[]): string[] {
  const out: string[] = [];
  for (let i = path.length - 1; i > 0; i--) {
    out.push(`Extra element ${path[i]!.name} in interleave`, `Element ${path[i - 1]!.name} failed to validate content`);
  }
  return out;
}

/*
 * How libxml2 words a failure, as observed on libvirt 9.0's network.rng:
 * - an element it does not know, or text in element-only content: "Element P has extra
 *   content: C", then the trail from P;
 * - an optional attribute with a bad value, or an unknown attribute on the root or on a
 *   repeatable element: "Invalid attribute A for element E", then the trail from E;
 * - a required attribute missing (anywhere), or bad on the root or a repeatable element:
 *   "Element E failed to validate attributes", then the trail from E;
 * - otherwise (an unknown attribute or a bad required value on a single optional element, bad
 *   text): only the trail from E;
 * - anything wrong inside <forward>: only the trail from <forward>; a bad optional child of a
 *   repeatable element (<lease> in <range>): "Element P has extra content: C".
 * Children are checked in the schema's order, then each child's instances in document order.
 */
function check(el: XmlElement, g: Elem, path: XmlElement[], repeated = false): void {
  const pos = { element: el.name, line: el.line, column: el.column };
  const at = (lines: string[], extra: ErrorFault = {}) => new SchemaViolation([...(g.opaque ? [] : lines), ...trail(path)], { ...pos, ...extra });
  if (g.anyContent) return;
  const named = repeated || path.length === 1;
  const kids = g.children ?? {};

  for (const c of el.children) {
    if (typeof c === 'string') {
      if (!g.text && c.trim() !== '') throw at([`Element ${el.name} has extra content: text`]);
      continue;
    }
    if (!isElement(c)) continue;
    if (!kids[c.name] && !(el === path[0] && dnsmasqChild(path[0]!, c))) throw at([`Element ${el.name} has extra content: ${c.name}`], { element: c.name });
  }

  const attrs = g.attrs ?? {};
  for (const a of Object.keys(el.attrs)) {
    if (a === 'xmlns' || a.startsWith('xmlns:')) continue;
    if (!(a in attrs)) throw at(named ? [`Invalid attribute ${a} for element ${el.name}`] : [], { attribute: a, value: el.attrs[a] });
  }
  for (const [a, spec] of Object.entries(attrs)) {
    const v = el.attrs[a];
    const fault = { attribute: a, value: v };
    if (v === undefined) {
      if (spec.required) throw at([`Element ${el.name} failed to validate attributes`], fault);
    } else if (!spec.check(v)) {
      if (g.quietAttrs) throw at([], fault);
      if (spec.inChoice) throw at([`Element ${el.name} failed to validate attributes`], fault);
      if (!spec.required) throw at([`Invalid attribute ${a} for element ${el.name}`], fault);
      throw at(named ? [`Element ${el.name} failed to validate attributes`] : [], fault);
    }
  }
  const choice = g.attrRule?.(el);
  if (choice) throw at([`Invalid attribute ${choice} for element ${el.name}`], { attribute: choice, value: el.attrs[choice] });
  if (choice === '') throw at([`Element ${el.name} failed to validate attributes`]);
  if (g.contentRule && !g.contentRule(el)) throw at([]);

  const byName = new Map<string, XmlElement[]>();
  for (const c of el.children) if (isElement(c)) byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
  const order = [...Object.keys(kids), ...[...byName.keys()].filter((n) => !(n in kids))];
  for (const name of order) {
    const spec = kids[name] ?? (el === path[0] ? dnsmasqChild(path[0]!, byName.get(name)![0]!) : undefined);
    const list = byName.get(name) ?? [];
    if (!spec) continue;
    if (list.length > (spec.max ?? 1)) {
      const c = list[spec.max ?? 1]!;
      if (g.opaque) throw at([], { element: c.name, line: c.line, column: c.column });
      throw new SchemaViolation([`Extra element ${c.name} in interleave`, `Element ${el.name} failed to validate content`, ...trail(path)], {
        element: c.name,
        line: c.line,
        column: c.column,
      });
    }
    for (const c of list) {
      try {
        check(c, spec.elem(), [...path, c], (spec.max ?? 1) > 1);
      } catch (e) {
        if (!(e instanceof SchemaViolation)) throw e;
        if (g.opaque) throw at([], e.fault);
        if (repeated && (spec.max ?? 1) === 1 && path.length > 1 && !spec.elem().children) {
          throw at([`Element ${el.name} has extra content: ${c.name}`], e.fault);
        }
        throw e;
      }
    }
    if (list.length < (spec.min ?? 0)) {
      if (path.length === 1) throw at([`Expecting an element ${name}, got nothing`, 'Invalid sequence in interleave', `Element ${el.name} failed to validate content`]);
      throw new SchemaViolation([`Expecting an element ${name}, got nothing`, ...trail(path.slice(0, -1))], pos);
    }
  }
  if (g.text) {
    const text = el.children.filter((c): c is string => typeof c === 'string').join('');
    if (!g.text(text)) throw new SchemaViolation(trail(path), { ...pos, value: text });
  }
}

/** <dnsmasq:options> is part of the grammar when its prefix is bound to the dnsmasq namespace. */
function dnsmasqChild(root: XmlElement, c: XmlElement): { min: number; max: number; elem: () => Elem } | undefined {
  const [prefix, local] = c.name.split(':');
  if (local !== 'options' || root.attrs[`xmlns:${prefix}`] !== DNSMASQ_NAMESPACE) return undefined;
  return one(() => ({ children: { [`${prefix}:option`]: many(() => ({ attrs: { value: req(T.text) } })) } }));
}

/** Refuses a <network> that network.rng does not accept (VIR_NETWORK_DEFINE_VALIDATE). */
export function validateNetworkSchema(root: XmlElement): void {
  try {
    check(root, NETWORK, [root]);
  } catch (e) {
    if (!(e instanceof SchemaViolation)) throw e;
    throw virtError(ErrorNumber.XML_INVALID_SCHEMA, ErrorDomain.XML, `Unable to validate doc against ${NETWORK_RNG}\n${e.lines.join('\n')}\n`, e.fault);
  }
}
