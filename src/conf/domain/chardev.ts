// Character devices: <serial>, <parallel>, <console> and <channel>, their host side (<source>:
// pty, file, unix, tcp, udp, null, …) and guest side (<target>).
import { isIPv4 } from 'node:net';
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { strToUInt } from '../xmlProps.js';
import type { DeviceFormatEnv, DeviceParseEnv } from './deviceEnv.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './deviceInfo.js';
import { ParseContext, internalError, onOff, unsupported, xmlError, yesNo } from './parseContext.js';

export const CHR_DEVICE_TYPES = ['parallel', 'serial', 'console', 'channel'] as const;
export type ChrDeviceType = (typeof CHR_DEVICE_TYPES)[number];
export const CHR_TYPES = [
  'null', 'vc', 'pty', 'dev', 'file', 'pipe', 'stdio', 'udp', 'tcp', 'unix', 'spicevmc', 'spiceport', 'nmdm',
  'qemu-vdagent', 'dbus',
] as const;
export type ChrType = (typeof CHR_TYPES)[number];
export const SERIAL_TARGET_TYPES = ['none', 'isa-serial', 'usb-serial', 'pci-serial', 'spapr-vio-serial', 'system-serial', 'sclp-serial', 'isa-debug'] as const;
export const SERIAL_TARGET_MODELS = [
  'none', 'isa-serial', 'usb-serial', 'pci-serial', 'spapr-vty', 'pl011', 'sclpconsole', 'sclplmconsole', '16550a', 'isa-debugcon',
] as const;
export const CHANNEL_TARGET_TYPES = ['none', 'guestfwd', 'virtio', 'xen'] as const;
export const CONSOLE_TARGET_TYPES = ['none', 'serial', 'xen', 'uml', 'virtio', 'lxc', 'openvz', 'sclp', 'sclplm'] as const;
export const TCP_PROTOCOLS = ['raw', 'telnet', 'telnets', 'tls'] as const;
const CHR_STATES = ['default', 'connected', 'disconnected'] as const;
const MOUSE_MODES = ['default', 'server', 'client'] as const;

export interface ChrSourceDef {
  type: ChrType;
  /** pty (live only), dev, file, pipe, unix. */
  path?: string;
  /** file: append instead of truncate. */
  append?: boolean;
  /** tcp/unix: bind (listen) or connect. */
  mode?: 'bind' | 'connect';
  host?: string;
  service?: string;
  tls?: boolean;
  /** tcp: <protocol type>, 'raw' by default. */
  protocol?: (typeof TCP_PROTOCOLS)[number];
  reconnect?: { enabled: boolean; timeout?: number };
  /** udp: both ends. */
  bindHost?: string;
  bindService?: string;
  connectHost?: string;
  connectService?: string;
  /** spiceport, dbus */
  channel?: string;
  /** nmdm */
  master?: string;
  slave?: string;
  /** qemu-vdagent */
  clipboardCopypaste?: boolean;
  mouseMode?: 'server' | 'client';
  log?: { file: string; append?: boolean };
}

export interface ChrTargetDef {
  /** serial: isa-serial, usb-serial, …; console: serial, virtio, …; channel: virtio, guestfwd, xen. */
  type?: string;
  /** serial, parallel, console: the guest port (assigned when absent). */
  port?: number;
  /** serial: <model name>. */
  model?: string;
  /** channel virtio/xen: the port name (org.qemu.guest_agent.0). */
  name?: string;
  /** channel virtio, live: agent connection state. */
  state?: 'connected' | 'disconnected';
  /** channel guestfwd: IPv4 address and port. */
  address?: string;
  guestfwdPort?: number;
}

export interface ChrDef extends DeviceInfo {
  /** Which element this is. */
  deviceType: ChrDeviceType;
  source: ChrSourceDef;
  target: ChrTargetDef;
}

function targetTypes(devType: ChrDeviceType): readonly string[] | undefined {
  switch (devType) {
    case 'serial':
      return SERIAL_TARGET_TYPES;
    case 'channel':
      return CHANNEL_TARGET_TYPES;
    case 'console':
      return CONSOLE_TARGET_TYPES;
    default:
      return undefined;
  }
}

function parseTarget(ctx: ParseContext, def: ChrDef, el: XmlElement): void {
  const tt = ctx.attr(el, 'type');
  const types = targetTypes(def.deviceType);
  if (tt !== undefined && types) {
    if (!types.includes(tt)) {
      throw unsupported(`unknown target type '${tt}' specified for character device`, { element: `${def.deviceType}/target`, attribute: 'type', value: tt });
    }
    if (tt !== 'none') def.target.type = tt;
  } else if (tt === undefined) {
    if (def.deviceType === 'channel') throw xmlError('target type must be specified for channel device', { element: 'channel/target' });
  } else if (!types) {
    // parallel ports have no target type; libvirt ignores one
  }
  const modelEl = ctx.child(el, 'model');
  const model = modelEl ? ctx.attr(modelEl, 'name') : undefined;
  if (model !== undefined && model !== '' && def.deviceType === 'serial') {
    if (!(SERIAL_TARGET_MODELS as readonly string[]).includes(model)) {
      throw unsupported(`unknown target model '${model}' specified for character device`, { element: 'serial/target/model', attribute: 'name', value: model });
    }
    if (model !== 'none') def.target.model = model;
  }
  if (def.deviceType === 'channel') {
    if (def.target.type === 'guestfwd') {
      const addr = ctx.attr(el, 'address');
      if (addr === undefined) throw xmlError('guestfwd channel does not define a target address');
      if (!isIPv4(addr)) {
        if (/^[0-9a-fA-F:]+$/.test(addr) && addr.includes(':')) throw unsupported('guestfwd channel only supports IPv4 addresses');
        throw virtError(ErrorNumber.SYSTEM_ERROR, ErrorDomain.NONE, `Cannot parse socket address '${addr}': Name or service not known`);
      }
      def.target.address = addr;
      def.target.guestfwdPort = ctx.uintProp(el, 'port', 10, { required: true })!;
    } else if (def.target.type === 'virtio' || def.target.type === 'xen') {
      const name = ctx.attr(el, 'name');
      if (name !== undefined) def.target.name = name;
      if (def.target.type === 'virtio') {
        if (ctx.live) {
          const st = ctx.enumProp(el, 'state', CHR_STATES, { nonzero: true });
          if (st) def.target.state = st as 'connected' | 'disconnected';
        } else ctx.attr(el, 'state');
      }
    }
    return;
  }
  const port = ctx.attr(el, 'port');
  if (port !== undefined) {
    const p = strToUInt(port, 10);
    if (p === undefined) throw xmlError(`Invalid port number: ${port}`, { element: `${def.deviceType}/target`, attribute: 'port', value: port });
    def.target.port = p;
  }
}

function parseReconnect(ctx: ParseContext, src: XmlElement): ChrSourceDef['reconnect'] {
  const rc = ctx.child(src, 'reconnect');
  if (!rc) return undefined;
  const enabled = ctx.boolProp(rc, 'enabled');
  if (enabled === undefined) return undefined;
  const out: NonNullable<ChrSourceDef['reconnect']> = { enabled };
  if (enabled) out.timeout = ctx.uintProp(rc, 'timeout', 10, { required: true })!;
  return out;
}

function mode(ctx: ParseContext, el: XmlElement): 'bind' | 'connect' {
  return ctx.enumProp(el, 'mode', ['bind', 'connect'] as const) ?? 'connect';
}

/** virDomainChrSourceDefParseXML over the children of `node` (<source>, <log>, <protocol>). */
export function parseChrSource(ctx: ParseContext, node: XmlElement, src: ChrSourceDef): void {
  const sources = ctx.children(node, 'source');
  if (sources.length > 1 && src.type !== 'udp') throw xmlError('only one source element is allowed for character device');
  if (sources.length > 2) throw xmlError('only two source elements are allowed for character device');
  const s = sources[0];
  if (s) {
    switch (src.type) {
      case 'file': {
        const p = ctx.attr(s, 'path');
        if (p !== undefined) src.path = p;
        const ap = ctx.switchProp(s, 'append');
        if (ap !== undefined) src.append = ap;
        break;
      }
      case 'pty': {
        const p = ctx.attr(s, 'path');
        if (ctx.live && p !== undefined) src.path = p; // the pty path exists only while running
        break;
      }
      case 'dev':
      case 'pipe': {
        const p = ctx.attr(s, 'path');
        if (p !== undefined) src.path = p;
        break;
      }
      case 'unix': {
        src.mode = mode(ctx, s);
        const p = ctx.attr(s, 'path');
        if (p !== undefined) src.path = p;
        const rc = parseReconnect(ctx, s);
        if (rc) src.reconnect = rc;
        break;
      }
      case 'udp':
        for (const u of sources) {
          const m = mode(ctx, u);
          const host = ctx.attr(u, 'host');
          const service = ctx.attr(u, 'service');
          if (m === 'connect' && src.connectHost === undefined && src.connectService === undefined) {
            if (host !== undefined) src.connectHost = host;
            if (service !== undefined) src.connectService = service;
          } else if (m === 'bind' && src.bindHost === undefined && src.bindService === undefined) {
            if (host !== undefined) src.bindHost = host;
            if (service !== undefined) src.bindService = service;
          }
        }
        break;
      case 'tcp': {
        src.mode = mode(ctx, s);
        const host = ctx.attr(s, 'host');
        const service = ctx.attr(s, 'service');
        if (host !== undefined) src.host = host;
        if (service !== undefined) src.service = service;
        const tls = ctx.boolProp(s, 'tls');
        if (tls !== undefined) src.tls = tls;
        ctx.attr(s, 'tlsFromConfig');
        const rc = parseReconnect(ctx, s);
        if (rc) src.reconnect = rc;
        break;
      }
      case 'spiceport':
      case 'dbus': {
        const c = ctx.attr(s, 'channel');
        if (c !== undefined) src.channel = c;
        break;
      }
      case 'nmdm': {
        const m = ctx.attr(s, 'master');
        const sl = ctx.attr(s, 'slave');
        if (m !== undefined) src.master = m;
        if (sl !== undefined) src.slave = sl;
        break;
      }
      case 'qemu-vdagent': {
        const cb = ctx.child(s, 'clipboard');
        if (cb) src.clipboardCopypaste = ctx.boolProp(cb, 'copypaste', { required: true })!;
        const mo = ctx.child(s, 'mouse');
        if (mo) src.mouseMode = ctx.enumProp(mo, 'mode', MOUSE_MODES, { required: true, nonzero: true }) as 'server' | 'client';
        break;
      }
      default:
        break;
    }
  }
  const logs = ctx.children(node, 'log');
  if (logs.length > 1) throw xmlError('only one log element is allowed for character device');
  if (logs.length === 1) {
    const file = ctx.attr(logs[0]!, 'file');
    const ap = ctx.switchProp(logs[0]!, 'append');
    if (file !== undefined) src.log = ap === undefined ? { file } : { file, append: ap };
  }
  const protocols = ctx.children(node, 'protocol');
  if (protocols.length > 1) throw xmlError('only one protocol element is allowed for character device');
  if (protocols.length === 1 && src.type === 'tcp') {
    const p = ctx.attr(protocols[0]!, 'type');
    if (p !== undefined) {
      if (!(TCP_PROTOCOLS as readonly string[]).includes(p)) throw unsupported(`Unknown protocol '${p}'`);
      src.protocol = p as ChrSourceDef['protocol'];
    }
  } else if (protocols.length === 1) ctx.attr(protocols[0]!, 'type');
}

export function parseChr(env: DeviceParseEnv, el: XmlElement): ChrDef {
  const { ctx } = env;
  const typeStr = ctx.attr(el, 'type');
  let type: ChrType = 'pty';
  if (typeStr !== undefined) {
    if (!(CHR_TYPES as readonly string[]).includes(typeStr)) {
      throw unsupported(`unknown type presented to host for character device: ${typeStr}`, { element: el.name, attribute: 'type', value: typeStr });
    }
    type = typeStr as ChrType;
  }
  const deviceType = el.name as ChrDeviceType;
  const def: ChrDef = { deviceType, source: { type }, target: {} };
  const target = ctx.child(el, 'target');
  if (target) parseTarget(ctx, def, target);
  else if (deviceType === 'channel') throw xmlError('target type must be specified for channel device', { element: 'channel/target' });
  parseChrSource(ctx, el, def.source);
  if (type === 'spicevmc' && def.target.type !== 'virtio') throw unsupported('spicevmc device type only supports virtio');
  parseDeviceInfo(ctx, el, def, { userAlias: env.userAlias });
  if (deviceType === 'serial' && def.target.type === 'usb-serial' && def.address && def.address.type !== 'usb') {
    throw unsupported('usb-serial requires address of usb type');
  }
  if (deviceType === 'console') ctx.attr(el, 'tty'); // output-only compat attribute
  return def;
}

/** virDomainChrSourceDefFormat: the host-side children. */
export function formatChrSource(w: XmlWriter, src: ChrSourceDef, env: DeviceFormatEnv): void {
  switch (src.type) {
    case 'qemu-vdagent':
      if (src.mouseMode || src.clipboardCopypaste !== undefined) {
        w.open('source');
        if (src.clipboardCopypaste !== undefined) w.empty('clipboard', { copypaste: yesNo(src.clipboardCopypaste) });
        if (src.mouseMode) w.empty('mouse', { mode: src.mouseMode });
        w.close('source');
      }
      break;
    case 'pty':
    case 'dev':
    case 'file':
    case 'pipe':
      if (src.type !== 'pty' || (src.path && !env.inactive)) {
        w.element('source', { path: src.path, append: src.type === 'file' ? onOff(src.append) : undefined });
      }
      break;
    case 'nmdm':
      w.empty('source', { master: src.master ?? '', slave: src.slave ?? '' });
      break;
    case 'udp':
      if (src.bindService || src.bindHost) w.empty('source', { mode: 'bind', host: src.bindHost, service: src.bindService });
      if (src.connectService || src.connectHost) w.empty('source', { mode: 'connect', host: src.connectHost, service: src.connectService });
      break;
    case 'tcp':
      w.element('source', { mode: src.mode === 'bind' ? 'bind' : 'connect', host: src.host, service: src.service, tls: yesNo(src.tls) }, (c) => {
        if (src.reconnect) c.empty('reconnect', { enabled: yesNo(src.reconnect.enabled), timeout: src.reconnect.enabled ? src.reconnect.timeout : undefined });
      });
      w.empty('protocol', { type: src.protocol ?? 'raw' });
      break;
    case 'unix':
      if (src.path) {
        w.element('source', { mode: src.mode === 'bind' ? 'bind' : 'connect', path: src.path }, (c) => {
          if (src.reconnect) c.empty('reconnect', { enabled: yesNo(src.reconnect.enabled), timeout: src.reconnect.enabled ? src.reconnect.timeout : undefined });
        });
      }
      break;
    case 'spiceport':
    case 'dbus':
      w.empty('source', { channel: src.channel });
      break;
    default:
      break;
  }
  if (src.log) w.empty('log', { file: src.log.file, append: onOff(src.log.append) });
}

function formatTarget(w: XmlWriter, def: ChrDef, env: DeviceFormatEnv): void {
  const t = def.target;
  switch (def.deviceType) {
    case 'channel':
      if (t.type === 'guestfwd') w.empty('target', { type: t.type, address: t.address, port: t.guestfwdPort });
      else w.empty('target', { type: t.type ?? 'none', name: t.name, state: t.type === 'virtio' && !env.inactive ? t.state : undefined });
      return;
    case 'console':
      w.empty('target', { type: t.type ?? 'none', port: t.port ?? -1 });
      return;
    case 'serial':
      if (t.model) {
        w.open('target', { type: t.type, port: t.port ?? -1 });
        w.empty('model', { name: t.model });
        w.close('target');
      } else w.empty('target', { type: t.type, port: t.port ?? -1 });
      return;
    case 'parallel':
      w.empty('target', { port: t.port ?? -1 });
      return;
  }
}

export function formatChr(w: XmlWriter, def: ChrDef, env: DeviceFormatEnv): void {
  const ttyCompat = def.deviceType === 'console' && def.target.port === 0 && def.source.type === 'pty' && !env.inactive && !!def.source.path;
  w.open(def.deviceType, { type: def.source.type, tty: ttyCompat ? def.source.path : undefined });
  formatChrSource(w, def.source, env);
  formatTarget(w, def, env);
  formatDeviceInfo(w, def);
  w.close(def.deviceType);
}

/** virDomainChrSourceDefValidate. */
export function validateChrSource(src: ChrSourceDef, chr?: ChrDef): void {
  switch (src.type) {
    case 'file':
    case 'dev':
    case 'pipe':
      if (!src.path) throw internalError('Missing source path attribute for char device');
      break;
    case 'nmdm':
      if (!!src.master !== !!src.slave) throw internalError('Should define both master and slave path attributes for nmdm device');
      break;
    case 'tcp':
      if (!src.host) throw internalError('Missing source host attribute for char device');
      if (!src.service) throw internalError('Missing source service attribute for char device');
      if (src.mode === 'bind' && src.reconnect?.enabled) throw internalError('chardev reconnect is possible only for connect mode');
      break;
    case 'udp':
      if (!src.connectService) throw internalError('Missing source service attribute for char device');
      break;
    case 'unix':
      if (!src.path && !(chr && chr.deviceType === 'channel' && (chr.target.type === 'xen' || chr.target.type === 'virtio'))) {
        throw internalError('Missing source path attribute for char device');
      }
      if (src.mode === 'bind' && src.reconnect?.enabled) throw internalError('chardev reconnect is possible only for connect mode');
      break;
    case 'spiceport':
    case 'dbus':
      if (!src.channel) throw unsupported('Missing source channel attribute for char device');
      if (!/^[A-Za-z0-9_.-]*$/.test(src.channel)) {
        throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.DOMAIN, 'Invalid character in source channel for char device');
      }
      break;
    default:
      break;
  }
}

export function validateChr(def: ChrDef): void {
  validateChrSource(def.source, def);
}

/** virDomainChrSourceDefIsEqual, for the console/serial aliasing. */
export function chrSourceEqual(a: ChrSourceDef, b: ChrSourceDef): boolean {
  if (a.type !== b.type) return false;
  switch (a.type) {
    case 'file':
      return a.path === b.path && a.append === b.append;
    case 'pty':
    case 'dev':
    case 'pipe':
      return a.path === b.path;
    case 'nmdm':
      return a.master === b.master && a.slave === b.slave;
    case 'udp':
      return a.bindHost === b.bindHost && a.bindService === b.bindService && a.connectHost === b.connectHost && a.connectService === b.connectService;
    case 'tcp':
      return (a.mode === 'bind') === (b.mode === 'bind') && a.host === b.host && a.service === b.service && (a.protocol ?? 'raw') === (b.protocol ?? 'raw');
    case 'unix':
      return (a.mode === 'bind') === (b.mode === 'bind') && a.path === b.path;
    case 'spiceport':
    case 'dbus':
      return a.channel === b.channel;
    default:
      return true;
  }
}

// ---- domain-level steps (the parts of libvirt's post-parse that look at all chardevs) ----

/** The parts of a domain the chardev defaults look at. */
export interface ChrDomainView {
  os: { type: string; arch: string };
  devices: { serials?: ChrDef[]; parallels?: ChrDef[]; consoles?: ChrDef[]; channels?: ChrDef[] };
}

const MAX_ISA_SERIAL_PORTS = 4;

/** Ports libvirt assigns while parsing: parallels count up, consoles are numbered by position. */
export function assignParsePorts(view: ChrDomainView): void {
  const par = view.devices.parallels ?? [];
  par.forEach((p, i) => {
    if (p.target.port === undefined) {
      let max = -1;
      for (let j = 0; j < i; j++) max = Math.max(max, par[j]!.target.port ?? -1);
      p.target.port = max + 1;
    }
  });
  (view.devices.consoles ?? []).forEach((c, i) => {
    c.target.port = i;
  });
}

/** virDomainChrIsaSerialDefPostParse: at most 4 ISA serial ports, unique, gaps filled. */
export function assignIsaSerialPorts(view: ChrDomainView): void {
  const serials = view.devices.serials ?? [];
  const used = new Array<boolean>(MAX_ISA_SERIAL_PORTS).fill(false);
  let count = 0;
  for (const s of serials) {
    if (s.target.type !== 'isa-serial') continue;
    if (count++ >= MAX_ISA_SERIAL_PORTS || (s.target.port ?? -1) >= MAX_ISA_SERIAL_PORTS) {
      throw internalError(`Maximum supported number of ISA serial ports is '${MAX_ISA_SERIAL_PORTS}'`);
    }
    const p = s.target.port;
    if (p !== undefined) {
      if (used[p]) throw internalError(`target port '${p}' already allocated`);
      used[p] = true;
    }
  }
  for (const s of serials) {
    if (s.target.type !== 'isa-serial' || s.target.port !== undefined) continue;
    const free = used.indexOf(false);
    if (free >= 0) {
      s.target.port = free;
      used[free] = true;
    }
  }
}

function listFor(view: ChrDomainView, t: ChrDeviceType): ChrDef[] {
  switch (t) {
    case 'serial':
      return view.devices.serials ?? [];
    case 'parallel':
      return view.devices.parallels ?? [];
    case 'console':
      return view.devices.consoles ?? [];
    default:
      return view.devices.channels ?? [];
  }
}

/** virDomainChrDefPostParse: console target defaults to serial, missing ports count up. */
export function postParseChr(chr: ChrDef, view: ChrDomainView): void {
  if (chr.deviceType === 'console' && !chr.target.type) chr.target.type = 'serial';
  if (chr.deviceType === 'serial' && chr.target.type === 'isa-debug' && !['i686', 'x86_64'].includes(view.os.arch)) {
    throw unsupported('isa-debug serial type only valid on x86 architecture');
  }
  if (chr.target.port === undefined && chr.deviceType !== 'channel') {
    let max = -1;
    for (const o of listFor(view, chr.deviceType)) max = Math.max(max, o.target.port ?? -1);
    chr.target.port = max + 1;
  }
}

/** A console that only stands for serials[n] (written from the serial's data). */
function consoleStub(): ChrDef {
  return { deviceType: 'console', source: { type: 'null' }, target: { type: 'serial' } };
}

/** virDomainDefAddConsoleCompat: the first console of an HVM guest is an alias of the first serial. */
export function addConsoleCompat(view: ChrDomainView): void {
  const consoles = (view.devices.consoles ??= []);
  for (let i = 1; i < consoles.length; i++) {
    if (consoles[i]!.target.type === 'serial') throw unsupported('Only the first console can be a serial port');
  }
  const serials = (view.devices.serials ??= []);
  const first = consoles[0];
  if (first && view.os.type === 'hvm' && (first.target.type === 'serial' || first.target.type === undefined)) {
    if (serials.length === 0) {
      // the console becomes the serial port, and a stub console points at it
      const { deviceType: _d, target: _t, ...rest } = first;
      serials.push({ ...rest, deviceType: 'serial', target: { port: 0 } });
      consoles[0] = consoleStub();
    } else if (!chrSourceEqual(serials[0]!.source, first.source)) {
      consoles[0] = consoleStub();
    }
  } else if (view.os.type === 'hvm' && serials.length > 0 && serials[0]!.deviceType === 'serial') {
    const t = serials[0]!.target.type;
    if (t === undefined || t === 'isa-serial' || t === 'spapr-vio-serial' || t === 'system-serial' || t === 'sclp-serial') {
      consoles.unshift(consoleStub());
    }
  }
  if (consoles.length === 0) delete view.devices.consoles;
  if (serials.length === 0) delete view.devices.serials;
}

/** The console as libvirt writes it: console n of an HVM guest aliasing serial n takes its data. */
export function consoleForFormat(view: ChrDomainView, n: number): ChrDef {
  const c = (view.devices.consoles ?? [])[n]!;
  const serials = view.devices.serials ?? [];
  if (view.os.type === 'hvm' && (c.target.type === 'serial' || c.target.type === undefined) && n < serials.length) {
    const s = serials[n]!;
    return { ...s, deviceType: 'console', target: { type: 'serial', port: s.target.port ?? -1 } };
  }
  return c;
}
