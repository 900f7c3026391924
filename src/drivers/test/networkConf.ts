// The test driver's view of a network definition (src/conf/network's NetworkDef): parsing with the
// test driver's rules (it adds nothing, unlike the network driver), formatting, and the few
// fields the driver reads.
import { formatNetworkXML, ipDefPrefix, parseNetworkXML, testDriverNetworkDefaults, type NetworkDef } from '../../conf/network/index.js';

export type { NetworkDef };

export function parseNetworkDef(xml: string, opts: { validate?: boolean } = {}): NetworkDef {
  const def = parseNetworkXML(xml, { validate: opts.validate === true });
  testDriverNetworkDefaults.postParse(def, { bridgeInUse: () => false });
  return def;
}

export function formatNetworkDef(def: NetworkDef, opts: { inactive?: boolean } = {}): string {
  return formatNetworkXML(def, { inactive: opts.inactive });
}

/**
 * Where libvirt's test driver makes guest addresses up from: the first <ip>'s first DHCP range
 * start, else its address.
 */
export function networkAddressBase(def: NetworkDef): { base: string; prefix: number; ipv6: boolean } | undefined {
  const ip = def.ip[0];
  if (!ip) return undefined;
  const range = ip.dhcp?.range[0];
  return { base: range ? range.start : ip.address, prefix: ipDefPrefix(ip), ipv6: ip.family === 'ipv6' || ip.address.includes(':') };
}
