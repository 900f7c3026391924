// IP addresses and static routes of a link over rtnetlink (RTM_NEWADDR / RTM_NEWROUTE), as a
// libvirt network gives its bridge the addresses of <ip> and the routes of <route>. Addresses
// come in as text; the kernel's errno becomes a system error naming the link.
import type { rt } from 'netlink';
import { Errno, ErrorDomain, ErrorNumber, systemError, virtError } from '../errors/index.js';
import { formatSocketAddr, parseSocketAddr, prefixToNetmask, type SocketAddr } from '../conf/network/socketAddr.js';
import { getLink } from './link.js';
import { NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, ackResult, netlinkPackage as pkg, type RtNetlink } from './netlink.js';

export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;

const AF_INET = 2;
const AF_INET6 = 10;
const RT_TABLE_MAIN = 254;

/** One route of the main table. */
export interface RouteEntry {
  family: 4 | 6;
  /** destination network, canonical text ("0.0.0.0" for the default route) */
  dst: string;
  prefix: number;
  /** output interface index, 0 when none */
  oif: number;
  gateway: string | null;
}

function parseAddr(text: string, what: string): SocketAddr {
  const a = parseSocketAddr(text);
  if (!a) throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, `Cannot parse ${what} '${text}'`, { value: text });
  return a;
}

function checkPrefix(a: SocketAddr, prefix: number, text: string): void {
  const max = a.family === 4 ? 32 : 128;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, `invalid prefix ${prefix} for address ${text}`, { value: String(prefix) });
  }
}

async function ifindexOf(nl: RtNetlink, ifname: string, op: string): Promise<number> {
  const link = await getLink(nl, ifname);
  if (!link) throw systemError(ErrorDomain.NONE, Errno.ENODEV, op, { object: ifname });
  return link.index;
}

function addressPayload(a: SocketAddr, prefix: number, index: number): Uint8Array[] {
  const bytes = Buffer.from(a.bytes);
  const attrs: rt.AddressAttrs = { local: bytes, address: bytes };
  if (a.family === 4 && prefix < 31) {
    const mask = prefixToNetmask(prefix, 4)!;
    attrs.broadcast = Buffer.from(a.bytes.map((b, i) => b | (~mask.bytes[i]! & 0xff)));
  }
  const out = new (pkg().AttrStream)();
  out.emit(pkg().rt.formatAddress({ family: a.family === 4 ? AF_INET : AF_INET6, prefixlen: prefix, index, scope: 0 }));
  out.emit(pkg().rt.formatAddressAttrs(attrs));
  return out.bufs;
}

/**
 * Adds `address/prefix` to `ifname` (IPv4 with its broadcast address, as libvirt's
 * virNetDevIPAddrAdd). An address that is already there is an error (EEXIST).
 */
export async function addIpAddress(nl: RtNetlink, ifname: string, address: string, prefix: number): Promise<void> {
  const a = parseAddr(address, 'IP address');
  checkPrefix(a, prefix, address);
  const op = `Error adding IP address ${formatSocketAddr(a)}/${prefix} to ${ifname}`;
  const index = await ifindexOf(nl, ifname, op);
  const opts = { op, dev: ifname };
  const rc = ackResult(await nl.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, addressPayload(a, prefix, index), opts), opts);
  if (rc < 0) throw systemError(ErrorDomain.NONE, -rc, op, { object: ifname, value: address });
}

export interface AddRouteOptions {
  /** destination network */
  address: string;
  prefix: number;
  gateway: string;
  /** priority; 0 or absent = the kernel's default */
  metric?: number;
}

function routePayload(family: 4 | 6, dst: SocketAddr, prefix: number, oif: number, gw: SocketAddr | null, metric?: number): Uint8Array[] {
  const attrs: rt.RouteAttrs = { dst: Buffer.from(dst.bytes), oif, table: RT_TABLE_MAIN };
  if (gw) attrs.gateway = Buffer.from(gw.bytes);
  if (metric) attrs.priority = metric;
  const out = new (pkg().AttrStream)();
  out.emit(
    pkg().rt.formatRoute({
      family: family === 4 ? AF_INET : AF_INET6,
      dstLen: prefix,
      table: RT_TABLE_MAIN,
      protocol: 'BOOT',
      scope: 'UNIVERSE',
      type: 'UNICAST',
    }),
  );
  out.emit(pkg().rt.formatRouteAttrs(attrs));
  return out.bufs;
}

/** A static route to `address/prefix` via `gateway` out of `ifname` (virNetDevIPRouteAdd). */
export async function addRoute(nl: RtNetlink, ifname: string, route: AddRouteOptions): Promise<void> {
  const dst = parseAddr(route.address, 'route address');
  const gw = parseAddr(route.gateway, 'route gateway');
  checkPrefix(dst, route.prefix, route.address);
  const op = `Error adding route to ${formatSocketAddr(dst)}/${route.prefix} via ${formatSocketAddr(gw)} on ${ifname}`;
  if (dst.family !== gw.family) throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, `${op}: address families differ`);
  const index = await ifindexOf(nl, ifname, op);
  const opts = { op, dev: ifname };
  const payload = routePayload(dst.family, dst, route.prefix, index, gw, route.metric);
  const rc = ackResult(await nl.request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, payload, opts), opts);
  if (rc < 0) throw systemError(ErrorDomain.NONE, -rc, op, { object: ifname, value: route.address });
}

/** The routes of the main table of one family. */
export async function listRoutes(nl: RtNetlink, family: 4 | 6): Promise<RouteEntry[]> {
  const op = 'Unable to list routes';
  const out = new (pkg().AttrStream)();
  out.emit(pkg().rt.formatRoute({ family: family === 4 ? AF_INET : AF_INET6 }));
  const reply = await nl.request(RTM_GETROUTE, NLM_F_DUMP, out.bufs, { op });
  if (reply.kind === 'error') throw systemError(ErrorDomain.NONE, reply.errno, op);
  if (reply.kind === 'ack') return [];
  const result: RouteEntry[] = [];
  for (const m of reply.messages) {
    if (m.type !== RTM_NEWROUTE) continue;
    const msg = pkg().rt.parseRouteMessage(m.data);
    const table = msg.attrs.table ?? msg.data.table;
    if (table !== RT_TABLE_MAIN) continue;
    const len = family === 4 ? 4 : 16;
    const dst = msg.attrs.dst ? Uint8Array.from(msg.attrs.dst) : new Uint8Array(len);
    result.push({
      family,
      dst: formatSocketAddr({ family, bytes: dst }),
      prefix: msg.data.dstLen ?? 0,
      oif: msg.attrs.oif ?? 0,
      gateway: msg.attrs.gateway ? formatSocketAddr({ family, bytes: Uint8Array.from(msg.attrs.gateway) }) : null,
    });
  }
  return result;
}
