// The typed form of libvirt's network XML (formatnetwork). Property names are the XML names in
// camelCase; repeated elements are arrays named like the element. Values keep what the XML said
// (undefined = not given) so that formatting can apply libvirt's defaults and omissions; text
// addresses are kept in libvirt's canonical form (as it would print them).
import type { NetDevBandwidth } from '../netdevBandwidth.js';
import type { NetDevVirtualPort } from '../netdevVirtualPort.js';
import type { NetDevVlan } from '../netdevVlan.js';
import type { XmlElement } from '../xml/xmlTree.js';
import type { PciAddress } from './pciAddress.js';

export const NETWORK_FORWARD_MODES = ['nat', 'route', 'open', 'bridge', 'private', 'vepa', 'passthrough', 'hostdev'] as const;
export type NetworkForwardMode = (typeof NETWORK_FORWARD_MODES)[number];

export type NetworkIpFamily = 'ipv4' | 'ipv6';
export type MacTableManager = 'kernel' | 'libvirt';
export type DhcpLeaseUnit = 'seconds' | 'minutes' | 'hours';
export type NetworkTaint = 'hook-script';

export interface NetworkForwardNat {
  ipv6?: boolean;
  address?: { start: string; end: string };
  /** 0 = unset; printed only when start or end is set */
  port?: { start: number; end: number };
}

export interface NetworkForwardInterface {
  dev: string;
  /** live XML only: guests connected through this device */
  connections?: number;
}

export interface NetworkForward {
  mode: NetworkForwardMode;
  /** hostdev: detach/reattach the VFs (printed for mode hostdev only, as yes or no) */
  managed?: boolean;
  driver?: { name: 'kvm' | 'vfio' };
  nat?: NetworkForwardNat;
  /** netdev pool; <forward dev='x'> is its first entry */
  interface: NetworkForwardInterface[];
  /** PCI pool (hostdev) */
  address: PciAddress[];
  /** at most one physical function whose VFs form the pool */
  pf?: { dev: string };
}

export interface NetworkBridge {
  name?: string;
  zone?: string;
  /** absent = on */
  stp?: boolean;
  /** seconds (unsigned long) */
  delay?: bigint;
  macTableManager?: MacTableManager;
}

export interface NetworkDnsForwarder {
  domain?: string;
  addr?: string;
}

export interface NetworkDnsTxt {
  name: string;
  value: string;
}

export interface NetworkDnsSrv {
  service: string;
  protocol: string;
  domain?: string;
  target?: string;
  port?: number;
  priority?: number;
  weight?: number;
}

export interface NetworkDnsHost {
  ip: string;
  hostname: string[];
}

export interface NetworkDns {
  enable?: boolean;
  forwardPlainNames?: boolean;
  forwarder: NetworkDnsForwarder[];
  txt: NetworkDnsTxt[];
  srv: NetworkDnsSrv[];
  host: NetworkDnsHost[];
}

export interface DhcpLease {
  /** 0 = infinite */
  expiry: bigint;
  /** default minutes; not printed for expiry 0 */
  unit?: DhcpLeaseUnit;
}

export interface DhcpRange {
  start: string;
  end: string;
  lease?: DhcpLease;
}

export interface DhcpHost {
  /** as written (libvirt keeps the text) */
  mac?: string;
  /** DHCPv6 client id */
  id?: string;
  name?: string;
  ip?: string;
  lease?: DhcpLease;
}

export interface NetworkDhcp {
  range: DhcpRange[];
  host: DhcpHost[];
  /** IPv4 only; the last <bootp file=…> wins */
  bootp?: { file: string; server?: string };
}

export interface NetworkIp {
  family?: NetworkIpFamily;
  address: string;
  netmask?: string;
  /** printed when > 0 */
  prefix?: number;
  localPtr?: boolean;
  /** IPv4 only */
  tftp?: { root: string };
  dhcp?: NetworkDhcp;
}

export interface NetworkRoute {
  family?: NetworkIpFamily;
  address: string;
  netmask?: string;
  prefix?: number;
  gateway: string;
  metric?: number;
}

export interface NetworkPortGroup {
  name: string;
  default?: boolean;
  trustGuestRxFilters?: boolean;
  vlan?: NetDevVlan;
  virtualport?: NetDevVirtualPort;
  bandwidth?: NetDevBandwidth;
}

/** What libvirt keeps for a running network besides its definition (<networkstatus>). */
export interface NetworkStatus {
  /** tc class ids in use on the bridge (0, 1 and 2 are always taken) */
  classId: number[];
  /** sum of the floors of the plugged ports, kB/s */
  floorSum: bigint;
  taint: NetworkTaint[];
}

export interface NetworkDef {
  name: string;
  uuid: string;
  /** false when libvirt generated the UUID (then a driver saves the config again) */
  uuidSpecified: boolean;
  /** <network ipv6='yes'>: guest-to-guest IPv6 without a gateway address */
  ipv6?: boolean;
  trustGuestRxFilters?: boolean;
  /** live XML only */
  connections?: number;
  /** the <metadata> element as written (its foreign children are kept verbatim) */
  metadata?: XmlElement;
  /** undefined = isolated (forward mode none) */
  forward?: NetworkForward;
  bridge?: NetworkBridge;
  mtu?: number;
  mac?: string;
  domain?: { name?: string; localOnly?: boolean };
  dns?: NetworkDns;
  vlan?: NetDevVlan;
  bandwidth?: NetDevBandwidth;
  port?: { isolated?: boolean };
  ip: NetworkIp[];
  route: NetworkRoute[];
  virtualport?: NetDevVirtualPort;
  portgroup: NetworkPortGroup[];
  /** <dnsmasq:options><dnsmasq:option value=…/> (the network driver's namespace) */
  dnsmasqOptions?: string[];
  /** runtime state, from and to the status file */
  status?: NetworkStatus;
}

/** The forward mode with libvirt's 'none' for an isolated network. */
export function networkForwardMode(def: NetworkDef): NetworkForwardMode | 'none' {
  return def.forward?.mode ?? 'none';
}

/** none, nat, route and open networks have a libvirt-managed bridge with addresses. */
export function networkHasManagedBridge(def: NetworkDef): boolean {
  const m = networkForwardMode(def);
  return m === 'none' || m === 'nat' || m === 'route' || m === 'open';
}

/** virPortGroupFindByName: by name, or the default portgroup when name is undefined. */
export function findPortGroup(def: NetworkDef, name?: string): NetworkPortGroup | undefined {
  return def.portgroup.find((pg) => (name !== undefined ? pg.name === name : pg.default === true));
}
