// The test driver's view of a network definition (src/conf/network's NetworkDef): parsing with the
// test driver's rules (it adds nothing, unlike the network driver), formatting, and the few
// fields the driver reads.
import { formatNetworkXML, parseNetworkXML, testDriverNetworkDefaults, type NetworkDef } from '../../conf/network/index.js';

export type { NetworkDef };

export function parseNetworkDef(xml: string, opts: { validate?: boolean } = {}): NetworkDef {
  const def = parseNetworkXML(xml, { validate: opts.validate === true });
  testDriverNetworkDefaults.postParse(def, { bridgeInUse: () => false });
  return def;
}

export function formatNetworkDef(def: NetworkDef, opts: { inactive?: boolean } = {}): string {
  return formatNetworkXML(def, { inactive: opts.inactive });
}

export function networkBridgeName(def: NetworkDef): string | undefined {
  return def.bridge?.name;
}

function prefixOf(ip: NetworkDef['ip'][number]): number {
  if (ip.prefix) return ip.prefix;
  if (ip.netmask) return ip.netmask.split('.').reduce((n, o) => n + (Number(o) >>> 0).toString(2).replace(/0/g, '').length, 0);
  // virSocketAddrGetIPPrefix without netmask or prefix: the classful default for IPv4, 64 for IPv6.
  if (ip.address.includes(':')) return 64;
  const first = Number(ip.address.split('.')[0]);
  return first < 128 ? 8 : first < 192 ? 16 : first < 224 ? 24 : -1;
}

/**
 * Where libvirt's test driver makes guest addresses up from: the first <ip>'s first DHCP range
 * start, else its address.
 */
export function networkAddressBase(def: NetworkDef): { base: string; prefix: number; ipv6: boolean } | undefined {
  const ip = def.ip[0];
  if (!ip) return undefined;
  const range = ip.dhcp?.range[0];
  return { base: range ? range.start : ip.address, prefix: prefixOf(ip), ipv6: ip.family === 'ipv6' || ip.address.includes(':') };
}
