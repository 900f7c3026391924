// The host side of starting and stopping a network, per forward mode (libvirt's
// networkStartNetworkVirtual/Bridge/External and their shutdown counterparts):
//
//   none, nat, route, open  tsvirt makes the bridge: create it (MAC, MTU, STP, forward delay,
//                           VLAN filtering), set its IPv6 sysctls, load the firewall table (not
//                           for open), add the <ip> addresses, bring it up, add the <route>s,
//                           switch IP forwarding on (not for none), start dnsmasq, shape the
//                           bridge's traffic (<bandwidth>).
//   bridge with a name      an existing host bridge: only <bandwidth> and VLAN filtering.
//   bridge without a name, private, vepa, passthrough, hostdev
//                           a pool of host devices; with <pf dev> the pool is that PF's VFs.
//
// Every step that changes the host registers its undo; a failing step undoes the earlier ones in
// reverse order, so a failed start leaves the host as it was. Stop undoes exactly what start
// recorded in the network's host record.
import { ErrorDomain, ErrorNumber, systemError, virtError } from '../../errors/index.js';
import type { NetworkDef, NetworkIp } from '../../conf/network/index.js';
import { networkForwardMode } from '../../conf/network/index.js';
import type { PciAddress } from '../../conf/network/pciAddress.js';
import { ipDefPrefix, ipPrefixOf, maskByPrefix, parseSocketAddr, formatSocketAddr } from '../../conf/network/socketAddr.js';
import type { NetDevBandwidth as Shaper } from '../../host/bandwidth.js';
import { formatLinkMessage } from '../../host/ifla.js';
import { addIpAddress, addRoute, listRoutes } from '../../host/ipAddress.js';
import { deleteLink, getLink, getLinkByIndex, setLinkUp, tryCreateLink } from '../../host/link.js';
import { RTM_NEWLINK, ackResult, type RtNetlink } from '../../host/netlink.js';
import { readSysctl, writeSysctl } from '../../host/sysctl.js';
import { netdevPciDir, pciAddressOf, pciNetdevs, vfPciDirs } from '../../host/pciSysfs.js';
import type { SysfsRoot } from '../../host/sysfs.js';
import type { CommandRunner } from './commandRunner.js';
import {
  type DnsmasqPaths,
  dnsmasqConfig,
  isOurDnsmasq,
  networkNeedsDnsmasq,
  readPidFile,
  startDnsmasq,
  stopDnsmasq,
} from './dnsmasq.js';
import type { NetworkFirewall } from './firewall.js';
import type { IpForwarding } from './ipForwarding.js';

/** Everything on the host the network driver works through (handed in at construction). */
export interface NetworkDriverHost {
  netlink: RtNetlink;
  sysfs: SysfsRoot;
  /** tc shaping (network <bandwidth>, floors of ports) */
  bandwidth: Shaper;
  firewall: NetworkFirewall;
  forwarding: IpForwarding;
  dnsmasq: { binary?: string; runner: CommandRunner };
  /** /proc/sys, or a test tree */
  sysctlRoot: string;
  /** The daemon may change the host's network (root); false = session mode. */
  privileged: boolean;
  warn(message: string): void;
}

/** What a running network changed on the host, kept in the run directory (<name>.host.json). */
export interface NetworkHostRecord {
  /** the bridge tsvirt created (none, nat, route, open) */
  createdBridge?: string;
  /** the nft table loaded for the network */
  firewallTable?: string;
  /** dnsmasq runs for the network (its pid is in the pid file) */
  dnsmasq?: boolean;
  /** tsvirt switched VLAN filtering on on an existing bridge (forward bridge, macTableManager libvirt) */
  vlanFilteringSet?: string;
  /** <bandwidth> was put on this device */
  bandwidthOn?: string;
}

const CREATED_BRIDGE_MODES = ['none', 'nat', 'route', 'open'];

export function createsBridge(def: NetworkDef): boolean {
  return CREATED_BRIDGE_MODES.includes(networkForwardMode(def));
}

/** Forward bridge with a named host bridge (the guests' taps join it). */
export function usesHostBridge(def: NetworkDef): boolean {
  return networkForwardMode(def) === 'bridge' && def.bridge?.name !== undefined;
}

/** A stack of undo steps, run newest first; failures of undo steps are only warnings. */
class Undo {
  private readonly steps: { what: string; fn: () => Promise<void> | void }[] = [];
  constructor(private readonly warn: (m: string) => void) {}
  push(what: string, fn: () => Promise<void> | void): void {
    this.steps.push({ what, fn });
  }
  async run(): Promise<void> {
    while (this.steps.length) {
      const s = this.steps.pop()!;
      try {
        await s.fn();
      } catch (err) {
        this.warn(`undo of ${s.what} failed: ${(err as Error).message}`);
      }
    }
  }
}

function ipPrefixOrThrow(def: NetworkDef, ip: NetworkIp): { family: 4 | 6; prefix: number } {
  const addr = parseSocketAddr(ip.address);
  const mask = addr && ip.netmask ? parseSocketAddr(ip.netmask, addr.family) : undefined;
  const prefix = ipPrefixOf(addr, mask, ip.prefix);
  if (!addr || prefix < 0) {
    throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NETWORK, `bridge '${def.bridge?.name ?? ''}' has an invalid netmask or IP address`, {
      object: def.name,
    });
  }
  return { family: addr.family, prefix };
}

/** networkCheckRouteCollision: an IPv4 <ip> or <route> subnet that a host route already uses. */
async function checkRouteCollision(host: NetworkDriverHost, def: NetworkDef): Promise<void> {
  const routes = await listRoutes(host.netlink, 4);
  for (const r of routes) {
    if (r.prefix === 0 || !r.oif) continue;
    const routeNet = `${r.dst}/${r.prefix}`;
    const iface = async () => (await getLinkByIndex(host.netlink, r.oif))?.name ?? String(r.oif);
    for (const ip of def.ip) {
      const addr = parseSocketAddr(ip.address);
      if (!addr || addr.family !== 4) continue;
      const { prefix } = ipPrefixOrThrow(def, ip);
      if (`${formatSocketAddr(maskByPrefix(addr, prefix)!)}/${prefix}` === routeNet) {
        throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, `Network is already in use by interface ${await iface()}`, {
          object: def.name,
          value: ip.address,
        });
      }
    }
    for (const rt of def.route) {
      const addr = parseSocketAddr(rt.address);
      if (!addr || addr.family !== 4) continue;
      const mask = rt.netmask ? parseSocketAddr(rt.netmask, 4) : undefined;
      const prefix = ipPrefixOf(addr, mask, rt.prefix);
      if (prefix < 0) continue;
      const net = formatSocketAddr(maskByPrefix(addr, prefix)!);
      if (`${net}/${prefix}` === routeNet) {
        throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, `Route address '${net}' conflicts with IP address for '${await iface()}'`, {
          object: def.name,
          value: rt.address,
        });
      }
    }
  }
}

/** IPv6 on the bridge only when the network has an IPv6 address; never accept RAs or autoconf. */
function setBridgeIpv6Sysctls(host: NetworkDriverHost, bridge: string, ipv6: boolean): void {
  const key = (f: string) => `net/ipv6/conf/${bridge}/${f}`;
  if (readSysctl(key('disable_ipv6'), host.sysctlRoot) === null) return; // IPv6 is off in this kernel
  writeSysctl(key('disable_ipv6'), ipv6 ? '0' : '1', host.sysctlRoot);
  writeSysctl(key('accept_ra'), '0', host.sysctlRoot);
  writeSysctl(key('autoconf'), '0', host.sysctlRoot);
}

/** IFLA_BR_VLAN_FILTERING of an existing bridge. */
async function setBridgeVlanFiltering(nl: RtNetlink, bridge: string, on: boolean): Promise<void> {
  const op = `Unable to set vlan_filtering on bridge '${bridge}'`;
  const opts = { op, dev: bridge };
  const msg = formatLinkMessage({ link: {}, attrs: { ifname: bridge, linkinfo: { kind: 'bridge', bridge: { vlanFiltering: on } } } });
  const rc = ackResult(await nl.request(RTM_NEWLINK, 0, msg, opts), opts);
  if (rc < 0) throw systemError(ErrorDomain.NONE, -rc, op, { object: bridge });
}

function sessionRefusal(def: NetworkDef, what: string) {
  return virtError(
    ErrorNumber.OPERATION_UNSUPPORTED,
    ErrorDomain.NETWORK,
    `network '${def.name}' ${what} cannot be started by an unprivileged (session) daemon; session networks support only <forward mode='bridge'/> with an existing <bridge name=…/>`,
    { object: def.name },
  );
}

/**
 * Starts the host side of `def` (the live definition, which may be completed: NAT port range, the
 * VF pool of a <pf>). Returns what was done; on failure everything done is undone first.
 */
export async function startNetworkHost(host: NetworkDriverHost, def: NetworkDef, dnsmasqPaths: DnsmasqPaths): Promise<NetworkHostRecord> {
  const mode = networkForwardMode(def);
  const record: NetworkHostRecord = {};
  const undo = new Undo(host.warn);
  try {
    if (createsBridge(def)) {
      if (!host.privileged) throw sessionRefusal(def, `with forward mode '${mode}'`);
      await startVirtual(host, def, dnsmasqPaths, record, undo);
    } else if (usesHostBridge(def)) {
      await startHostBridge(host, def, record, undo);
    } else {
      if (!host.privileged) throw sessionRefusal(def, `with forward mode '${mode}'`);
      await expandInterfacePool(host.sysfs, def);
    }
    return record;
  } catch (err) {
    await undo.run();
    throw err;
  }
}

async function startVirtual(host: NetworkDriverHost, def: NetworkDef, paths: DnsmasqPaths, record: NetworkHostRecord, undo: Undo): Promise<void> {
  const nl = host.netlink;
  const mode = networkForwardMode(def);
  const bridge = def.bridge?.name;
  if (!bridge) {
    throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NETWORK, `network '${def.name}' has no bridge name defined`, { object: def.name });
  }
  await checkRouteCollision(host, def);
  const ipInfo = def.ip.map((ip) => ({ ip, ...ipPrefixOrThrow(def, ip) }));
  const v4 = ipInfo.some((i) => i.family === 4);
  const v6 = ipInfo.some((i) => i.family === 6);

  // The bridge, with its MAC, MTU and STP settings in the one request that creates it. The
  // forward delay is set before STP goes on (the kernel then raises a delay below 2 s to 2 s,
  // as it does for libvirt, which sets them in the same order).
  const delaySeconds = Number(def.bridge?.delay ?? 0n);
  const rc = await tryCreateLink(
    nl,
    bridge,
    {
      kind: 'bridge',
      bridge: {
        forwardDelay: Math.min(delaySeconds * 100, 0xffffffff),
        stpState: def.bridge?.stp === false ? 0 : 1,
        ...(def.bridge?.macTableManager === 'libvirt' ? { vlanFiltering: true } : {}),
      },
    },
    { mac: def.mac, mtu: def.mtu || undefined },
  );
  if (rc < 0) throw systemError(ErrorDomain.NONE, -rc, `error creating bridge interface ${bridge}`, { object: bridge });
  record.createdBridge = bridge;
  undo.push(`bridge ${bridge}`, () => deleteLink(nl, bridge, { missingOk: true }));

  setBridgeIpv6Sysctls(host, bridge, v6);

  if (mode !== 'open') {
    record.firewallTable = await host.firewall.apply(def);
    undo.push(`firewall of ${bridge}`, () => host.firewall.remove(bridge));
  }

  for (const i of ipInfo) await addIpAddress(nl, bridge, i.ip.address, i.prefix);

  await setLinkUp(nl, bridge, true);

  for (const r of def.route) {
    const prefix = ipDefPrefix(r);
    try {
      if (prefix < 0) {
        throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NETWORK, `network '${def.name}' has an invalid netmask or IP address in route definition`);
      }
      await addRoute(nl, bridge, { address: r.address, prefix, gateway: r.gateway, metric: r.metric });
    } catch (err) {
      // libvirt goes on without the route (so that the network can still be destroyed).
      host.warn(`network '${def.name}': ${(err as Error).message}`);
    }
  }

  if (mode !== 'none' && (v4 || v6)) {
    await host.forwarding.enable(def.name, v4, v6);
    undo.push('IP forwarding', () => host.forwarding.release(def.name));
  }

  if (networkNeedsDnsmasq(def)) {
    const pid = await startDnsmasq(host.dnsmasq, paths, dnsmasqConfig(def, paths));
    record.dnsmasq = true;
    undo.push('dnsmasq', () => stopDnsmasq(pid, paths));
  }

  if (def.bandwidth) {
    await host.bandwidth.setBandwidth(bridge, def.bandwidth, { hierarchical: true, swapped: true });
    record.bandwidthOn = bridge;
    undo.push(`bandwidth of ${bridge}`, () => host.bandwidth.clearBandwidth(bridge));
  }
}

async function startHostBridge(host: NetworkDriverHost, def: NetworkDef, record: NetworkHostRecord, undo: Undo): Promise<void> {
  const bridge = def.bridge!.name!;
  if (def.bandwidth) {
    // Unprivileged, setBandwidth refuses with "not available in session mode".
    await host.bandwidth.setBandwidth(bridge, def.bandwidth, { hierarchical: true, swapped: true });
    record.bandwidthOn = bridge;
    undo.push(`bandwidth of ${bridge}`, () => host.bandwidth.clearBandwidth(bridge));
  }
  if (def.bridge?.macTableManager === 'libvirt') {
    if (!host.privileged) throw sessionRefusal(def, "with macTableManager='libvirt'");
    const link = await getLink(host.netlink, bridge);
    const already = link?.linkinfo && 'bridge' in link.linkinfo && link.linkinfo.bridge?.vlanFiltering === true;
    if (!already) {
      await setBridgeVlanFiltering(host.netlink, bridge, true);
      record.vlanFilteringSet = bridge;
      undo.push(`vlan filtering of ${bridge}`, () => setBridgeVlanFiltering(host.netlink, bridge, false));
    }
  }
}

/**
 * Stops the host side. Each step is attempted even when an earlier one fails; the first failure
 * is reported as a warning (the network is stopped regardless, as in libvirt).
 */
export async function stopNetworkHost(host: NetworkDriverHost, def: NetworkDef, record: NetworkHostRecord, dnsmasqPaths: DnsmasqPaths): Promise<void> {
  const step = async (what: string, fn: () => Promise<void> | void) => {
    try {
      await fn();
    } catch (err) {
      host.warn(`network '${def.name}': ${what}: ${(err as Error).message}`);
    }
  };
  if (record.bandwidthOn) {
    const dev = record.bandwidthOn;
    await step('clearing bandwidth', () => host.bandwidth.clearBandwidth(dev));
  }
  if (record.dnsmasq) await step('stopping dnsmasq', async () => stopDnsmasq(await readPidFile(dnsmasqPaths.pidFile), dnsmasqPaths));
  if (record.createdBridge) {
    const br = record.createdBridge;
    await step('bringing the bridge down', async () => {
      if (await getLink(host.netlink, br)) await setLinkUp(host.netlink, br, false);
    });
    if (record.firewallTable) await step('removing the firewall', () => host.firewall.remove(br));
    await step('deleting the bridge', () => deleteLink(host.netlink, br, { missingOk: true }));
  }
  await step('IP forwarding', () => host.forwarding.release(def.name));
  if (record.vlanFilteringSet) {
    const br = record.vlanFilteringSet;
    await step('VLAN filtering', () => setBridgeVlanFiltering(host.netlink, br, false));
  }
}

/**
 * After a daemon restart: is the network still there? (libvirt networkUpdateState: a network
 * whose bridge has gone is no longer active.) When it is, its firewall table is loaded again
 * (idempotent) and a dnsmasq that has died is started again.
 */
export async function refreshNetworkHost(
  host: NetworkDriverHost,
  def: NetworkDef,
  record: NetworkHostRecord,
  dnsmasqPaths: DnsmasqPaths,
): Promise<boolean> {
  if (createsBridge(def) || usesHostBridge(def)) {
    if (!def.bridge?.name || !(await getLink(host.netlink, def.bridge.name))) return false;
  }
  if (record.firewallTable) await host.firewall.apply(def);
  if (record.dnsmasq) {
    const pid = await readPidFile(dnsmasqPaths.pidFile);
    if (pid === null || !isOurDnsmasq(pid, dnsmasqPaths.conf)) {
      host.warn(`network '${def.name}': dnsmasq is not running, starting it again`);
      await startDnsmasq(host.dnsmasq, dnsmasqPaths, dnsmasqConfig(def, dnsmasqPaths));
    }
  }
  return true;
}

// ---- interface pools -------------------------------------------------------------------------

/** One VF of a PF, from sysfs. */
export interface VirtualFunction {
  index: number;
  address: PciAddress;
  /** its netdev while bound to a host network driver */
  netdev: string | null;
}

function parsePciText(text: string): PciAddress | undefined {
  const m = /^([0-9a-fA-F]{4}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/.exec(text);
  if (!m) return undefined;
  return { domain: parseInt(m[1]!, 16), bus: parseInt(m[2]!, 16), slot: parseInt(m[3]!, 16), function: parseInt(m[4]!, 16) };
}

/** The VFs of PF netdev `pf` (virNetDevGetVirtualFunctions), in index order. */
async function listVirtualFunctions(sysfs: SysfsRoot, pf: string): Promise<VirtualFunction[]> {
  const pfDir = await netdevPciDir(sysfs, pf);
  if (!pfDir) {
    throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NETWORK, `Could not get Virtual functions on ${pf}`, { object: pf });
  }
  const out: VirtualFunction[] = [];
  for (const [index, dir] of (await vfPciDirs(sysfs, pfDir)).entries()) {
    const text = await pciAddressOf(sysfs, dir);
    const address = text ? parsePciText(text) : undefined;
    if (!address) continue;
    const nets = await pciNetdevs(sysfs, dir);
    out.push({ index, address, netdev: nets?.[0] ?? null });
  }
  return out;
}

/** networkCreateInterfacePool: a <pf dev> pool becomes the PF's VFs (netdevs, or PCI for hostdev). */
export async function expandInterfacePool(sysfs: SysfsRoot, def: NetworkDef): Promise<void> {
  const fwd = def.forward;
  if (!fwd?.pf || fwd.interface.length || fwd.address.length) return;
  const vfs = await listVirtualFunctions(sysfs, fwd.pf.dev);
  if (fwd.mode === 'hostdev') fwd.address = vfs.map((v) => v.address);
  else fwd.interface = vfs.filter((v) => v.netdev !== null).map((v) => ({ dev: v.netdev! }));
  if (!fwd.interface.length && !fwd.address.length) {
    throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NETWORK, `No usable Vf's present on SRIOV PF ${fwd.pf.dev}`, { object: fwd.pf.dev });
  }
}
