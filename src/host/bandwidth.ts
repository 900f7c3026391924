// Bandwidth limits (<bandwidth> of interfaces and networks) as tc qdiscs, classes and filters:
// the host half of spec network-devices §3.1–3.4. The argv lists are libvirt's, word for word,
// so a host shaped by tsvirt looks exactly like one shaped by libvirt (`tc -d … show` equal).
// One deliberate difference: on a kernel without sch_sfq or cls_fw (this project's machines)
// libvirt fails to start the guest or network; tsvirt substitutes pfifo for the sfq leaf and
// skips the fw filter, with a warning (see addFairQueue, addMarkFilter).
//
// Units (§3.1): average/peak/floor are kilobytes per second and go to tc as "<n>kbps" (tc's
// kbps = 1000 bytes/s); burst is KiB and goes as "<n>kb". Values are whatever the config held
// (libvirt: unsigned 64-bit), so they are carried as bigint and never rounded.
import { ErrorDomain, ErrorNumber, virtError } from '../errors/index.js';
import { macBytes } from './macAddress.js';
import { Tc, type TcResult } from './tc.js';

/** A rate in kilobytes/s (or a burst in KiB): a config value, unsigned 64-bit. */
export type Kbps = number | bigint;

/** One direction of <bandwidth>: <inbound> or <outbound>. 0 means "not set", as in libvirt. */
export interface BandwidthRate {
  average?: Kbps;
  peak?: Kbps;
  burst?: Kbps;
  /** Guaranteed minimum; only <inbound> of a network-type interface has one. */
  floor?: Kbps;
}

/** <bandwidth>: inbound = traffic to the guest (or network), outbound = from it. */
export interface Bandwidth {
  inbound?: BandwidthRate | null;
  outbound?: BandwidthRate | null;
}

export interface SetBandwidthOptions {
  /**
   * Build the 1:1 (limit) / 1:2 (unguaranteed traffic) hierarchy that floors hang under:
   * true for a libvirt network's bridge.
   */
  hierarchical?: boolean;
  /**
   * The device's transmit direction is the guest's inbound (tap devices, network bridges):
   * true. macvtap (`direct`) devices share the guest's view: false.
   */
  swapped?: boolean;
}

const U64 = (1n << 64n) - 1n;
/** UINT_MAX / 1024: the largest police burst tc can hold, in KiB (tc keeps bytes in a u32). */
export const MAX_POLICE_BURST_KB = 4194303n;

/** A config value as an unsigned 64-bit integer (absent = 0); anything else → INVALID_ARG. */
export function kbps(v: Kbps | undefined | null, what: string): bigint {
  if (v === undefined || v === null) return 0n;
  const b = typeof v === 'bigint' ? v : Number.isSafeInteger(v) ? BigInt(v) : -1n;
  if (b < 0n || b > U64) {
    throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, `bandwidth ${what} value '${String(v)}' is not an unsigned 64-bit integer`, {
      attribute: what,
      value: String(v),
    });
  }
  return b;
}

/**
 * HTB quantum for a class of this average rate: ⌊average·1024/8/1500⌋, at least 1 (§3.1).
 * HTB's own default (rate/r2q) is too small for slow classes and too large for fast ones, so
 * libvirt gives one MTU-sized share per class. Computed with C's 64-bit wrap-around.
 */
export function bandwidthQuantum(average: Kbps): bigint {
  const q = BigInt.asUintN(64, kbps(average, 'average') * 1024n) / 8n / 1500n;
  return q === 0n ? 1n : q;
}

/** True when the config asks for something: an empty <bandwidth/> means "no bandwidth". */
export function hasBandwidth(bw: Bandwidth | null | undefined): bw is Bandwidth {
  return !!bw && (!!bw.inbound || !!bw.outbound);
}

/** The guest's inbound floor, 0n when there is none. */
export function bandwidthFloor(bw: Bandwidth | null | undefined): bigint {
  return kbps(bw?.inbound?.floor, 'floor');
}

/** True when the interface asks for a guaranteed minimum (libvirt virNetDevBandwidthHasFloor). */
export function hasFloor(bw: Bandwidth | null | undefined): boolean {
  return bandwidthFloor(bw) !== 0n;
}

/** The network's limit C that every floor class may borrow up to: inbound peak, else average. */
export function networkCeil(netBw: Bandwidth): bigint {
  const peak = kbps(netBw.inbound?.peak, 'peak');
  return peak !== 0n ? peak : kbps(netBw.inbound?.average, 'average');
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/**
 * The u32 filter node handle of floor class `id`: "800::" + the decimal text of 800+id, which tc
 * reads as hex (id 3 → node 0x803). The root hash table of the prio is 800:, and since Linux
 * 4.20 the kernel refuses to delete it while it holds filters; giving each filter its own node
 * (in the range the kernel would allocate from anyway) lets tsvirt delete exactly one filter.
 */
export function floorFilterHandle(id: number): string {
  return `800::${800 + id}`;
}

/** "1:a" for class id 10: class and qdisc ids are printed in hex, as tc reads them. */
export function floorClassId(id: number): string {
  return `1:${id.toString(16)}`;
}

/** The argv of the u32 filter that sends traffic for `mac` (Ethernet destination) to class `id`. */
export function floorFilterAddArgs(bridge: string, mac: string, id: number): string[] {
  const b = macBytes(mac);
  // Offsets are relative to the IP header: -2 is the EtherType (IPv4 only, protocol ip),
  // -14..-9 the destination MAC: the filter classifies what the bridge sends to the guest.
  return [
    'filter', 'add', 'dev', bridge, 'protocol', 'ip', 'prio', '2', 'handle', floorFilterHandle(id), 'u32',
    'match', 'u16', '0x0800', '0xffff', 'at', '-2',
    'match', 'u32', `0x${hex2(b[2]!)}${hex2(b[3]!)}${hex2(b[4]!)}${hex2(b[5]!)}`, '0xffffffff', 'at', '-12',
    'match', 'u16', `0x${hex2(b[0]!)}${hex2(b[1]!)}`, '0xffff', 'at', '-14',
    'flowid', floorClassId(id),
  ];
}

export function floorFilterDelArgs(bridge: string, id: number): string[] {
  return ['filter', 'del', 'dev', bridge, 'prio', '2', 'handle', floorFilterHandle(id), 'u32'];
}

function invalidClassId(id: number) {
  return virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, `Invalid class ID ${id}`, { value: String(id) });
}

// The kernel's refusals (netlink extack text, which tc prints) for kinds it was built without.
// This machine's kernel has no sch_sfq and no cls_fw; see setBandwidth for what tsvirt does then.
const UNKNOWN_QDISC = /Specified qdisc kind is unknown/;
const UNKNOWN_CLASSIFIER = /TC classifier not found/;

export interface NetDevBandwidthOptions {
  tc?: Tc;
  /**
   * Whether this process may shape traffic (libvirt: euid 0). Unprivileged drivers refuse any
   * bandwidth setting. Default: running as root.
   */
  privileged?: boolean;
}

/**
 * tc operations on one host: interface limits (setBandwidth/clearBandwidth) and the per-
 * interface pieces of a network bridge's floor hierarchy (plugFloor, unplugFloor,
 * updateClassRate, updateFloorFilter). Admission control and class-id bookkeeping live in
 * bandwidthFloor.ts.
 */
export class NetDevBandwidth {
  readonly tc: Tc;
  readonly privileged: boolean;

  constructor(options: NetDevBandwidthOptions = {}) {
    this.tc = options.tc ?? new Tc();
    this.privileged = options.privileged ?? process.geteuid?.() === 0;
  }

  /**
   * virNetDevBandwidthSet: replaces whatever root and ingress qdiscs `dev` had with the limits of
   * `bw` (§3.2). No bandwidth (absent or `<bandwidth/>`) → nothing, not even a tc call. On
   * failure the device is left cleared (root and ingress qdiscs removed) and the error thrown.
   */
  async setBandwidth(dev: string | null | undefined, bw: Bandwidth | null | undefined, options: SetBandwidthOptions = {}): Promise<void> {
    if (!hasBandwidth(bw)) return;
    if (!this.privileged) {
      throw virtError(ErrorNumber.OPERATION_UNSUPPORTED, ErrorDomain.NONE, 'Network bandwidth tuning is not available in session mode');
    }
    if (!dev) {
      throw virtError(
        ErrorNumber.OPERATION_UNSUPPORTED,
        ErrorDomain.NONE,
        'Unable to set bandwidth for interface because device name is unknown',
      );
    }
    const hierarchical = options.hierarchical ?? false;
    const swapped = options.swapped ?? false;
    const rx = swapped ? bw.outbound : bw.inbound;
    const tx = swapped ? bw.inbound : bw.outbound;
    // Validate every number before the first tc call, so bad input changes nothing.
    const txAvg = kbps(tx?.average, 'average');
    const txPeak = kbps(tx?.peak, 'peak');
    const txBurst = kbps(tx?.burst, 'burst');
    const rxAvg = kbps(rx?.average, 'average');
    const rxBurst = kbps(rx?.burst, 'burst');

    await this.clearBandwidth(dev);
    try {
      if (tx && txAvg !== 0n) {
        const average = `${txAvg}kbps`;
        const quantum = String(bandwidthQuantum(txAvg));
        await this.tc.run(['qdisc', 'add', 'dev', dev, 'root', 'handle', '1:', 'htb', 'default', hierarchical ? '2' : '1']);
        if (hierarchical) {
          // 1:1 caps the whole network; 1:2 under it carries traffic without a floor, and each
          // floor gets a sibling 1:<id> (see plugFloor).
          const ceil = txPeak !== 0n ? `${txPeak}kbps` : average;
          await this.tc.run(['class', 'add', 'dev', dev, 'parent', '1:', 'classid', '1:1', 'htb', 'rate', average, 'ceil', ceil, 'quantum', quantum]);
        }
        const cls = ['class', 'add', 'dev', dev, 'parent', hierarchical ? '1:1' : '1:', 'classid', hierarchical ? '1:2' : '1:1', 'htb', 'rate', average];
        if (txPeak !== 0n) cls.push('ceil', `${txPeak}kbps`);
        if (txBurst !== 0n) cls.push('burst', `${txBurst}kb`);
        cls.push('quantum', quantum);
        await this.tc.run(cls);
        await this.addFairQueue(dev, hierarchical ? '1:2' : '1:1', '2:');
        await this.addMarkFilter(dev);
      }
      // libvirt also polices an RX with average 0 ("rate 0kbps", which tc rejects); that can only
      // come from a config validation refuses, so tsvirt treats it as "no limit".
      if (rx && rxAvg !== 0n) {
        const burst = rxBurst !== 0n ? rxBurst : rxAvg < MAX_POLICE_BURST_KB ? rxAvg : MAX_POLICE_BURST_KB;
        await this.tc.run(['qdisc', 'add', 'dev', dev, 'ingress']);
        await this.tc.run([
          'filter', 'add', 'dev', dev, 'parent', 'ffff:', 'protocol', 'all', 'u32', 'match', 'u32', '0', '0',
          'police', 'rate', `${rxAvg}kbps`, 'burst', `${burst}kb`, 'mtu', '64kb', 'drop', 'flowid', ':1',
        ]);
      }
    } catch (err) {
      await this.clearBandwidth(dev).catch(() => undefined);
      throw err;
    }
  }

  /**
   * virNetDevBandwidthSetRootQDisc: `tc qdisc add dev D root handle 0: <qdisc>`. Returns false
   * when tc refused (not an error: the device keeps its default qdisc); throws only when tc
   * could not be run at all.
   */
  async setRootQDisc(dev: string, qdisc: string): Promise<boolean> {
    const res = await this.tc.run(['qdisc', 'add', 'dev', dev, 'root', 'handle', '0:', qdisc], { allowFailure: true });
    return res.status === 0;
  }

  /**
   * qemuDomainInterfaceSetDefaultQDisc: a privileged driver gives each guest tap/macvtap the
   * noqueue root qdisc, right after creating it and before setBandwidth (libvirt 9.0 does this
   * for every ethernet/network/bridge/direct interface; newer libvirt skips interfaces with
   * bandwidth, which ends in the same state since setBandwidth deletes the root qdisc first).
   * Failure is only a warning; unprivileged: nothing.
   */
  async setDefaultQDisc(dev: string | null | undefined): Promise<boolean> {
    if (!this.privileged || !dev) return false;
    const ok = await this.setRootQDisc(dev, 'noqueue');
    if (!ok) this.tc.warn(`Unable to set the noqueue root qdisc on ${dev}`);
    return ok;
  }

  /**
   * virNetDevBandwidthClear: deletes the root and ingress qdiscs (exit status ignored: a device
   * with its default qdisc has nothing to delete). Used at stop and before every set.
   */
  async clearBandwidth(dev: string | null | undefined): Promise<void> {
    if (!dev) return;
    await this.tc.run(['qdisc', 'del', 'dev', dev, 'root'], { allowFailure: true });
    await this.tc.run(['qdisc', 'del', 'dev', dev, 'ingress'], { allowFailure: true });
  }

  /**
   * virNetDevBandwidthPlug: class 1:<id> (rate = the interface's floor, ceil = the network's
   * limit) with its leaf qdisc and the u32 filter on the guest's MAC (§3.3). `id` comes from
   * ClassIdMap.allocate(). On failure everything this call made is removed again (unplug
   * sequence) before the error is thrown. Does not touch class 1:2: see updateClassRate.
   */
  async plugFloor(bridge: string, netBw: Bandwidth | null | undefined, mac: string, ifaceBw: Bandwidth, id: number): Promise<void> {
    if (!Number.isInteger(id) || id <= 2) throw invalidClassId(id);
    if (!netBw?.inbound) {
      throw virtError(
        ErrorNumber.CONFIG_UNSUPPORTED,
        ErrorDomain.NONE,
        `Bridge '${bridge}' has no QoS set, therefore unable to set 'floor' on '${mac}'`,
        { object: bridge },
      );
    }
    const filterArgs = floorFilterAddArgs(bridge, mac, id); // validates the MAC first
    const floor = `${bandwidthFloor(ifaceBw)}kbps`;
    const ceil = `${networkCeil(netBw)}kbps`;
    const quantum = String(bandwidthQuantum(ifaceBw.inbound?.average ?? 0));
    const classId = floorClassId(id);
    try {
      await this.tc.run(['class', 'add', 'dev', bridge, 'parent', '1:1', 'classid', classId, 'htb', 'rate', floor, 'ceil', ceil, 'quantum', quantum]);
      await this.addFairQueue(bridge, classId, `${id.toString(16)}:`);
      await this.tc.run(filterArgs);
    } catch (err) {
      await this.unplugFloor(bridge, id).catch(() => undefined);
      throw err;
    }
  }

  /**
   * virNetDevBandwidthUnplug: removes class 1:<id>, its qdisc and its filter, nothing else
   * (§3.3). Every step's exit status is ignored so as much as possible goes.
   *
   * Note: libvirt's "qdisc del dev BR handle <id>:" gives no parent, which current kernels
   * refuse ("Classid cannot be zero"); the leaf qdisc goes anyway with its class. The command
   * is kept so the argv matches libvirt's.
   */
  async unplugFloor(bridge: string, id: number): Promise<void> {
    if (!Number.isInteger(id) || id <= 2) throw invalidClassId(id);
    await this.tc.run(['qdisc', 'del', 'dev', bridge, 'handle', `${id.toString(16)}:`], { allowFailure: true });
    await this.tc.run(floorFilterDelArgs(bridge, id), { allowFailure: true });
    await this.tc.run(['class', 'del', 'dev', bridge, 'classid', floorClassId(id)], { allowFailure: true });
  }

  /**
   * virNetDevBandwidthUpdateRate: `class change` of 1:<id> to rate `rateKbps`, ceil = the
   * network's limit, quantum from the network's inbound average. Used for 1:2 after every
   * plug/unplug (rate = limit − Σfloor) and for a live floor change of one interface.
   */
  async updateClassRate(bridge: string, id: number, netBw: Bandwidth, rateKbps: Kbps): Promise<void> {
    const rate = kbps(rateKbps, 'rate');
    await this.tc.run([
      'class', 'change', 'dev', bridge, 'classid', floorClassId(id), 'htb', 'rate', `${rate}kbps`,
      'ceil', `${networkCeil(netBw)}kbps`, 'quantum', String(bandwidthQuantum(netBw.inbound?.average ?? 0)),
    ]);
  }

  /**
   * virNetDevBandwidthUpdateFilter (§3.4): the guest now uses `mac`; delete exactly the filter
   * 800::<800+id> (exit ignored) and add it again for the new MAC. Never touches the hash table
   * 800:: itself, so other interfaces' filters stay. If the add fails and `previousMac` is given,
   * the old filter is put back before the error is thrown.
   */
  async updateFloorFilter(bridge: string, mac: string, id: number, options: { previousMac?: string } = {}): Promise<void> {
    // libvirt also runs this for an interface without a floor (class id 0), adding a stray
    // filter to class 1:0; tsvirt refuses ids that are not floor classes.
    if (!Number.isInteger(id) || id <= 2) throw invalidClassId(id);
    const addArgs = floorFilterAddArgs(bridge, mac, id);
    const restoreArgs = options.previousMac ? floorFilterAddArgs(bridge, options.previousMac, id) : null;
    await this.tc.run(floorFilterDelArgs(bridge, id), { allowFailure: true });
    try {
      await this.tc.run(addArgs);
    } catch (err) {
      if (restoreArgs) await this.tc.run(restoreArgs, { allowFailure: true }).catch(() => undefined);
      throw err;
    }
  }

  /**
   * The leaf qdisc of a class: libvirt's "sfq perturb 10" (fair queueing between flows inside
   * the class). A kernel built without sch_sfq refuses it; then tsvirt puts a pfifo with the
   * same handle there and warns: the class still gets its rate (that is htb's job), only the
   * fairness between flows inside it is lost. libvirt fails the whole operation instead.
   */
  private async addFairQueue(dev: string, parent: string, handle: string): Promise<void> {
    const args = ['qdisc', 'add', 'dev', dev, 'parent', parent, 'handle', handle, 'sfq', 'perturb', '10'];
    const res = await this.tc.run(args, { allowFailure: true });
    if (res.status === 0) return;
    if (!UNKNOWN_QDISC.test(res.stderr)) throw this.tc.failure(args, res);
    this.tc.warn(`kernel has no sfq qdisc: using pfifo as the leaf of class ${parent} on ${dev} (${firstLine(res)})`);
    await this.tc.run(['qdisc', 'add', 'dev', dev, 'parent', parent, 'handle', handle, 'pfifo']);
  }

  /**
   * libvirt's "filter … handle 1 fw flowid 1" (packets carrying firewall mark 1). Nothing in
   * libvirt or tsvirt sets that mark, so on a kernel without cls_fw it is skipped with a warning.
   */
  private async addMarkFilter(dev: string): Promise<void> {
    const args = ['filter', 'add', 'dev', dev, 'parent', '1:0', 'protocol', 'all', 'prio', '1', 'handle', '1', 'fw', 'flowid', '1'];
    const res = await this.tc.run(args, { allowFailure: true });
    if (res.status === 0) return;
    if (!UNKNOWN_CLASSIFIER.test(res.stderr)) throw this.tc.failure(args, res);
    this.tc.warn(`kernel has no fw classifier: skipped the firewall-mark filter on ${dev} (${firstLine(res)})`);
  }
}

function firstLine(res: TcResult): string {
  return res.stderr.trim().split('\n')[0] ?? '';
}
