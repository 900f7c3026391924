// Network XML → NetworkDef with libvirt 9.0's rules (network_conf.c virNetworkDefParseXML and
// helpers): the same element lookups (first match where libvirt reads one), the same checks in
// the same order, the same error codes, domains and messages.
import { ErrorDomain, ErrorNumber, virtError, type ErrorFault, type VirtError } from '../../errors/index.js';
import { parseMacAddr, isMulticastMac } from '../macAddr.js';
import { parseNetDevBandwidth } from '../netdevBandwidth.js';
import { parseNetDevVirtualPort } from '../netdevVirtualPort.js';
import { parseNetDevVlan } from '../netdevVlan.js';
import { formatUuid, generateUuid, parseUuid } from '../uuid.js';
import { isElement, textOf, type XmlElement } from '../xml/xmlTree.js';
import { checkIllegalChars, plainReader, propEnum, propUInt, propULongLong, propYesNo, strToUInt, strToULongLongP, type XmlReader } from '../xmlProps.js';
import {
  NETWORK_FORWARD_MODES,
  type DhcpHost,
  type DhcpLease,
  type DhcpLeaseUnit,
  type DhcpRange,
  type NetworkDef,
  type NetworkDhcp,
  type NetworkDns,
  type NetworkDnsSrv,
  type NetworkForward,
  type NetworkForwardMode,
  type NetworkIp,
  type NetworkIpFamily,
  type NetworkPortGroup,
  type NetworkRoute,
} from './networkDef.js';
import { formatPciAddressText, parsePciAddress, pciAddressEqual } from './pciAddress.js';
import {
  checkAddrRange,
  formatSocketAddr,
  ipPrefixOf,
  maskAddr,
  maskByPrefix,
  parseSocketAddr,
  socketAddrEqual,
  socketAddrParseError,
  type SocketAddr,
} from './socketAddr.js';

export const DNSMASQ_NAMESPACE = 'http://libvirt.org/schemas/network/dnsmasq/1.0';

export interface NetworkParseOptions {
  reader?: XmlReader;
  /** Read the network driver's <dnsmasq:options> (the test driver has no such namespace). */
  dnsmasqNamespace?: boolean;
}

const NET = ErrorDomain.NETWORK;

function xmlErr(msg: string, fault?: ErrorFault): VirtError {
  return virtError(ErrorNumber.XML_ERROR, NET, msg, fault);
}
function detailErr(msg: string, fault?: ErrorFault): VirtError {
  return virtError(ErrorNumber.XML_DETAIL, NET, msg, fault);
}
function unsupported(msg: string, fault?: ErrorFault): VirtError {
  return virtError(ErrorNumber.CONFIG_UNSUPPORTED, NET, msg, fault);
}

/** XPath string(): the text of the element, or undefined when it is missing or empty. */
function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}

/** virNetworkDefParseXML on the <network> element. */
export function parseNetworkElement(root: XmlElement, opts: NetworkParseOptions = {}): NetworkDef {
  const r = opts.reader ?? plainReader;
  const first = (name: string) => r.child(root, name);

  const nameEl = first('name');
  const name = nonEmpty(nameEl ? textOf(nameEl) : undefined);
  if (name === undefined) throw virtError(ErrorNumber.NO_NAME, NET, undefined, { element: 'name' });
  checkIllegalChars('name', name, '/');

  const uuidEl = first('uuid');
  const uuidText = nonEmpty(uuidEl ? textOf(uuidEl) : undefined);
  let uuid: string;
  if (uuidText === undefined) {
    uuid = formatUuid(generateUuid());
  } else {
    const u = parseUuid(uuidText);
    if (!u) throw virtError(ErrorNumber.INTERNAL_ERROR, NET, 'malformed uuid element', { element: 'uuid', value: uuidText });
    uuid = formatUuid(u);
  }
  const def: NetworkDef = { name, uuid, uuidSpecified: uuidText !== undefined, ip: [], route: [], portgroup: [] };

  const ipv6 = r.attr(root, 'ipv6');
  if (ipv6 !== undefined) {
    if (ipv6 !== 'yes' && ipv6 !== 'no') {
      throw xmlErr(`Invalid ipv6 setting '${ipv6}' in network '${name}'`, { element: 'network', attribute: 'ipv6', value: ipv6 });
    }
    if (ipv6 === 'yes') def.ipv6 = true;
  }
  const trust = propYesNo(r, root, 'trustGuestRxFilters');
  if (trust !== undefined) def.trustGuestRxFilters = trust;

  const domainEl = first('domain');
  if (domainEl) {
    const dname = r.attr(domainEl, 'name');
    const localOnly = propYesNo(r, domainEl, 'localOnly');
    if (dname !== undefined || localOnly !== undefined) {
      def.domain = {};
      if (dname !== undefined) def.domain.name = dname;
      if (localOnly !== undefined) def.domain.localOnly = localOnly;
    }
  }

  const bwEl = first('bandwidth');
  if (bwEl) {
    const bw = parseNetDevBandwidth(bwEl, { reader: r }).bandwidth;
    if (bw) def.bandwidth = bw;
  }
  const vlanEl = first('vlan');
  if (vlanEl) def.vlan = parseNetDevVlan(vlanEl, { reader: r });
  const portEl = first('port');
  if (portEl) {
    const isolated = propYesNo(r, portEl, 'isolated');
    if (isolated !== undefined) def.port = { isolated };
  }

  const bridgeEl = first('bridge');
  if (bridgeEl) {
    const b: NonNullable<NetworkDef['bridge']> = {};
    const bname = nonEmpty(r.attr(bridgeEl, 'name'));
    if (bname !== undefined) b.name = bname;
    const zone = nonEmpty(r.attr(bridgeEl, 'zone'));
    if (zone !== undefined) b.zone = zone;
    const stp = nonEmpty(r.attr(bridgeEl, 'stp'));
    if (stp !== undefined) b.stp = stp !== 'off';
    const delay = nonEmpty(r.attr(bridgeEl, 'delay'));
    if (delay !== undefined) {
      const d = strToULongLongP(delay, 10);
      if (d === undefined) throw xmlErr(`Invalid delay value in network '${name}'`, { element: 'bridge', attribute: 'delay', value: delay });
      b.delay = d;
    }
    const mtm = nonEmpty(r.attr(bridgeEl, 'macTableManager'));
    if (mtm !== undefined) {
      if (mtm !== 'kernel' && mtm !== 'libvirt') {
        throw xmlErr(`Invalid macTableManager setting '${mtm}' in network '${name}'`, {
          element: 'bridge',
          attribute: 'macTableManager',
          value: mtm,
        });
      }
      b.macTableManager = mtm;
    }
    def.bridge = b;
  }

  const macEl = first('mac');
  const mac = macEl ? nonEmpty(r.attr(macEl, 'address')) : undefined;
  if (mac !== undefined) {
    const m = parseMacAddr(mac);
    const fault = { element: 'mac', attribute: 'address', value: mac };
    if (!m) throw xmlErr(`Invalid bridge mac address '${mac}' in network '${name}'`, fault);
    if (isMulticastMac(m)) throw xmlErr(`Invalid multicast bridge mac address '${mac}' in network '${name}'`, fault);
    def.mac = Array.from(m, (b) => b.toString(16).padStart(2, '0')).join(':');
  }

  const mtuEl = first('mtu');
  const mtu = mtuEl ? nonEmpty(r.attr(mtuEl, 'size')) : undefined;
  if (mtu !== undefined) {
    const v = strToUInt(mtu, 10);
    if (v === undefined) throw xmlErr(`Invalid mtu size '${mtu}' in network '${name}'`, { element: 'mtu', attribute: 'size', value: mtu });
    if (v) def.mtu = v;
  }

  const dnsEl = first('dns');
  if (dnsEl) {
    const dns = parseDns(r, name, dnsEl);
    if (dns) def.dns = dns;
  }

  const vpEl = first('virtualport');
  if (vpEl) def.virtualport = parseNetDevVirtualPort(vpEl, { requireType: true, reader: r });

  for (const pg of r.children(root, 'portgroup')) def.portgroup.push(parsePortGroup(r, pg));

  const ipAddrs: { addr: SocketAddr; prefix: number }[] = [];
  for (const ipEl of r.children(root, 'ip')) {
    const { ip, addr, netmask } = parseIp(r, name, ipEl);
    def.ip.push(ip);
    ipAddrs.push({ addr, prefix: ipPrefixOf(addr, netmask, ip.prefix) });
  }

  for (const routeEl of r.children(root, 'route')) def.route.push(parseRoute(r, name, routeEl));
  // Each static route's gateway must be directly reachable from one of the network's addresses.
  for (const route of def.route) {
    const gw = parseSocketAddr(route.gateway)!;
    const reachable = ipAddrs.some(({ addr, prefix }) => {
      if (addr.family !== gw.family) return false;
      const a = maskByPrefix(addr, prefix);
      const g = maskByPrefix(gw, prefix);
      return !!a && !!g && socketAddrEqual(a, g);
    });
    if (!reachable) {
      throw unsupported(`unreachable static route gateway '${route.gateway}' specified for network '${name}'`, {
        element: 'route',
        attribute: 'gateway',
        value: route.gateway,
      });
    }
  }

  const fwdEl = first('forward');
  if (fwdEl) {
    const fwd = parseForward(r, name, fwdEl);
    if (fwd) def.forward = fwd;
  }
  checkForwardMode(def);

  const metaEl = first('metadata');
  if (metaEl) def.metadata = sanitizeMetadata(metaEl);

  if (opts.dnsmasqNamespace) {
    const options = parseDnsmasqOptions(r, root);
    if (options) def.dnsmasqOptions = options;
  }
  return def;
}

// ---- forward ----

function parseForward(r: XmlReader, net: string, el: XmlElement): NetworkForward | undefined {
  const modeAttr = nonEmpty(r.attr(el, 'mode'));
  let mode: NetworkForwardMode | 'none' = 'nat';
  if (modeAttr !== undefined) {
    if (modeAttr !== 'none' && !(NETWORK_FORWARD_MODES as readonly string[]).includes(modeAttr)) {
      throw unsupported(`unknown forwarding type '${modeAttr}'`, { element: 'forward', attribute: 'mode', value: modeAttr });
    }
    mode = modeAttr as NetworkForwardMode | 'none';
  }
  const fwd: NetworkForward = { mode: mode === 'none' ? 'nat' : mode, interface: [], address: [] };
  const managed = r.attr(el, 'managed');
  if (managed !== undefined && managed.toLowerCase() === 'yes') fwd.managed = true;

  const driverEl = r.child(el, 'driver');
  const driverName = driverEl ? nonEmpty(r.attr(driverEl, 'name')) : undefined;
  if (driverName !== undefined) {
    if (driverName !== 'kvm' && driverName !== 'vfio') {
      throw unsupported(`Unknown forward <driver name='${driverName}'/> in network ${net}`, {
        element: 'forward/driver',
        attribute: 'name',
        value: driverName,
      });
    }
    fwd.driver = { name: driverName };
  }

  const ifEls = r.children(el, 'interface');
  const addrEls = r.children(el, 'address');
  const pfEls = r.children(el, 'pf');
  const natEls = r.children(el, 'nat');

  if (natEls.length > 1) throw xmlErr(`Only one <nat> element is allowed in <forward> of network ${net}`, { element: 'forward/nat' });
  if (natEls.length === 1) parseNat(r, net, natEls[0]!, fwd, mode);

  const dev = nonEmpty(r.attr(el, 'dev'));
  if (dev !== undefined && (addrEls.length > 0 || pfEls.length > 0)) {
    // libvirt 9.0 prints a literal %s here (a missing argument in its format string).
    throw xmlErr("the <forward> 'dev' attribute cannot be used when <address> or <pf> sub-elements are present in network %s", {
      element: 'forward',
      attribute: 'dev',
      value: dev,
    });
  }

  if (ifEls.length > 0 || dev !== undefined) {
    if (dev !== undefined) fwd.interface.push({ dev });
    ifEls.forEach((ifEl, i) => {
      const d = r.attr(ifEl, 'dev');
      if (d === undefined) {
        throw xmlErr(`Missing required dev attribute in <forward> <interface> element of network ${net}`, { element: 'forward/interface' });
      }
      if (i === 0 && dev !== undefined) {
        if (d !== dev) {
          throw xmlErr(`<forward dev='${dev}'> must match first <interface dev='${d}'/> in network ${net}`, {
            element: 'forward/interface',
            attribute: 'dev',
            value: d,
          });
        }
        return;
      }
      if (fwd.interface.some((x) => x.dev === d)) {
        throw xmlErr(`interface '${d}' can only be listed once in network ${net}`, { element: 'forward/interface', attribute: 'dev', value: d });
      }
      fwd.interface.push({ dev: d });
    });
  } else if (addrEls.length > 0) {
    for (const a of addrEls) {
      const type = r.attr(a, 'type');
      if (type === undefined) throw xmlErr(`missing address type in network ${net}`, { element: 'forward/address' });
      if (type !== 'pci') {
        if (type === 'none' || type === 'netdev') {
          throw xmlErr(`unsupported address type '${type}' in network ${net}`, { element: 'forward/address', attribute: 'type', value: type });
        }
        throw unsupported(`unknown address type '${type}' in network ${net}`, { element: 'forward/address', attribute: 'type', value: type });
      }
      const pci = parsePciAddress(a, r);
      if (fwd.address.some((x) => pciAddressEqual(x, pci))) {
        throw xmlErr(`PCI device '${formatPciAddressText(pci)}' can only be listed once in network ${net}`, { element: 'forward/address' });
      }
      fwd.address.push(pci);
    }
  } else if (pfEls.length > 1) {
    throw xmlErr(`Only one <pf> element is allowed in <forward> of network ${net}`, { element: 'forward/pf' });
  } else if (pfEls.length === 1) {
    const pfDev = r.attr(pfEls[0]!, 'dev');
    if (pfDev === undefined) throw xmlErr(`Missing required dev attribute in <pf> element of network '${net}'`, { element: 'forward/pf' });
    fwd.pf = { dev: pfDev };
  }
  return mode === 'none' ? undefined : fwd;
}

function parseNat(r: XmlReader, net: string, el: XmlElement, fwd: NetworkForward, mode: string): void {
  if (mode !== 'nat') {
    throw xmlErr(`The <nat> element can only be used when <forward> 'mode' is 'nat' in network ${net}`, { element: 'forward/nat' });
  }
  const nat: NonNullable<NetworkForward['nat']> = {};
  const ipv6 = propYesNo(r, el, 'ipv6');
  if (ipv6 !== undefined) nat.ipv6 = ipv6;

  const addrEls = r.children(el, 'address');
  let start: string | undefined;
  let end: string | undefined;
  if (addrEls.length > 1) throw xmlErr(`Only one <address> element is allowed in <nat> in <forward> in network ${net}`, { element: 'forward/nat/address' });
  if (addrEls.length === 1) {
    start = r.attr(addrEls[0]!, 'start');
    if (start === undefined) {
      throw xmlErr(`missing 'start' attribute in <address> element in <nat> in <forward> in network ${net}`, { element: 'forward/nat/address' });
    }
    end = r.attr(addrEls[0]!, 'end');
    if (end === undefined) {
      throw xmlErr(`missing 'end' attribute in <address> element in <nat> in <forward> in network ${net}`, { element: 'forward/nat/address' });
    }
    const s = parseSocketAddr(start, 4);
    if (!s) throw xmlErr(`Bad ipv4 start address '${start}' in <nat> in <forward> in network '${net}'`, { element: 'forward/nat/address', attribute: 'start', value: start });
    const e = parseSocketAddr(end, 4);
    if (!e) throw xmlErr(`Bad ipv4 end address '${end}' in <nat> in <forward> in network '${net}'`, { element: 'forward/nat/address', attribute: 'end', value: end });
    checkAddrRange(s, e);
    nat.address = { start: formatSocketAddr(s), end: formatSocketAddr(e) };
  }

  const portEls = r.children(el, 'port');
  if (portEls.length > 1) throw xmlErr(`Only one <port> element is allowed in <nat> in <forward> in network ${net}`, { element: 'forward/nat/port' });
  if (portEls.length === 1) {
    const p = portEls[0]!;
    const ps = nonEmpty(r.attr(p, 'start'));
    const pstart = ps === undefined ? undefined : strToUInt(ps, 10);
    if (pstart === undefined || pstart > 65535) {
      throw detailErr(`Missing or invalid 'start' attribute in <port> in <nat> in <forward> in network ${net}`, { element: 'forward/nat/port', attribute: 'start' });
    }
    const pe = nonEmpty(r.attr(p, 'end'));
    const pend = pe === undefined ? undefined : strToUInt(pe, 10);
    if (pend === undefined || pend > 65535 || pend < pstart) {
      throw detailErr(`Missing or invalid 'end' attribute in <port> in <nat> in <forward> in network ${net}`, { element: 'forward/nat/port', attribute: 'end' });
    }
    nat.port = { start: pstart, end: pend };
  }
  if (nat.ipv6 !== undefined || nat.address || nat.port) fwd.nat = nat;
}

/** The checks of the main definition that depend on the forward mode. */
function checkForwardMode(def: NetworkDef): void {
  const mode = def.forward?.mode ?? 'none';
  const n = def.name;
  const nifs = def.forward ? def.forward.interface.length + def.forward.address.length : 0;
  const b = def.bridge;
  switch (mode) {
    case 'none':
      break;
    case 'route':
    case 'nat':
    case 'open':
      // libvirt 9.0 also requires an address for open networks.
      if (def.ip.length === 0) throw xmlErr(`${mode} forwarding requested, but no IP address provided for network '${n}'`, { element: 'forward' });
      if (mode === 'open') {
        if (nifs) throw xmlErr(`forward dev not allowed for network '${n}' with forward mode='${mode}'`, { element: 'forward' });
      } else if (nifs > 1) {
        throw xmlErr(`multiple forwarding interfaces specified for network '${n}', only one is supported`, { element: 'forward/interface' });
      }
      break;
    case 'private':
    case 'vepa':
    case 'passthrough':
    case 'hostdev':
    case 'bridge':
      if (mode !== 'bridge') {
        if (b?.name !== undefined) throw xmlErr(`bridge name not allowed in ${mode} mode (network '${n}')`, { element: 'bridge', attribute: 'name' });
        if (b?.zone !== undefined) throw xmlErr(`bridge zone not allowed in ${mode} mode (network '${n}')`, { element: 'bridge', attribute: 'zone' });
        if (b?.macTableManager !== undefined) {
          throw xmlErr(`bridge macTableManager setting not allowed in ${mode} mode (network '${n}')`, { element: 'bridge', attribute: 'macTableManager' });
        }
      }
      if (b?.delay || b?.stp !== undefined || b?.zone !== undefined) {
        throw xmlErr(`bridge delay/stp/zone options only allowed in route, nat, and isolated mode, not in ${mode} (network '${n}')`, { element: 'bridge' });
      }
      if (b?.name !== undefined && (nifs || def.forward?.pf)) {
        throw xmlErr(`A network with forward mode='${mode}' can specify a bridge name or a forward dev, but not both (network '${n}')`, { element: 'bridge' });
      }
      break;
  }
  if (def.mtu && mode !== 'none' && mode !== 'nat' && mode !== 'route' && mode !== 'open') {
    throw xmlErr(`mtu size only allowed in open, route, nat, and isolated mode, not in ${mode} (network '${n}')`, { element: 'mtu' });
  }
}

// ---- ip, dhcp ----

function parseFamily(s: string | undefined): NetworkIpFamily | undefined {
  return s === 'ipv4' || s === 'ipv6' ? s : undefined;
}

function parseIp(r: XmlReader, net: string, el: XmlElement): { ip: NetworkIp; addr: SocketAddr; netmask?: SocketAddr } {
  const familyText = nonEmpty(r.attr(el, 'family'));
  const address = nonEmpty(r.attr(el, 'address'));
  if (address === undefined) throw xmlErr(`Missing required address attribute in network '${net}'`, { element: 'ip' });
  const addr = parseSocketAddr(address);
  if (!addr) throw xmlErr(`Invalid address '${address}' in network '${net}'`, { element: 'ip', attribute: 'address', value: address });
  const netmaskText = nonEmpty(r.attr(el, 'netmask'));
  let netmask: SocketAddr | undefined;
  if (netmaskText !== undefined) {
    netmask = parseSocketAddr(netmaskText);
    if (!netmask) throw xmlErr(`Invalid netmask '${netmaskText}' in network '${net}'`, { element: 'ip', attribute: 'netmask', value: netmaskText });
  }
  const prefix = propUInt(r, el, 'prefix') ?? 0;
  const localPtr = propYesNo(r, el, 'localPtr');

  if (familyText === undefined || familyText === 'ipv4') {
    if (addr.family !== 4) {
      throw unsupported(`${familyText === undefined ? 'no' : 'ipv4'} family specified for non-IPv4 address '${address}' in network '${net}'`, {
        element: 'ip',
        attribute: 'address',
        value: address,
      });
    }
    if (netmask) {
      if (netmask.family !== 4) {
        throw unsupported(`Invalid netmask '${netmaskText}' for address '${address}' in network '${net}' (both must be IPv4)`, {
          element: 'ip',
          attribute: 'netmask',
          value: netmaskText,
        });
      }
      if (prefix > 0) throw unsupported(`Network '${net}' IP address cannot have both a prefix and a netmask`, { element: 'ip' });
    } else if (prefix > 32) {
      throw unsupported(`Invalid IPv4 prefix '${prefix}' in network '${net}'`, { element: 'ip', attribute: 'prefix', value: String(prefix) });
    }
  } else if (familyText === 'ipv6') {
    if (addr.family !== 6) {
      throw unsupported(`Family 'ipv6' specified for non-IPv6 address '${address}' in network '${net}'`, { element: 'ip', attribute: 'address', value: address });
    }
    if (netmask) throw unsupported(`netmask not allowed for IPv6 address '${address}' in network '${net}'`, { element: 'ip', attribute: 'netmask' });
    if (prefix > 128) throw unsupported(`Invalid IPv6 prefix '${prefix}' in network '${net}'`, { element: 'ip', attribute: 'prefix', value: String(prefix) });
  } else {
    throw xmlErr(`Unrecognized family '${familyText}' in network '${net}'`, { element: 'ip', attribute: 'family', value: familyText });
  }

  const ip: NetworkIp = { address: formatSocketAddr(addr) };
  const family = parseFamily(familyText);
  if (family) ip.family = family;
  if (netmask) ip.netmask = formatSocketAddr(netmask);
  if (prefix > 0) ip.prefix = prefix;
  if (localPtr !== undefined) ip.localPtr = localPtr;

  const dhcpEl = r.child(el, 'dhcp');
  if (dhcpEl) {
    const dhcp = parseDhcp(r, net, dhcpEl, addr, ipPrefixOf(addr, netmask, prefix));
    if (dhcp) ip.dhcp = dhcp;
  }
  const tftpEl = r.child(el, 'tftp');
  if (tftpEl) {
    if (addr.family !== 4) throw unsupported(`Unsupported <tftp> element in an IPv6 element in network '${net}'`, { element: 'ip/tftp' });
    const root = nonEmpty(r.attr(tftpEl, 'root'));
    if (root !== undefined) ip.tftp = { root };
  }
  return netmask ? { ip, addr, netmask } : { ip, addr };
}

const LEASE_UNITS = ['seconds', 'minutes', 'hours'] as const;

function parseLease(r: XmlReader, el: XmlElement): DhcpLease | undefined {
  const expiry = propULongLong(r, el, 'expiry', { base: 0 });
  if (expiry === undefined) return undefined;
  const unit: DhcpLeaseUnit = propEnum(r, el, 'unit', LEASE_UNITS) ?? 'minutes';
  // dnsmasq's minimum lease time is two minutes.
  if (expiry > 0n && ((unit === 'seconds' && expiry < 120n) || (unit === 'minutes' && expiry < 2n))) {
    throw unsupported('The minimum lease time should be greater than 2 minutes', { element: 'lease', attribute: 'expiry', value: r.attr(el, 'expiry') });
  }
  return expiry === 0n ? { expiry } : { expiry, unit };
}

function parseDhcp(r: XmlReader, net: string, el: XmlElement, address: SocketAddr, prefix: number): NetworkDhcp | undefined {
  const dhcp: NetworkDhcp = { range: [], host: [] };
  // libvirt 9.0 walks the children in document order, so the first bad one is reported.
  for (const c of r.children(el)) {
    if (c.name === 'range') dhcp.range.push(parseRange(r, net, c, address, prefix));
    else if (c.name === 'host') dhcp.host.push(parseDhcpHost(r, net, c, address));
    else if (c.name === 'bootp' && address.family === 4) {
      const file = r.attr(c, 'file');
      if (file === undefined) continue;
      const server = r.attr(c, 'server');
      let serverText: string | undefined;
      if (server !== undefined) {
        const s = parseSocketAddr(server);
        if (!s) throw socketAddrParseError(server);
        serverText = formatSocketAddr(s);
      }
      dhcp.bootp = serverText !== undefined ? { file, server: serverText } : { file };
    }
  }
  return dhcp.range.length || dhcp.host.length || dhcp.bootp ? dhcp : undefined;
}

function parseRange(r: XmlReader, net: string, el: XmlElement, address: SocketAddr, prefix: number): DhcpRange {
  const startText = r.attr(el, 'start');
  if (startText === undefined) throw xmlErr(`Missing 'start' attribute in dhcp range for network '${net}'`, { element: 'dhcp/range' });
  const start = parseSocketAddr(startText);
  if (!start) throw socketAddrParseError(startText);
  const endText = r.attr(el, 'end');
  if (endText === undefined) throw xmlErr(`Missing 'end' attribute in dhcp range for network '${net}'`, { element: 'dhcp/range' });
  const end = parseSocketAddr(endText);
  if (!end) throw socketAddrParseError(endText);
  checkAddrRange(start, end, address, prefix);
  const range: DhcpRange = { start: formatSocketAddr(start), end: formatSocketAddr(end) };
  const leaseEl = r.child(el, 'lease');
  if (leaseEl) {
    const lease = parseLease(r, leaseEl);
    if (lease) range.lease = lease;
  }
  return range;
}

/** virNetworkDHCPHostDefParseXML (partialOkay selects the looser rules of network-update delete). */
export function parseDhcpHost(r: XmlReader, net: string, el: XmlElement, address: SocketAddr, partialOkay = false): DhcpHost {
  const mac = r.attr(el, 'mac');
  const fault = { element: 'dhcp/host' };
  if (mac !== undefined) {
    if (address.family === 6) throw xmlErr(`Invalid to specify MAC address '${mac}' in network '${net}' IPv6 static host definition`, fault);
    const m = parseMacAddr(mac);
    if (!m) throw xmlErr(`Cannot parse MAC address '${mac}' in network '${net}'`, { ...fault, attribute: 'mac', value: mac });
    if (isMulticastMac(m)) throw xmlErr(`expected unicast mac address, found multicast '${mac}' in network '${net}'`, { ...fault, attribute: 'mac', value: mac });
  }
  const id = r.attr(el, 'id');
  if (id !== undefined) {
    const bad = /[^0-9a-fA-F:]/.exec(id);
    if (bad) throw xmlErr(`Invalid character '${bad[0]}' in id '${id}' of network '${net}'`, { ...fault, attribute: 'id', value: id });
  }
  const name = r.attr(el, 'name');
  if (name !== undefined && !/^[A-Za-z0-9]/.test(name)) {
    throw xmlErr(`Cannot use host name '${name}' in network '${net}'`, { ...fault, attribute: 'name', value: name });
  }
  const ipText = r.attr(el, 'ip');
  let ip: SocketAddr | undefined;
  if (ipText !== undefined) {
    ip = parseSocketAddr(ipText);
    if (!ip) throw xmlErr(`Invalid IP address in static host definition for network '${net}'`, { ...fault, attribute: 'ip', value: ipText });
  }
  if (partialOkay) {
    if (mac === undefined && name === undefined && ipText === undefined) {
      throw xmlErr(`At least one of name, mac, or ip attribute must be specified for static host definition in network '${net}'`, fault);
    }
  } else {
    if (address.family === 6) {
      if (id === undefined && name === undefined) throw xmlErr(`Static host definition in IPv6 network '${net}' must have id or name attribute`, fault);
    } else if (mac === undefined && name === undefined) {
      throw xmlErr(`Static host definition in IPv4 network '${net}' must have mac or name attribute`, fault);
    }
    if (ipText === undefined) throw xmlErr(`Missing IP address in static host definition for network '${net}'`, fault);
  }
  const host: DhcpHost = {};
  if (mac !== undefined) host.mac = mac;
  if (id !== undefined) host.id = id;
  if (name !== undefined) host.name = name;
  if (ip) host.ip = formatSocketAddr(ip);
  const leaseEl = r.child(el, 'lease');
  if (leaseEl) {
    const lease = parseLease(r, leaseEl);
    if (lease) host.lease = lease;
  }
  return host;
}

// ---- dns ----

const PROTOCOL_CHARS = /^[A-Za-z0-9+/-]*$/;
const SERVICE_CHARS = /^[A-Za-z0-9_+/*-]*$/;
const DNS_RECORD_LENGTH_SRV = 512 - 30;

function parseDns(r: XmlReader, net: string, el: XmlElement): NetworkDns | undefined {
  const dns: NetworkDns = { forwarder: [], txt: [], srv: [], host: [] };
  const enable = propYesNo(r, el, 'enable');
  if (enable !== undefined) dns.enable = enable;
  const fpn = propYesNo(r, el, 'forwardPlainNames');
  if (fpn !== undefined) dns.forwardPlainNames = fpn;

  for (const f of r.children(el, 'forwarder')) {
    const addr = r.attr(f, 'addr');
    const fwd: NetworkDns['forwarder'][number] = {};
    if (addr !== undefined) {
      const a = parseSocketAddr(addr);
      if (!a) throw xmlErr(`Invalid forwarder IP address '${addr}' in network '${net}'`, { element: 'dns/forwarder', attribute: 'addr', value: addr });
      fwd.addr = formatSocketAddr(a);
    }
    const domain = r.attr(f, 'domain');
    if (domain !== undefined) fwd.domain = domain;
    if (addr === undefined && domain === undefined) {
      throw xmlErr('Invalid forwarder element, must contain at least one of addr or domain', { element: 'dns/forwarder' });
    }
    dns.forwarder.push(fwd);
  }
  for (const h of r.children(el, 'host')) dns.host.push(parseDnsHost(r, net, h));
  for (const s of r.children(el, 'srv')) dns.srv.push(parseDnsSrv(r, net, s));
  for (const t of r.children(el, 'txt')) {
    const tname = r.attr(t, 'name');
    if (tname === undefined) throw detailErr(`missing required name attribute in DNS TXT record of network ${net}`, { element: 'dns/txt' });
    if (/[ ,]/.test(tname)) {
      throw detailErr(`prohibited character in DNS TXT record name '${tname}' of network ${net}`, { element: 'dns/txt', attribute: 'name', value: tname });
    }
    const value = r.attr(t, 'value');
    if (value === undefined) throw detailErr(`missing required value attribute in DNS TXT record named '${tname}' of network ${net}`, { element: 'dns/txt' });
    dns.txt.push({ name: tname, value });
  }
  const nonempty = dns.forwarder.length || dns.host.length || dns.srv.length || dns.txt.length;
  if (dns.enable === false && nonempty) throw xmlErr(`Extra data in disabled network '${net}'`, { element: 'dns' });
  return dns.enable !== undefined || dns.forwardPlainNames !== undefined || nonempty ? dns : undefined;
}

function parseDnsHost(r: XmlReader, net: string, el: XmlElement): NetworkDns['host'][number] {
  const hostnames: string[] = [];
  for (const h of r.children(el, 'hostname')) {
    const t = textOf(h);
    if (t === '') throw detailErr(`Missing hostname in network '${net}' DNS HOST record`, { element: 'dns/host/hostname' });
    hostnames.push(t);
  }
  if (hostnames.length === 0) throw detailErr(`Missing hostname in network '${net}' DNS HOST record`, { element: 'dns/host' });
  const ip = r.attr(el, 'ip');
  if (ip === undefined) throw detailErr(`Missing IP address in network '${net}' DNS HOST record`, { element: 'dns/host' });
  const a = parseSocketAddr(ip);
  if (!a) throw detailErr(`Invalid IP address in network '${net}' DNS HOST record`, { element: 'dns/host', attribute: 'ip', value: ip });
  return { ip: formatSocketAddr(a), hostname: hostnames };
}

function parseDnsSrv(r: XmlReader, net: string, el: XmlElement): NetworkDnsSrv {
  const fault = { element: 'dns/srv' };
  const service = r.attr(el, 'service');
  if (service === undefined) throw detailErr(`missing required service attribute in DNS SRV record of network '${net}'`, fault);
  if (Buffer.byteLength(service) > DNS_RECORD_LENGTH_SRV) {
    throw detailErr(`service attribute '${service}' in network '${net}' is too long, limit is ${DNS_RECORD_LENGTH_SRV} bytes`, fault);
  }
  if (!SERVICE_CHARS.test(service)) throw detailErr(`invalid character in service attribute '${service}' in DNS SRV record of network '${net}'`, fault);
  const protocol = r.attr(el, 'protocol');
  if (protocol === undefined) throw detailErr(`missing required protocol attribute in DNS SRV record '${service}' of network '${net}'`, fault);
  if (!PROTOCOL_CHARS.test(protocol)) {
    throw detailErr(`invalid character in protocol attribute '${protocol}' in DNS SRV record of network '${net}'`, fault);
  }
  const srv: NetworkDnsSrv = { service, protocol };
  const domain = r.attr(el, 'domain');
  if (domain !== undefined) srv.domain = domain;
  const target = r.attr(el, 'target');
  if (target !== undefined) srv.target = target;

  const num = (attr: 'port' | 'priority' | 'weight', invalidMsg: string, min: number): void => {
    const text = nonEmpty(r.attr(el, attr));
    if (text === undefined) return;
    const v = strToUInt(text, 10);
    if (v !== undefined && target === undefined) {
      throw detailErr(`DNS SRV ${attr} attribute not permitted without target for service '${service}' in network '${net}'`, fault);
    }
    if (v === undefined || v < min || v > 65535) throw detailErr(invalidMsg, { ...fault, attribute: attr, value: text });
    if (v) srv[attr] = v;
  };
  num('port', `invalid DNS SRV port attribute for service '${service}' in network '${net}'`, 1);
  num('priority', `Invalid DNS SRV priority attribute for service '${service}' in network '${net}'`, 0);
  num('weight', `invalid DNS SRV weight attribute for service '${service}' in network '${net}'`, 0);
  return srv;
}

// ---- routes ----

function parseRoute(r: XmlReader, net: string, el: XmlElement): NetworkRoute {
  const fault = { element: 'route' };
  const familyText = nonEmpty(r.attr(el, 'family'));
  const address = nonEmpty(r.attr(el, 'address'));
  const netmaskText = nonEmpty(r.attr(el, 'netmask'));
  const gateway = nonEmpty(r.attr(el, 'gateway'));
  const prefix = propUInt(r, el, 'prefix');
  const metric = propUInt(r, el, 'metric', { nonzero: true });

  if (address === undefined) throw xmlErr(`${net}: Missing required address attribute in route definition`, fault);
  if (gateway === undefined) throw xmlErr(`${net}: Missing required gateway attribute in route definition`, fault);
  const addr = parseSocketAddr(address);
  if (!addr) throw xmlErr(`${net}: Bad network address '${address}' in route definition`, { ...fault, attribute: 'address', value: address });
  const gw = parseSocketAddr(gateway);
  if (!gw) throw xmlErr(`${net}: Bad gateway address '${gateway}' in route definition`, { ...fault, attribute: 'gateway', value: gateway });

  let netmask: SocketAddr | undefined;
  const p = prefix ?? 0;
  if (familyText === undefined || familyText === 'ipv4') {
    const which = familyText === undefined ? 'No family' : 'IPv4 family';
    if (addr.family !== 4) throw xmlErr(`${net}: ${which} specified for non-IPv4 address '${address}' in route definition`, fault);
    // libvirt names the address, not the gateway, in this message.
    if (gw.family !== 4) throw xmlErr(`${net}: ${which} specified for non-IPv4 gateway '${address}' in route definition`, fault);
    if (netmaskText !== undefined) {
      netmask = parseSocketAddr(netmaskText);
      if (!netmask) throw xmlErr(`${net}: Bad netmask address '${netmaskText}' in route definition`, fault);
      if (netmask.family !== 4) throw xmlErr(`${net}: Invalid netmask '${netmaskText}' for address '${address}' (both must be IPv4)`, fault);
      if (prefix !== undefined) throw xmlErr(`${net}: Route definition cannot have both a prefix and a netmask`, fault);
    }
    if (p > 32) throw xmlErr(`${net}: Invalid prefix ${p} specified in route definition, must be 0 - 32`, fault);
  } else if (familyText === 'ipv6') {
    if (addr.family !== 6) throw xmlErr(`${net}: ipv6 family specified for non-IPv6 address '${address}' in route definition`, fault);
    if (netmaskText !== undefined) throw xmlErr(`${net}: Specifying netmask invalid for IPv6 address '${address}' in route definition`, fault);
    if (gw.family !== 6) throw xmlErr(`${net}: ipv6 specified for non-IPv6 gateway address '${gateway}' in route definition`, fault);
    if (p > 128) throw xmlErr(`${net}: Invalid prefix ${p} specified in route definition, must be 0 - 128`, fault);
  } else {
    throw xmlErr(`${net}: Unrecognized family '${familyText}' in route definition`, fault);
  }
  const masked = netmask ? maskAddr(addr, netmask) : maskByPrefix(addr, p);
  if (!masked || !socketAddrEqual(masked, addr)) throw xmlErr(`${net}: Address '${address}' in route definition is not a network address`, fault);

  const route: NetworkRoute = { address: formatSocketAddr(addr), gateway: formatSocketAddr(gw) };
  const family = parseFamily(familyText);
  if (family) route.family = family;
  if (netmask) route.netmask = formatSocketAddr(netmask);
  if (prefix !== undefined) route.prefix = prefix;
  if (metric !== undefined) route.metric = metric;
  return route;
}

// ---- portgroup ----

function parsePortGroup(r: XmlReader, el: XmlElement): NetworkPortGroup {
  const name = nonEmpty(r.attr(el, 'name'));
  if (name === undefined) throw xmlErr('Missing required name attribute in portgroup', { element: 'portgroup' });
  const pg: NetworkPortGroup = { name };
  const isDefault = r.attr(el, 'default');
  if (isDefault !== undefined && isDefault.toLowerCase() === 'yes') pg.default = true;
  const trust = propYesNo(r, el, 'trustGuestRxFilters');
  if (trust !== undefined) pg.trustGuestRxFilters = trust;
  const vpEl = r.child(el, 'virtualport');
  if (vpEl) pg.virtualport = parseNetDevVirtualPort(vpEl, { reader: r });
  const bwEl = r.child(el, 'bandwidth');
  if (bwEl) {
    const bw = parseNetDevBandwidth(bwEl, { reader: r }).bandwidth;
    if (bw) pg.bandwidth = bw;
  }
  const vlanEl = r.child(el, 'vlan');
  if (vlanEl) pg.vlan = parseNetDevVlan(vlanEl, { reader: r });
  return pg;
}

// ---- metadata, namespace ----

function namespaceOf(el: XmlElement, inherited: Map<string, string>): string | undefined {
  const colon = el.name.indexOf(':');
  const prefix = colon >= 0 ? el.name.slice(0, colon) : '';
  const own = prefix ? el.attrs[`xmlns:${prefix}`] : el.attrs.xmlns;
  return own ?? inherited.get(prefix);
}

/**
 * virXMLNodeSanitizeNamespaces: in <metadata>, keep only child elements that have a namespace,
 * and only the first child of each namespace.
 */
export function sanitizeMetadata(meta: XmlElement): XmlElement {
  const seen = new Set<string>();
  const kept: XmlElement[] = [];
  for (const c of meta.children) {
    if (!isElement(c)) continue;
    const ns = namespaceOf(c, new Map());
    if (!ns || seen.has(ns)) continue;
    seen.add(ns);
    kept.push(c);
  }
  return { ...meta, attrs: {}, children: kept };
}

function parseDnsmasqOptions(r: XmlReader, root: XmlElement): string[] | undefined {
  const prefixes = Object.entries(root.attrs)
    .filter(([k, v]) => k.startsWith('xmlns:') && v === DNSMASQ_NAMESPACE)
    .map(([k]) => k.slice(6));
  if (prefixes.length === 0) return undefined;
  const values: string[] = [];
  for (const c of r.children(root)) {
    const [p, local] = c.name.split(':');
    if (local !== 'options' || !prefixes.includes(p!)) continue;
    for (const o of r.children(c)) {
      const [op, olocal] = o.name.split(':');
      if (olocal !== 'option' || !prefixes.includes(op!)) continue;
      const v = r.attr(o, 'value');
      if (v === undefined) throw xmlErr('No dnsmasq options value specified', { element: 'dnsmasq:option' });
      values.push(v);
    }
  }
  return values.length ? values : undefined;
}
