// <interface>: a guest NIC and how it reaches the host (libvirt's virDomainNetDef). Parse, format
// and validate follow network-devices.md §5 and libvirt's element order.
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { generateMacAddrString, normalizeMacAddr } from '../macAddr.js';
import { formatNetDevBandwidth, parseNetDevBandwidth, type NetDevBandwidth } from '../netdevBandwidth.js';
import { formatNetDevVirtualPort, parseNetDevVirtualPort, type NetDevVirtualPort } from '../netdevVirtualPort.js';
import { formatNetDevVlan, parseNetDevVlan, type NetDevVlan } from '../netdevVlan.js';
import { propUuid, strToUInt, strToULongLongP } from '../xmlProps.js';
import type { DeviceFormatEnv, DeviceParseEnv } from './deviceEnv.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './deviceInfo.js';
import { formatHostdevSubsys, parseHostdevSubsys, parseTeaming, type HostdevSubsys } from './hostdev.js';
import { formatNetIpInfo, parseNetIpInfo, type NetIpInfo } from './netIp.js';
import { sanitizePath } from './os.js';
import { ParseContext, internalError, onOff, unsupported, xmlError, yesNo } from './parseContext.js';
import { hasVirtioOptions, parseVirtioOptions, virtioOptionAttrs, type VirtioOptions } from './virtioOptions.js';

export const NET_TYPES = [
  'user', 'ethernet', 'vhostuser', 'server', 'client', 'mcast', 'network', 'bridge', 'internal', 'direct',
  'hostdev', 'udp', 'vdpa', 'null', 'vds',
] as const;
export type NetType = (typeof NET_TYPES)[number];

export const NET_MODELS = [
  'unknown', 'netfront', 'rtl8139', 'virtio', 'e1000', 'e1000e', 'virtio-transitional', 'virtio-non-transitional',
  'usb-net', 'spapr-vlan', 'lan9118', 'scm91c111', 'vlance', 'vmxnet', 'vmxnet2', 'vmxnet3', 'Am79C970A',
  'Am79C973', '82540EM', '82545EM', '82543GC',
] as const;
export const MACVLAN_MODES = ['vepa', 'private', 'bridge', 'passthrough'] as const;
const MAC_TYPES = ['', 'generated', 'static'] as const;
const NET_DRIVER_NAMES = ['default', 'qemu', 'vhost'] as const;
const TX_MODES = ['default', 'iothread', 'timer'] as const;
const LINK_STATES = ['default', 'up', 'down'] as const;
const NET_BACKENDS = ['default', 'passt'] as const;
const MAC_TABLE_MANAGERS = ['default', 'kernel', 'libvirt'] as const;
const NET_MODEL_CHARS = /^[A-Za-z0-9_-]*$/;
const CANONICAL_MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** <source> of an interface; which attributes apply depends on the type. */
export interface InterfaceSource {
  /** type='network' */
  network?: string;
  portgroup?: string;
  /** type='network': the network port, live XML only. */
  portid?: string;
  /** type='bridge' */
  bridge?: string;
  /** type='direct' (host link), 'vdpa' (device path), 'user' with passt. */
  dev?: string;
  /** type='direct': macvtap mode, default vepa. */
  mode?: (typeof MACVLAN_MODES)[number] | 'client' | 'server';
  /** type='internal' */
  name?: string;
  /** type='server'/'client'/'mcast'/'udp' */
  address?: string;
  port?: number;
  local?: { address: string; port: number };
  /** type='vhostuser' (unix socket). */
  type?: 'unix';
  path?: string;
  reconnect?: { enabled: boolean; timeout?: number };
  /** type='vds' */
  switchid?: string;
  portidVds?: bigint;
  portgroupid?: string;
  connectionid?: bigint;
}

export interface InterfaceVirtioDriver {
  name?: 'qemu' | 'vhost';
  txmode?: 'iothread' | 'timer';
  ioeventfd?: boolean;
  eventIdx?: boolean;
  queues?: number;
  rxQueueSize?: number;
  txQueueSize?: number;
  rss?: boolean;
  rssHashReport?: boolean;
  host?: Partial<Record<'csum' | 'gso' | 'tso4' | 'tso6' | 'ecn' | 'ufo' | 'mrgRxbuf', boolean>>;
  guest?: Partial<Record<'csum' | 'tso4' | 'tso6' | 'ecn' | 'ufo', boolean>>;
}

/** What a network port actually gave a type='network' interface (status and live XML). */
export interface ActualNetDef {
  type: 'bridge' | 'direct' | 'hostdev' | 'network';
  trustGuestRxFilters?: boolean;
  /** bridge/network: the bridge; direct: the link and mode. */
  source?: { bridge?: string; macTableManager?: 'kernel' | 'libvirt'; dev?: string; mode?: (typeof MACVLAN_MODES)[number] };
  hostdev?: { managed: boolean; source: HostdevSubsys };
  classId?: number;
  vlan?: NetDevVlan;
  virtualport?: NetDevVirtualPort;
  bandwidth?: NetDevBandwidth;
  portIsolated?: boolean;
}

export interface InterfaceDef extends DeviceInfo {
  type: NetType;
  trustGuestRxFilters?: boolean;
  /**
   * currentAddress: the MAC the guest set for itself (from QEMU's query-rx-filter), when it
   * differs from the configured one; live and status XML only (libvirt ≥ 11.2).
   */
  mac: { address: string; type?: 'generated' | 'static'; check?: boolean; currentAddress?: string };
  /** The MAC was generated because the XML had none. */
  macGenerated?: boolean;
  source?: InterfaceSource;
  /** type='hostdev': the host device (an SR-IOV VF) and managed='yes'. */
  hostdev?: { managed: boolean; source: HostdevSubsys };
  /** Host-side <ip>/<route> under <source> (type='ethernet'). */
  hostIp?: NetIpInfo;
  vlan?: NetDevVlan;
  virtualport?: NetDevVirtualPort;
  bandwidth?: NetDevBandwidth;
  /** <port isolated='yes|no'/>. */
  portIsolated?: boolean;
  /** Guest-side <ip>/<route>. */
  guestIp?: NetIpInfo;
  script?: string;
  downscript?: string;
  backenddomain?: string;
  target?: { dev?: string; managed?: boolean };
  guest?: { dev?: string; actual?: string };
  /** <model type>: a known model (canonical case) or a driver-accepted string. */
  model?: string;
  /** virtio <driver> attributes (model virtio only) and virtio options. */
  driver?: InterfaceVirtioDriver;
  virtio?: VirtioOptions;
  backend?: { type?: 'passt'; tap?: string; vhost?: string; logFile?: string };
  filterref?: { filter: string; parameters: { name: string; value: string }[] };
  tune?: { sndbuf: bigint };
  teaming?: { type: 'persistent' | 'transient'; persistent?: string };
  link?: { state: 'up' | 'down' };
  mtu?: number;
  coalesce?: { rxMaxFrames: number };
  /** The network port's actual connection (type='network', live/status XML). */
  actual?: ActualNetDef;
}

export function isVirtioModel(model: string | undefined): boolean {
  return model === 'virtio' || model === 'virtio-transitional' || model === 'virtio-non-transitional';
}

function requireSource(type: string, source: XmlElement | undefined): XmlElement {
  if (!source) throw xmlError(`interface type='${type}' requires a 'source' element`, { element: 'interface/source' });
  return source;
}

export function parseInterface(env: DeviceParseEnv, node: XmlElement): InterfaceDef {
  const { ctx } = env;
  const type = (ctx.enumProp(node, 'type', NET_TYPES) ?? 'user') as NetType;
  const def: InterfaceDef = { type, mac: { address: '' } };
  const trust = ctx.boolProp(node, 'trustGuestRxFilters');
  if (trust !== undefined) def.trustGuestRxFilters = trust;

  const modelEl = ctx.child(node, 'model');
  const modelStr = modelEl ? ctx.attr(modelEl, 'type') : undefined;
  if (modelStr) {
    const known = NET_MODELS.find((m) => m.toLowerCase() === modelStr.toLowerCase());
    if (known && known !== 'unknown') def.model = known;
    else if (known === 'unknown') def.model = undefined;
    else {
      if (!NET_MODEL_CHARS.test(modelStr)) {
        throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.DOMAIN, 'Model name contains invalid characters', {
          element: 'interface/model',
          attribute: 'type',
          value: modelStr,
        });
      }
      def.model = modelStr;
    }
  }

  const source = ctx.child(node, 'source');
  if (source) {
    const hostIp = parseNetIpInfo(ctx, source, 'interface host IP');
    if (hostIp) def.hostIp = hostIp;
  }

  let vportFlags: { generateMissingDefaults?: boolean; requireAllAttributes?: boolean; requireType?: boolean } | undefined;
  let parseFilterref = false;
  switch (type) {
    case 'network': {
      const s = requireSource(type, source);
      const src: InterfaceSource = { network: ctx.requiredAttr(s, 'network') };
      const pg = ctx.attr(s, 'portgroup');
      if (pg !== undefined) src.portgroup = pg;
      const portid = ctx.attr(s, 'portid');
      if (ctx.live && portid !== undefined) src.portid = propUuid(ctx, s, 'portid')!;
      def.source = src;
      if (ctx.live) {
        const actualEl = ctx.child(node, 'actual');
        if (actualEl) def.actual = parseActual(env, actualEl);
      }
      vportFlags = { generateMissingDefaults: true };
      parseFilterref = true;
      break;
    }
    case 'vds': {
      const s = requireSource(type, source);
      const swid = propUuid(ctx, s, 'switchid', { required: true })!;
      const portid = ctx.requiredAttr(s, 'portid');
      const pgid = ctx.requiredAttr(s, 'portgroupid');
      const conn = ctx.requiredAttr(s, 'connectionid');
      def.source = { switchid: swid, portidVds: BigInt(strToULongLongP(portid, 0) ?? 0n), portgroupid: pgid, connectionid: BigInt(strToULongLongP(conn, 0) ?? 0n) };
      break;
    }
    case 'internal': {
      const s = requireSource(type, source);
      def.source = { name: ctx.requiredAttr(s, 'name') };
      break;
    }
    case 'bridge': {
      const s = requireSource(type, source);
      def.source = { bridge: ctx.requiredAttr(s, 'bridge') };
      vportFlags = { generateMissingDefaults: true, requireAllAttributes: true, requireType: true };
      parseFilterref = true;
      break;
    }
    case 'direct': {
      const s = requireSource(type, source);
      const dev = ctx.requiredAttr(s, 'dev');
      const mode = ctx.enumProp(s, 'mode', MACVLAN_MODES) ?? 'vepa';
      def.source = { dev, mode };
      vportFlags = { generateMissingDefaults: true, requireAllAttributes: true, requireType: true };
      break;
    }
    case 'ethernet':
      parseFilterref = true;
      break;
    case 'vhostuser': {
      const s = requireSource(type, source);
      const t = ctx.requiredAttr(s, 'type');
      if (t !== 'unix') throw unsupported(`Type='${t}' unsupported for <interface type='vhostuser'>`);
      const path = ctx.requiredAttr(s, 'path');
      const mode = ctx.enumProp(s, 'mode', ['', 'client', 'server'] as const, { required: true, nonzero: true })!;
      def.source = { type: 'unix', path, mode: mode as 'client' | 'server' };
      const rc = ctx.child(s, 'reconnect');
      if (rc) def.source.reconnect = parseReconnect(ctx, rc);
      break;
    }
    case 'vdpa': {
      const s = requireSource(type, source);
      def.source = { dev: ctx.requiredAttr(s, 'dev') };
      break;
    }
    case 'client':
    case 'server':
    case 'mcast':
    case 'udp': {
      const s = requireSource(type, source);
      const src: InterfaceSource = {};
      if (type !== 'server') src.address = ctx.requiredAttr(s, 'address');
      else {
        const a = ctx.attr(s, 'address');
        if (a !== undefined) src.address = a;
      }
      src.port = ctx.intProp(s, 'port', 10, { required: true })!;
      if (type === 'udp') {
        const local = ctx.child(s, 'local');
        if (!local) throw xmlError("'<local>' element missing for 'udp' socket interface");
        src.local = { address: ctx.requiredAttr(local, 'address'), port: ctx.intProp(local, 'port', 10, { required: true })! };
      }
      def.source = src;
      break;
    }
    case 'hostdev': {
      const addrEl = source ? ctx.child(source, 'address') : undefined;
      let addrType = addrEl ? ctx.attr(addrEl, 'type') : undefined;
      if (!addrType && source && ctx.child(source, 'vendor')) addrType = 'usb';
      def.hostdev = parseHostdevSubsys(ctx, node, addrType);
      vportFlags = { generateMissingDefaults: true, requireAllAttributes: true, requireType: true };
      break;
    }
    case 'user': {
      const dev = source ? ctx.attr(source, 'dev') : undefined;
      if (dev !== undefined) def.source = { dev };
      break;
    }
    default:
      break;
  }

  const vpEl = ctx.child(node, 'virtualport');
  if (vpEl) {
    if (!vportFlags) {
      throw unsupported(`<virtualport> element unsupported for <interface type='${type}'>`, { element: 'interface/virtualport' });
    }
    def.virtualport = parseNetDevVirtualPort(vpEl, { ...vportFlags, reader: ctx });
  }

  const targetEl = ctx.child(node, 'target');
  if (targetEl) {
    const target: NonNullable<InterfaceDef['target']> = {};
    const dev = ctx.attr(targetEl, 'dev');
    if (dev !== undefined) target.dev = dev;
    const managed = ctx.boolProp(targetEl, 'managed');
    if (managed !== undefined) target.managed = managed;
    def.target = target;
  }
  const guestEl = ctx.child(node, 'guest');
  if (guestEl) {
    const g: NonNullable<InterfaceDef['guest']> = {};
    const gd = ctx.attr(guestEl, 'dev');
    const ga = ctx.attr(guestEl, 'actual');
    if (gd) g.dev = gd;
    if (ga) g.actual = ga;
    if (gd || ga) def.guest = g;
  }
  const linkEl = ctx.child(node, 'link');
  const linkState = linkEl ? ctx.attr(linkEl, 'state') : undefined;
  const script = attrOf(ctx, node, 'script', 'path');
  if (script) def.script = script;
  const downscript = attrOf(ctx, node, 'downscript', 'path');
  if (downscript) def.downscript = downscript;
  const bd = attrOf(ctx, node, 'backenddomain', 'name');
  if (bd) def.backenddomain = bd;

  if (parseFilterref) {
    const fr = ctx.child(node, 'filterref');
    if (fr) {
      const filter = ctx.attr(fr, 'filter');
      const parameters: { name: string; value: string }[] = [];
      for (const p of ctx.children(fr, 'parameter')) {
        const name = ctx.attr(p, 'name');
        const value = ctx.attr(p, 'value');
        if (name && value !== undefined && /^[A-Za-z0-9_]+$/.test(name)) parameters.push({ name, value });
      }
      if (filter) def.filterref = { filter, parameters };
    }
  }

  const bwEl = ctx.child(node, 'bandwidth');
  if (bwEl) {
    const bw = parseNetDevBandwidth(bwEl, { allowFloor: type === 'network', reader: ctx }).bandwidth;
    if (bw) def.bandwidth = bw;
  }
  const vlanEl = ctx.child(node, 'vlan');
  if (vlanEl) def.vlan = parseNetDevVlan(vlanEl, { reader: ctx });

  const macEl = ctx.child(node, 'mac');
  let macGiven = false;
  if (macEl) {
    const addr = ctx.attr(macEl, 'address');
    if (addr !== undefined) {
      // canonical input (what libvirt writes) needs no parse/format round
      const norm = CANONICAL_MAC.test(addr) ? addr : normalizeMacAddr(addr);
      if (!norm) throw xmlError(`unable to parse mac address '${addr}'`, { element: 'interface/mac', attribute: 'address', value: addr });
      if (parseInt(norm.slice(0, 2), 16) & 1) {
        throw xmlError(`expected unicast mac address, found multicast '${addr}'`, { element: 'interface/mac', attribute: 'address', value: addr });
      }
      def.mac.address = norm;
      macGiven = true;
    }
    const mt = ctx.enumProp(macEl, 'type', MAC_TYPES, { nonzero: true });
    if (mt) def.mac.type = mt as 'generated' | 'static';
    const check = ctx.boolProp(macEl, 'check');
    if (check !== undefined) def.mac.check = check;
    const current = ctx.live ? ctx.attr(macEl, 'currentAddress') : undefined;
    if (current !== undefined) {
      const cur = normalizeMacAddr(current);
      if (!cur) throw xmlError(`unable to parse mac address '${current}'`, { element: 'interface/mac', attribute: 'currentAddress', value: current });
      def.mac.currentAddress = cur;
    }
  }
  if (!macGiven) {
    def.mac.address = generateMacAddrString();
    def.macGenerated = true;
  }

  parseDeviceInfo(ctx, node, def, { allowBoot: true, allowRom: true, userAlias: env.userAlias });

  const guestIp = parseNetIpInfo(ctx, node, 'guest interface');
  if (guestIp) def.guestIp = guestIp;
  // portForward (passt) is not modelled; its elements stay unread

  if (def.target?.dev && def.target.managed !== false && !ctx.live && env.netPrefixes.some((p) => def.target!.dev!.startsWith(p))) {
    // an auto-generated host name is not part of the persistent config
    delete def.target.dev;
  }

  parseDriver(ctx, node, def);

  const backendEl = ctx.child(node, 'backend');
  if (backendEl) {
    const b: NonNullable<InterfaceDef['backend']> = {};
    const bt = ctx.enumProp(backendEl, 'type', NET_BACKENDS, { nonzero: true });
    if (bt) b.type = bt as 'passt';
    const tap = ctx.attr(backendEl, 'tap');
    const vhost = ctx.attr(backendEl, 'vhost');
    const logFile = ctx.attr(backendEl, 'logFile');
    if (logFile !== undefined) b.logFile = logFile;
    if (tap !== undefined) b.tap = sanitizePath(tap);
    if (vhost !== undefined && type !== 'hostdev' && isVirtioModel(def.model)) b.vhost = sanitizePath(vhost);
    def.backend = b;
  }

  if (linkState !== undefined) {
    const i = (LINK_STATES as readonly string[]).indexOf(linkState);
    if (i <= 0) throw unsupported(`unknown interface link state '${linkState}'`, { element: 'interface/link', attribute: 'state', value: linkState });
    def.link = { state: linkState as 'up' | 'down' };
  }

  const teaming = parseTeaming(ctx, node);
  if (teaming) def.teaming = teaming;

  const tune = ctx.child(node, 'tune');
  const sndbuf = tune ? ctx.childText(tune, 'sndbuf') : undefined;
  if (sndbuf) {
    const v = strToULongLongP(sndbuf, 10);
    if (v === undefined) throw xmlError('sndbuf must be a positive integer', { element: 'interface/tune/sndbuf', value: sndbuf });
    def.tune = { sndbuf: v };
  }
  const mtuEl = ctx.child(node, 'mtu');
  const mtu = mtuEl ? ctx.attr(mtuEl, 'size') : undefined;
  if (mtu) {
    const v = strToUInt(mtu, 10);
    if (v === undefined) throw xmlError('malformed mtu size', { element: 'interface/mtu', attribute: 'size', value: mtu });
    if (v) def.mtu = v;
  }
  const co = ctx.child(node, 'coalesce');
  if (co) {
    const rx = ctx.child(co, 'rx');
    const frames = rx ? ctx.child(rx, 'frames') : undefined;
    const max = frames ? ctx.attr(frames, 'max') : undefined;
    if (max) {
      const v = strToULongLongP(max, 10);
      if (v === undefined) throw virtError(ErrorNumber.XML_DETAIL, ErrorDomain.DOMAIN, `cannot parse value '${max}' for coalesce parameter`);
      if (v > 0xffffffffn) {
        throw virtError(ErrorNumber.OVERFLOW, ErrorDomain.DOMAIN, `value '${v}' is too big for coalesce parameter, maximum is '4294967295'`);
      }
      def.coalesce = { rxMaxFrames: Number(v) };
    }
  }
  const port = ctx.child(node, 'port');
  if (port) {
    const iso = ctx.boolProp(port, 'isolated');
    if (iso !== undefined) def.portIsolated = iso;
  }
  return def;
}

function attrOf(ctx: ParseContext, node: XmlElement, child: string, attr: string): string | undefined {
  const c = ctx.child(node, child);
  const v = c ? ctx.attr(c, attr) : undefined;
  return v || undefined;
}

function parseReconnect(ctx: ParseContext, el: XmlElement): { enabled: boolean; timeout?: number } {
  const enabled = ctx.boolProp(el, 'enabled', { required: true })!;
  const out: { enabled: boolean; timeout?: number } = { enabled };
  if (enabled) {
    const t = ctx.uintProp(el, 'timeout', 10, { required: true });
    if (t !== undefined) out.timeout = t;
  }
  return out;
}

function parseDriver(ctx: ParseContext, node: XmlElement, def: InterfaceDef): void {
  const drv = ctx.child(node, 'driver');
  if (!drv) return;
  const vo = parseVirtioOptions(ctx, drv);
  if (vo && hasVirtioOptions(vo)) def.virtio = vo;
  if (def.type === 'hostdev') {
    ctx.attr(drv, 'name'); // read by the hostdev subsystem parser
    return;
  }
  if (!isVirtioModel(def.model)) return;
  const d: InterfaceVirtioDriver = {};
  const name = ctx.enumProp(drv, 'name', NET_DRIVER_NAMES, { nonzero: true });
  if (name) d.name = name as 'qemu' | 'vhost';
  const tx = ctx.enumProp(drv, 'txmode', TX_MODES, { nonzero: true });
  if (tx) d.txmode = tx as 'iothread' | 'timer';
  const ioe = ctx.switchProp(drv, 'ioeventfd');
  if (ioe !== undefined) d.ioeventfd = ioe;
  const ei = ctx.switchProp(drv, 'event_idx');
  if (ei !== undefined) d.eventIdx = ei;
  const q = ctx.uintProp(drv, 'queues');
  if (q !== undefined && q > 1) d.queues = q; // one queue pair always exists
  const rxq = ctx.uintProp(drv, 'rx_queue_size');
  if (rxq) d.rxQueueSize = rxq;
  const txq = ctx.uintProp(drv, 'tx_queue_size');
  if (txq) d.txQueueSize = txq;
  const rss = ctx.switchProp(drv, 'rss');
  if (rss !== undefined) d.rss = rss;
  const rhr = ctx.switchProp(drv, 'rss_hash_report');
  if (rhr !== undefined) d.rssHashReport = rhr;
  const host = ctx.child(drv, 'host');
  if (host) {
    d.host = {};
    for (const [k, a] of [['csum', 'csum'], ['gso', 'gso'], ['tso4', 'tso4'], ['tso6', 'tso6'], ['ecn', 'ecn'], ['ufo', 'ufo'], ['mrgRxbuf', 'mrg_rxbuf']] as const) {
      const v = ctx.switchProp(host, a);
      if (v !== undefined) d.host[k] = v;
    }
  }
  const guest = ctx.child(drv, 'guest');
  if (guest) {
    d.guest = {};
    for (const a of ['csum', 'tso4', 'tso6', 'ecn', 'ufo'] as const) {
      const v = ctx.switchProp(guest, a);
      if (v !== undefined) d.guest[a] = v;
    }
  }
  def.driver = d;
}

function parseActual(env: DeviceParseEnv, el: XmlElement): ActualNetDef {
  const { ctx } = env;
  const t = ctx.enumProp(el, 'type', NET_TYPES, { required: true })!;
  if (t !== 'bridge' && t !== 'direct' && t !== 'hostdev' && t !== 'network') {
    throw internalError(`unsupported type '${t}' in interface's <actual> element`);
  }
  const a: ActualNetDef = { type: t };
  const trust = ctx.boolProp(el, 'trustGuestRxFilters');
  if (trust !== undefined) a.trustGuestRxFilters = trust;
  const vp = ctx.child(el, 'virtualport');
  if (vp) {
    if (t === 'network') throw internalError("<virtualport> element unsupported for type='network' in interface's <actual> element");
    a.virtualport = parseNetDevVirtualPort(vp, { requireAllAttributes: true, requireType: true, reader: ctx });
  }
  const src = ctx.child(el, 'source');
  if (t === 'direct' && src) {
    const dev = ctx.attr(src, 'dev');
    const mode = ctx.enumProp(src, 'mode', MACVLAN_MODES);
    a.source = {};
    if (dev !== undefined) a.source.dev = dev;
    if (mode) a.source.mode = mode;
  } else if (t === 'hostdev') {
    const addrEl = src ? ctx.child(src, 'address') : undefined;
    let addrType = addrEl ? ctx.attr(addrEl, 'type') : undefined;
    if (!addrType && src && ctx.child(src, 'vendor')) addrType = 'usb';
    a.hostdev = parseHostdevSubsys(ctx, el, addrType);
  } else if (t === 'bridge' || t === 'network') {
    const cls = ctx.child(el, 'class');
    const id = cls ? ctx.attr(cls, 'id') : undefined;
    if (id !== undefined) {
      const n = strToUInt(id, 10);
      if (n === undefined) throw internalError(`Unable to parse class id '${id}'`);
      a.classId = n;
    }
    if (src) {
      const br = ctx.attr(src, 'bridge');
      if (!br && t === 'bridge') throw internalError("Missing <source> element with bridge name in interface's <actual> element");
      a.source = {};
      if (br) a.source.bridge = br;
      const mtm = ctx.attr(src, 'macTableManager');
      if (mtm !== undefined) {
        const i = (MAC_TABLE_MANAGERS as readonly string[]).indexOf(mtm);
        if (i <= 0) throw xmlError(`Invalid macTableManager setting '${mtm}' in domain interface's <actual> element`);
        a.source.macTableManager = mtm as 'kernel' | 'libvirt';
      }
    }
  }
  const bw = ctx.child(el, 'bandwidth');
  if (bw) {
    const parsed = parseNetDevBandwidth(bw, { allowFloor: t === 'network', allowClassID: true, reader: ctx }).bandwidth;
    if (parsed) a.bandwidth = parsed;
  }
  const vlan = ctx.child(el, 'vlan');
  if (vlan) a.vlan = parseNetDevVlan(vlan, { reader: ctx });
  const port = ctx.child(el, 'port');
  if (port) {
    const iso = ctx.boolProp(port, 'isolated');
    if (iso !== undefined) a.portIsolated = iso;
  }
  return a;
}

// ---- format ----

export interface InterfaceFormatEnv extends DeviceFormatEnv {
  /** Status XML: the actual network connection goes in an <actual> subelement. */
  status?: boolean;
  /** Host name prefixes whose names are generated (left out of inactive XML). */
  netPrefixes?: string[];
}

const GENERATED_PREFIXES = ['vnet', 'macvtap', 'macvlan'];

export function formatInterface(w: XmlWriter, def: InterfaceDef, env: InterfaceFormatEnv): void {
  const publicActual = def.type === 'network' && !!def.actual && !env.inactive && !env.status && !env.migratable;
  const type = publicActual ? def.actual!.type : def.type;
  const hostdev = publicActual ? def.actual!.hostdev : def.type === 'hostdev' ? def.hostdev : undefined;
  w.open('interface', {
    type,
    managed: hostdev?.managed ? 'yes' : undefined,
    trustGuestRxFilters: yesNo(def.trustGuestRxFilters),
  });
  w.empty('mac', {
    address: def.mac.address,
    type: def.mac.type,
    check: yesNo(def.mac.check),
    currentAddress: env.inactive || env.migratable ? undefined : def.mac.currentAddress,
  });
  if (publicActual) {
    formatActualContents(w, def, env, false);
  } else {
    formatSource(w, def, env);
    formatNetDevVlan(w, def.vlan);
    formatNetDevVirtualPort(w, def.virtualport);
    formatNetDevBandwidth(w, def.bandwidth);
    if (def.portIsolated !== undefined) w.empty('port', { isolated: yesNo(def.portIsolated) });
    if (def.type === 'network' && env.status && def.actual) {
      const a = def.actual;
      w.open('actual', {
        type: a.type,
        managed: a.type === 'hostdev' && a.hostdev?.managed ? 'yes' : undefined,
        trustGuestRxFilters: yesNo(def.trustGuestRxFilters),
      });
      formatActualContents(w, def, env, true);
      w.close('actual');
    }
  }
  formatNetIpInfo(w, def.guestIp);
  if (def.script) w.empty('script', { path: def.script });
  if (def.downscript) w.empty('downscript', { path: def.downscript });
  if (def.backenddomain) w.empty('backenddomain', { name: def.backenddomain });
  const dev = def.target?.dev;
  const prefixes = env.netPrefixes ?? GENERATED_PREFIXES;
  const showDev = dev && (def.target?.managed === false || !(env.inactive && prefixes.some((p) => dev.startsWith(p))));
  w.element('target', { dev: showDev ? dev : undefined, managed: yesNo(def.target?.managed) });
  if (def.guest && (def.guest.dev || def.guest.actual)) w.empty('guest', { dev: def.guest.dev, actual: def.guest.actual });
  if (def.model) {
    w.empty('model', { type: def.model });
    if (isVirtioModel(def.model)) {
      const d = def.driver ?? {};
      w.element(
        'driver',
        {
          name: d.name,
          txmode: d.txmode,
          ioeventfd: onOff(d.ioeventfd),
          event_idx: onOff(d.eventIdx),
          queues: d.queues,
          rx_queue_size: d.rxQueueSize,
          tx_queue_size: d.txQueueSize,
          rss: onOff(d.rss),
          rss_hash_report: onOff(d.rssHashReport),
          ...virtioOptionAttrs(def.virtio),
        },
        (c) => {
          const h = d.host ?? {};
          c.element('host', { csum: onOff(h.csum), gso: onOff(h.gso), tso4: onOff(h.tso4), tso6: onOff(h.tso6), ecn: onOff(h.ecn), ufo: onOff(h.ufo), mrg_rxbuf: onOff(h.mrgRxbuf) });
          const g = d.guest ?? {};
          c.element('guest', { csum: onOff(g.csum), tso4: onOff(g.tso4), tso6: onOff(g.tso6), ecn: onOff(g.ecn), ufo: onOff(g.ufo) });
        },
      );
    }
  }
  if (def.backend) w.element('backend', { type: def.backend.type, tap: def.backend.tap, vhost: def.backend.vhost, logFile: def.backend.logFile });
  if (def.filterref) {
    const fr = def.filterref;
    // libvirt keeps parameters in a hash and writes them sorted by name
    const params = [...fr.parameters].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    w.element('filterref', { filter: fr.filter }, (c) => {
      for (const p of params) c.empty('parameter', { name: p.name, value: p.value });
    });
  }
  if (def.tune) {
    w.open('tune');
    w.text('sndbuf', def.tune.sndbuf);
    w.close('tune');
  }
  if (def.teaming) w.empty('teaming', { type: def.teaming.type, persistent: def.teaming.persistent });
  if (def.link) w.empty('link', { state: def.link.state });
  if (def.mtu) w.empty('mtu', { size: def.mtu });
  if (def.coalesce?.rxMaxFrames) {
    w.open('coalesce');
    w.open('rx');
    w.empty('frames', { max: def.coalesce.rxMaxFrames });
    w.close('rx');
    w.close('coalesce');
  }
  formatDeviceInfo(w, def, { allowBoot: true, allowRom: true });
  w.close('interface');
}

function formatSource(w: XmlWriter, def: InterfaceDef, env: InterfaceFormatEnv): void {
  const s = def.source ?? {};
  let attrs: Record<string, string | number | bigint | undefined> | undefined;
  let inner: ((c: XmlWriter) => void) | undefined;
  switch (def.type) {
    case 'network':
      attrs = { network: s.network, portgroup: s.portgroup, portid: env.inactive ? undefined : s.portid };
      break;
    case 'vhostuser':
      if (s.type === 'unix') {
        attrs = { type: 'unix', path: s.path, mode: s.mode };
        const rc = s.reconnect;
        if (rc) inner = (c) => c.empty('reconnect', { enabled: yesNo(rc.enabled), timeout: rc.enabled ? rc.timeout : undefined });
      }
      break;
    case 'bridge':
      if (s.bridge) attrs = { bridge: s.bridge };
      break;
    case 'server':
    case 'client':
    case 'mcast':
    case 'udp':
      attrs = { address: s.address, port: s.port };
      if (def.type === 'udp' && s.local) {
        const l = s.local;
        inner = (c) => c.empty('local', { address: l.address, port: l.port });
      }
      break;
    case 'internal':
      if (s.name) attrs = { name: s.name };
      break;
    case 'direct':
      attrs = { dev: s.dev, mode: s.mode ?? 'vepa' };
      break;
    case 'hostdev':
      if (def.hostdev) formatHostdevSubsys(w, def.hostdev.source, env, true);
      break;
    case 'vdpa':
      if (s.dev) attrs = { dev: s.dev };
      break;
    case 'vds':
      attrs = { switchid: s.switchid, portid: s.portidVds, portgroupid: s.portgroupid, connectionid: s.connectionid };
      break;
    case 'user':
      if (def.backend?.type === 'passt' && s.dev) attrs = { dev: s.dev };
      break;
    default:
      break;
  }
  const hostIp = def.hostIp;
  if (!attrs && !hostIp) return;
  const body = (c: XmlWriter): void => {
    inner?.(c);
    formatNetIpInfo(c, hostIp);
  };
  if (attrs) w.element('source', attrs, body);
  else w.elementAlways('source', undefined, body);
}

/** virDomainActualNetDefContentsFormat. */
function formatActualContents(w: XmlWriter, def: InterfaceDef, env: InterfaceFormatEnv, inSubelement: boolean): void {
  const a = def.actual!;
  if (a.type === 'hostdev') {
    if (a.hostdev) formatHostdevSubsys(w, a.hostdev.source, env, true);
  } else {
    const attrs: Record<string, string | undefined> = {};
    if (def.type === 'network' && !inSubelement) {
      attrs.network = def.source?.network;
      attrs.portgroup = def.source?.portgroup;
      attrs.portid = def.source?.portid;
    }
    if (a.type === 'bridge' || a.type === 'network') {
      attrs.bridge = a.source?.bridge;
      attrs.macTableManager = a.source?.macTableManager;
    } else if (a.type === 'direct') {
      attrs.dev = a.source?.dev;
      attrs.mode = a.source?.mode ?? 'vepa';
    }
    w.empty('source', attrs);
  }
  if (env.status && a.classId) w.empty('class', { id: a.classId });
  formatNetDevVlan(w, a.vlan ?? def.vlan);
  formatNetDevVirtualPort(w, a.virtualport ?? (a.type === 'network' ? def.virtualport : undefined));
  formatNetDevBandwidth(w, a.bandwidth ?? def.bandwidth);
  const iso = a.portIsolated ?? def.portIsolated;
  if (iso !== undefined) w.empty('port', { isolated: yesNo(iso) });
}

// ---- validate ----

/** virDomainNetDefValidate: checks every definition must pass at define. */
export function validateInterface(def: InterfaceDef): void {
  const mac = def.mac.address;
  if (def.hostIp && def.type !== 'ethernet') {
    throw unsupported(
      `Invalid attempt to set network interface host-side IP route and/or address info on interface of type '${def.type}'. This is only supported on interfaces of type 'ethernet'`,
      { element: 'interface/source' },
    );
  }
  if (def.target?.managed === false && def.type !== 'ethernet') {
    throw unsupported(`unmanaged target dev is not supported on interfaces of type '${def.type}'`, {
      element: 'interface/target',
      attribute: 'managed',
      value: 'no',
    });
  }
  if (def.teaming) {
    if (def.teaming.type === 'transient') {
      if (!def.teaming.persistent) throw unsupported("teaming persistent attribute must be set if teaming type is 'transient'");
    } else if (def.teaming.persistent) {
      throw unsupported(`teaming persistent attribute not allowed if teaming type is '${def.teaming.type}'`);
    }
  }
  validatePortOptions(mac, def.type, def.virtualport, def.portIsolated);
  if (!isVirtioModel(def.model) && def.virtio) {
    for (const [k, name] of [['iommu', 'iommu'], ['ats', 'ats'], ['packed', 'packed'], ['pagePerVq', 'page_per_vq']] as const) {
      if (def.virtio[k] !== undefined) throw unsupported(`${name} driver option is only supported for virtio devices`);
    }
  }
  if (def.type !== 'user' && def.backend?.type === 'passt') {
    throw internalError("The 'passt' backend can only be used with interface type='user'");
  }
  if (def.type === 'vhostuser') {
    if (!isVirtioModel(def.model)) {
      throw internalError(
        "Wrong or no <model> 'type' attribute specified with <interface type='vhostuser'/>. vhostuser requires the virtio-net* frontend",
      );
    }
    if (def.source?.mode === 'server' && def.source.reconnect?.enabled) {
      throw unsupported("'reconnect' attribute unsupported 'server' mode for <interface type='vhostuser'>");
    }
  }
}

function validatePortOptions(mac: string, type: string, vp: NetDevVirtualPort | undefined, isolated: boolean | undefined): void {
  if (isolated !== true) return;
  if (type !== 'network' && type !== 'bridge') {
    throw unsupported(`interface ${mac} - <port isolated='yes'/> is not supported for network interfaces with type='${type}'`);
  }
  if (vp?.type) {
    throw unsupported(`interface ${mac} - <port isolated='yes'/> is not supported for network interfaces with virtualport type='${vp.type}'`);
  }
}

/** The type an interface really has once a network port was allocated. */
export function actualInterfaceType(def: InterfaceDef): NetType {
  return def.type === 'network' && def.actual ? def.actual.type : def.type;
}

/**
 * virDomainActualNetDefValidate: what a hypervisor checks once the actual connection is known
 * (at start or hotplug, not at define): VLANs only where the host can apply them, no bandwidth on
 * hostdev interfaces, port isolation only on bridges.
 */
export function validateActualInterface(def: InterfaceDef): void {
  const mac = def.mac.address;
  const type = actualInterfaceType(def);
  const vlan = def.actual?.vlan ?? def.vlan;
  const vp = def.actual?.virtualport ?? def.virtualport;
  const bw = def.actual?.bandwidth ?? def.bandwidth;
  const directMode = def.actual?.source?.mode ?? def.source?.mode;
  if (vlan) {
    const ok = type === 'hostdev' || (type === 'direct' && directMode === 'passthrough') || (type === 'bridge' && vp?.type === 'openvswitch');
    if (!ok) throw unsupported(`interface ${mac} - vlan tag not supported for this connection type`, { element: 'interface/vlan' });
  }
  if (bw && type === 'hostdev') {
    throw unsupported(`interface ${mac} - bandwidth settings are not supported for hostdev interfaces`, { element: 'interface/bandwidth' });
  }
  validatePortOptions(mac, type, vp, def.actual?.portIsolated ?? def.portIsolated);
}
