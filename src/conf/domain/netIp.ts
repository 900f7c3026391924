// <ip> and <route> of an interface (guest side, or host side under <source> for ethernet).
import { isIPv4, isIPv6 } from 'node:net';
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { strToUInt } from '../xmlProps.js';
import { ParseContext, xmlError } from './parseContext.js';

export interface NetIpAddress {
  address: string;
  family: 'ipv4' | 'ipv6';
  prefix?: number;
  peer?: string;
}

export interface NetIpRoute {
  family?: string;
  address: string;
  netmask?: string;
  prefix?: number;
  gateway: string;
  metric?: number;
}

export interface NetIpInfo {
  ips: NetIpAddress[];
  routes: NetIpRoute[];
}

/** The canonical text of an address as getnameinfo(NI_NUMERICHOST) writes it. */
export function canonicalIp(s: string): { text: string; family: 'ipv4' | 'ipv6' } | undefined {
  if (isIPv4(s)) return { text: s.split('.').map((p) => String(Number(p))).join('.'), family: 'ipv4' };
  if (isIPv6(s)) {
    const host = new URL(`http://[${s}]/`).hostname;
    return { text: host.slice(1, -1), family: 'ipv6' };
  }
  return undefined;
}

function parseIp(ctx: ParseContext, el: XmlElement): NetIpAddress {
  const address = ctx.attr(el, 'address');
  if (address === undefined) throw xmlError('Missing required address in <ip>', { element: 'ip', attribute: 'address' });
  const familyStr = ctx.attr(el, 'family');
  const ip = canonicalIp(address);
  if (!ip || (familyStr === 'ipv4' && ip.family !== 'ipv4') || (familyStr === 'ipv6' && ip.family !== 'ipv6')) {
    throw xmlError(`Invalid address '${address}' in <ip>`, { element: 'ip', attribute: 'address', value: address });
  }
  const out: NetIpAddress = { address: ip.text, family: ip.family };
  const prefixStr = ctx.attr(el, 'prefix');
  if (prefixStr !== undefined) {
    const p = strToUInt(prefixStr, 10);
    if (p === undefined || (ip.family === 'ipv6' && p > 128) || (ip.family === 'ipv4' && p > 32)) {
      throw xmlError(`Invalid prefix value '${prefixStr}' in <ip>`, { element: 'ip', attribute: 'prefix', value: prefixStr });
    }
    if (p) out.prefix = p;
  }
  const peer = ctx.attr(el, 'peer');
  if (peer !== undefined) {
    const pp = canonicalIp(peer);
    if (!pp) throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.DOMAIN, `Invalid peer '${peer}' in <ip>`, { element: 'ip', attribute: 'peer', value: peer });
    out.peer = pp.text;
  }
  return out;
}

function parseRoute(ctx: ParseContext, el: XmlElement, what: string): NetIpRoute {
  const prefix = ctx.uintProp(el, 'prefix');
  const metric = ctx.uintProp(el, 'metric', 10, { nonzero: true });
  const family = ctx.attr(el, 'family');
  const address = ctx.attr(el, 'address');
  const netmask = ctx.attr(el, 'netmask');
  const gateway = ctx.attr(el, 'gateway');
  const fail = (m: string): never => {
    throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.NETWORK, m, { element: 'route' });
  };
  if (!address) fail(`${what}: Missing required address attribute in route definition`);
  if (!gateway) fail(`${what}: Missing required gateway attribute in route definition`);
  const a = canonicalIp(address!);
  if (!a) fail(`${what}: Bad network address '${address}' in route definition`);
  const g = canonicalIp(gateway!);
  if (!g) fail(`${what}: Bad gateway address '${gateway}' in route definition`);
  const r: NetIpRoute = { address: a!.text, gateway: g!.text };
  if (family) r.family = family;
  if (netmask) {
    const m = canonicalIp(netmask);
    if (!m) fail(`${what}: Bad netmask address '${netmask}' in route definition`);
    r.netmask = m!.text;
  }
  if (prefix !== undefined) r.prefix = prefix;
  if (metric !== undefined) r.metric = metric;
  return r;
}

export function parseNetIpInfo(ctx: ParseContext, el: XmlElement, what: string): NetIpInfo | undefined {
  const ips = ctx.children(el, 'ip').map((i) => parseIp(ctx, i));
  const routes = ctx.children(el, 'route').map((r) => parseRoute(ctx, r, what));
  return ips.length || routes.length ? { ips, routes } : undefined;
}

export function formatNetIpInfo(w: XmlWriter, info: NetIpInfo | undefined): void {
  if (!info) return;
  for (const ip of info.ips) w.empty('ip', { address: ip.address, family: ip.family, prefix: ip.prefix || undefined, peer: ip.peer });
  for (const r of info.routes) {
    w.empty('route', { family: r.family, address: r.address, netmask: r.netmask, prefix: r.prefix, gateway: r.gateway, metric: r.metric || undefined });
  }
}
