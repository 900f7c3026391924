// <virtualport [type='802.1Qbg|802.1Qbh|openvswitch|midonet']><parameters …/></virtualport>
// (libvirt's netdev_vport_profile_conf.c and the checks of virnetdevvportprofile.c). Syntax
// errors come from libvirt's conf code (domain NONE), the completeness and "extra parameter"
// checks from its util code (domain NET); callers may pick another domain for the former.
import { ErrorDomain, ErrorNumber, virtError } from '../errors/index.js';
import { formatUuid, generateUuid, parseUuid } from './uuid.js';
import type { XmlElement } from './xml/xmlTree.js';
import type { XmlWriter } from './xml/xmlWriter.js';
import { plainReader, strToUInt, type XmlReader } from './xmlProps.js';

export const VIRTUAL_PORT_TYPES = ['802.1Qbg', '802.1Qbh', 'openvswitch', 'midonet'] as const;
export type VirtualPortType = (typeof VIRTUAL_PORT_TYPES)[number];

/** libvirt's LIBVIRT_IFLA_VF_PORT_PROFILE_MAX (40) including the terminating NUL. */
export const PROFILE_ID_MAX = 39;

export interface VirtualPortParameters {
  /** 802.1Qbg, 0..255 */
  managerid?: number;
  /** 802.1Qbg, 0..0xffffff */
  typeid?: number;
  /** 802.1Qbg, 0..255 */
  typeidversion?: number;
  /** 802.1Qbg, a UUID (canonical text) */
  instanceid?: string;
  /** 802.1Qbh and openvswitch, at most 39 characters */
  profileid?: string;
  /** openvswitch and midonet, a UUID (canonical text) */
  interfaceid?: string;
}

export interface NetDevVirtualPort {
  /** undefined: no type given (allowed in a domain's interface, merged with the network's). */
  type?: VirtualPortType;
  parameters: VirtualPortParameters;
}

export interface NetDevVirtualPortParseOptions {
  /** VIR_VPORT_XML_GENERATE_MISSING_DEFAULTS: make up instanceid/interfaceid where they belong. */
  generateMissingDefaults?: boolean;
  /** VIR_VPORT_XML_REQUIRE_ALL_ATTRIBUTES: every parameter the type needs must be there. */
  requireAllAttributes?: boolean;
  /** VIR_VPORT_XML_REQUIRE_TYPE: `type` must be given. */
  requireType?: boolean;
  /** Domain of the syntax errors (libvirt: NONE). */
  errorDomain?: number;
  reader?: XmlReader;
}

/** virNetDevVPortProfileParse. */
export function parseNetDevVirtualPort(el: XmlElement, opts: NetDevVirtualPortParseOptions = {}): NetDevVirtualPort {
  const r = opts.reader ?? plainReader;
  const dom = opts.errorDomain ?? ErrorDomain.NONE;
  const xmlErr = (msg: string, attribute?: string, value?: string) =>
    virtError(ErrorNumber.XML_ERROR, dom, msg, { element: attribute ? 'virtualport/parameters' : 'virtualport', attribute, value });

  const typeAttr = r.attr(el, 'type');
  let type: VirtualPortType | undefined;
  if (typeAttr !== undefined) {
    if (!(VIRTUAL_PORT_TYPES as readonly string[]).includes(typeAttr)) {
      throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, dom, `unknown virtualport type ${typeAttr}`, {
        element: 'virtualport',
        attribute: 'type',
        value: typeAttr,
      });
    }
    type = typeAttr as VirtualPortType;
  }
  if (!type && opts.requireType) throw xmlErr('missing required virtualport type');

  const params: VirtualPortParameters = {};
  const p = r.child(el, 'parameters');
  if (p) {
    const num = (name: 'managerid' | 'typeid' | 'typeidversion', max: number, rangeMsg: string): void => {
      const s = r.attr(p, name);
      if (s === undefined) return;
      const v = strToUInt(s, 0);
      if (v === undefined) throw xmlErr(`cannot parse value of ${name} parameter`, name, s);
      if (v > max) throw xmlErr(rangeMsg, name, s);
      params[name] = v;
    };
    num('managerid', 0xff, 'value of managerid out of range');
    num('typeid', 0xffffff, 'value for typeid out of range');
    num('typeidversion', 0xff, 'value of typeidversion out of range');
    const instanceid = r.attr(p, 'instanceid');
    if (instanceid !== undefined) {
      const u = parseUuid(instanceid);
      if (!u) throw xmlErr('cannot parse instanceid parameter as a uuid', 'instanceid', instanceid);
      params.instanceid = formatUuid(u);
    }
    const profileid = r.attr(p, 'profileid');
    if (profileid !== undefined) {
      if (Buffer.byteLength(profileid) > PROFILE_ID_MAX) throw xmlErr('profileid parameter too long', 'profileid', profileid);
      // An empty profileid is the same as none to libvirt.
      if (profileid !== '') params.profileid = profileid;
    }
    const interfaceid = r.attr(p, 'interfaceid');
    if (interfaceid !== undefined) {
      const u = parseUuid(interfaceid);
      if (!u) throw xmlErr('cannot parse interfaceid parameter as a uuid', 'interfaceid', interfaceid);
      params.interfaceid = formatUuid(u);
    }
  }

  const vp: NetDevVirtualPort = type ? { type, parameters: params } : { parameters: params };
  if (opts.generateMissingDefaults) {
    if (params.instanceid === undefined && (type === '802.1Qbg' || type === undefined)) params.instanceid = formatUuid(generateUuid());
    if (params.interfaceid === undefined && (type === 'openvswitch' || type === undefined)) params.interfaceid = formatUuid(generateUuid());
  }
  if (opts.requireAllAttributes) checkNetDevVirtualPortComplete(vp, false);
  checkNetDevVirtualPortNoExtras(vp);
  return vp;
}

function netError(msg: string): never {
  throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.NET, msg, { element: 'virtualport/parameters' });
}

/**
 * virNetDevVPortProfileCheckComplete: every parameter the type needs is set. With
 * `generateMissing` a missing instanceid (802.1Qbg) or interfaceid (openvswitch) is generated
 * instead. A virtualport without type is always complete.
 */
export function checkNetDevVirtualPortComplete(vp: NetDevVirtualPort | undefined, generateMissing: boolean): void {
  if (!vp || !vp.type) return;
  const p = vp.parameters;
  let missing: string | undefined;
  switch (vp.type) {
    case '802.1Qbg':
      if (p.managerid === undefined) missing = 'managerid';
      else if (p.typeid === undefined) missing = 'typeid';
      else if (p.typeidversion === undefined) missing = 'typeidversion';
      else if (p.instanceid === undefined) {
        if (generateMissing) p.instanceid = formatUuid(generateUuid());
        else missing = 'instanceid';
      }
      break;
    case '802.1Qbh':
      if (!p.profileid) missing = 'profileid';
      break;
    case 'openvswitch':
      // profileid is optional for openvswitch.
      if (p.interfaceid === undefined) {
        if (generateMissing) p.interfaceid = formatUuid(generateUuid());
        else missing = 'interfaceid';
      }
      break;
    case 'midonet':
      if (p.interfaceid === undefined) missing = 'interfaceid';
      break;
  }
  if (missing) netError(`missing ${missing} in <virtualport type='${vp.type}'>`);
}

/**
 * virNetDevVPortProfileCheckNoExtras: no parameter that the type does not use. midonet is not
 * checked (libvirt accepts and drops its extra parameters).
 */
export function checkNetDevVirtualPortNoExtras(vp: NetDevVirtualPort | undefined): void {
  if (!vp || !vp.type) return;
  const p = vp.parameters;
  let extra: string | undefined;
  switch (vp.type) {
    case '802.1Qbg':
      if (p.profileid) extra = 'profileid';
      else if (p.interfaceid !== undefined) extra = 'interfaceid';
      break;
    case '802.1Qbh':
      if (p.managerid !== undefined) extra = 'managerid';
      else if (p.typeid !== undefined) extra = 'typeid';
      else if (p.typeidversion !== undefined) extra = 'typeidversion';
      else if (p.instanceid !== undefined) extra = 'instanceid';
      else if (p.interfaceid !== undefined) extra = 'interfaceid';
      break;
    case 'openvswitch':
      if (p.managerid !== undefined) extra = 'managerid';
      else if (p.typeid !== undefined) extra = 'typeid';
      else if (p.typeidversion !== undefined) extra = 'typeidversion';
      else if (p.instanceid !== undefined) extra = 'instanceid';
      break;
    case 'midonet':
      break;
  }
  if (extra) netError(`extra ${extra} unsupported in <virtualport type='${vp.type}'>`);
}

/** Which parameters each type prints (virNetDevVPortProfileFormat); no type prints them all. */
function printable(type: VirtualPortType | undefined, name: keyof VirtualPortParameters): boolean {
  if (type === undefined) return true;
  switch (name) {
    case 'managerid':
    case 'typeid':
    case 'typeidversion':
    case 'instanceid':
      return type === '802.1Qbg';
    case 'interfaceid':
      return type === 'midonet' || type === 'openvswitch';
    case 'profileid':
      return type === 'openvswitch' || type === '802.1Qbh';
  }
}

/**
 * virNetDevVPortProfileFormat: parameters in the order managerid, typeid, typeidversion,
 * instanceid, interfaceid, profileid. A typed virtualport without parameters is `<virtualport
 * type='…'/>`; one whose parameters the type does not print still gets `<parameters/>`.
 */
export function formatNetDevVirtualPort(w: XmlWriter, vp: NetDevVirtualPort | undefined): void {
  if (!vp) return;
  const p = vp.parameters;
  const noParameters =
    p.managerid === undefined &&
    p.typeid === undefined &&
    p.typeidversion === undefined &&
    p.instanceid === undefined &&
    !p.profileid &&
    p.interfaceid === undefined;
  if (noParameters) {
    if (vp.type) w.empty('virtualport', { type: vp.type });
    return;
  }
  const t = vp.type;
  w.open('virtualport', { type: t });
  w.empty('parameters', {
    managerid: printable(t, 'managerid') ? p.managerid : undefined,
    typeid: printable(t, 'typeid') ? p.typeid : undefined,
    typeidversion: printable(t, 'typeidversion') ? p.typeidversion : undefined,
    instanceid: printable(t, 'instanceid') ? p.instanceid : undefined,
    interfaceid: printable(t, 'interfaceid') ? p.interfaceid : undefined,
    profileid: printable(t, 'profileid') && p.profileid ? p.profileid : undefined,
  });
  w.close('virtualport');
}

function mismatch(what: string, a: string, b: string): never {
  throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.NET, `attempt to merge virtualports with mismatched ${what} (${a} and ${b})`, {
    element: 'virtualport',
  });
}

/** virNetDevVPortProfileMerge: fills what `orig` lacks from `mods`; a conflict is an error. */
function mergeInto(orig: NetDevVirtualPort, mods: NetDevVirtualPort | undefined): void {
  if (!mods) return;
  if (mods.type) {
    if (orig.type && orig.type !== mods.type) mismatch('types', orig.type, mods.type);
    orig.type = mods.type;
  }
  const t = orig.type;
  const o = orig.parameters;
  const m = mods.parameters;
  if (t === '802.1Qbg' || t === undefined) {
    for (const k of ['managerid', 'typeid', 'typeidversion'] as const) {
      const v = m[k];
      if (v === undefined) continue;
      if (o[k] !== undefined && o[k] !== v) mismatch(`${k}s`, String(o[k]), String(v));
      o[k] = v;
    }
    if (m.instanceid !== undefined) {
      if (o.instanceid !== undefined && o.instanceid !== m.instanceid) mismatch('instanceids', `'${o.instanceid}'`, `'${m.instanceid}'`);
      o.instanceid = m.instanceid;
    }
  }
  if (t === '802.1Qbh' || t === 'openvswitch' || t === undefined) {
    if (m.profileid) {
      if (o.profileid && o.profileid !== m.profileid) mismatch('profileids', `'${o.profileid}'`, `'${m.profileid}'`);
      o.profileid = m.profileid;
    }
  }
  if (t === 'openvswitch' || t === 'midonet' || t === undefined) {
    if (m.interfaceid !== undefined) {
      if (o.interfaceid !== undefined && o.interfaceid !== m.interfaceid) mismatch('interfaceids', `'${o.interfaceid}'`, `'${m.interfaceid}'`);
      o.interfaceid = m.interfaceid;
    }
  }
}

const isEmpty = (vp: NetDevVirtualPort | undefined): boolean => !vp || !vp.type;

/**
 * virNetDevVPortProfileMerge3: the virtualport a port really gets — the interface's, completed
 * from the network's and then the portgroup's. undefined when none of the three has a type.
 */
export function mergeNetDevVirtualPorts(
  fromInterface: NetDevVirtualPort | undefined,
  fromNetwork: NetDevVirtualPort | undefined,
  fromPortgroup: NetDevVirtualPort | undefined,
): NetDevVirtualPort | undefined {
  if (isEmpty(fromInterface) && isEmpty(fromNetwork) && isEmpty(fromPortgroup)) return undefined;
  const result: NetDevVirtualPort = fromInterface
    ? { ...(fromInterface.type ? { type: fromInterface.type } : {}), parameters: { ...fromInterface.parameters } }
    : { parameters: {} };
  mergeInto(result, fromNetwork);
  mergeInto(result, fromPortgroup);
  return result;
}

/** virNetDevVPortProfileEqual: same type and the parameters that type uses. */
export function netDevVirtualPortEqual(a: NetDevVirtualPort | undefined, b: NetDevVirtualPort | undefined): boolean {
  if (!a || !b) return !a && !b;
  if (a.type !== b.type) return false;
  const keys: (keyof VirtualPortParameters)[] = ['managerid', 'typeid', 'typeidversion', 'instanceid', 'profileid', 'interfaceid'];
  return keys.every((k) => !printable(a.type, k) || (a.parameters[k] ?? '') === (b.parameters[k] ?? ''));
}
