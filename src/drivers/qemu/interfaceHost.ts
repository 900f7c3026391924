// The host side of guest interfaces (spec network-devices §2, §4): what start and hotplug do on
// the host for each <interface> before QEMU gets it, and what stop and unplug undo. Every change
// is recorded in a NetHostRecord, which goes into the status file, so a restarted driver undoes
// exactly what was done; a half-prepared interface is undone before the error is reported.
//
//   ethernet (managed)     a tap made here: host-side MAC, MTU, up; fds to QEMU
//   ethernet managed='no'  the admin's tap or macvtap, only opened (nothing about it changes)
//   bridge / network       a tap made here and enslaved to the bridge
//   direct                 a macvtap on <source dev>, created down, up just before the CPUs run
//                          (passthrough: the device takes the guest MAC, restored at stop)
//   hostdev                an SR-IOV VF detached to vfio-pci, admin MAC/VLAN set on its PF
//   network                a port of the network, then one of the above for its actual type
//   user and the rest      nothing on the host
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { InterfaceDef } from '../../conf/domain/interface.js';
import { isVirtioModel } from '../../conf/domain/interface.js';
import { ErrorDomain, ErrorNumber, VirtError, virtError } from '../../errors/index.js';
import type { Bandwidth } from '../../host/bandwidth.js';
import type { NetDevBandwidth } from '../../host/bandwidth.js';
import { getLink } from '../../host/link.js';
import { createMacvtap, deleteMacvtap, openMacvtapQueues } from '../../host/macvtap.js';
import type { NetHost } from '../../host/netHost.js';
import { closeFds, createTap, deleteTap, openUnmanagedTap, type TapDevice } from '../../host/tap.js';
import { prepareDirectPassthrough, restoreDirectPassthrough, startDirectInterface } from '../../host/directPassthrough.js';
import { prepareHostdevInterface, restoreHostdevInterface } from '../../host/hostdevNet.js';
import type { VlanConfig } from '../../host/netConfigState.js';
import type { NetDevVlan } from '../../conf/netdevVlan.js';
import { pciAddressString } from '../../conf/domain/deviceAddress.js';
import { portActualNetDef, type NetworkDriverState } from '../network/index.js';

const run = promisify(execFile);

/** What was done on the host for one interface, enough to undo it later (kept in the status file). */
export interface NetHostRecord {
  mac: string;
  alias?: string;
  /** The interface type the host side was built for (the actual type for type='network'). */
  type: string;
  /** A device tsvirt created and removes at stop (a tap usually goes with QEMU's descriptors). */
  created?: { kind: 'tap' | 'macvtap'; name: string };
  /** An admin's device that was only opened (managed='no'): never removed or changed. */
  opened?: string;
  /** The device whose tc limits tsvirt set and clears at stop. */
  bandwidthOn?: string;
  /** A macvtap that must be brought up when the guest CPUs start. */
  upAtStart?: string;
  /** <downscript> to run at stop with the device name. */
  downscript?: string;
  /** The network port a type='network' interface got (released at stop). */
  networkPort?: { network: string; uuid: string };
  /** The VF of a hostdev interface (admin MAC/VLAN restored, VF reattached at stop). */
  hostdev?: { address: string; managed: boolean };
  /** The device a passthrough macvtap took over (its MAC restored at stop). */
  passthrough?: { linkdev: string };
}

/** An interface made ready for QEMU: its descriptors (one per queue) and its record. */
export interface PreparedInterface {
  record: NetHostRecord;
  /** Tap or macvtap descriptors for `-netdev tap,fds=…`; closed once QEMU holds its copies. */
  tapfds: number[];
  /** The host device name QEMU's netdev refers to (also written to the live <target dev>). */
  ifname?: string;
  vnetHdr: boolean;
}

/** What interface setup works with: the host's netlink/sysfs and tc. */
export interface InterfaceHostContext {
  net: NetHost;
  bandwidth: NetDevBandwidth;
  /** Running as root: taps can be created, tc run. */
  privileged: boolean;
  /** The network driver, for type='network' interfaces. */
  network?: NetworkDriverState;
  /** Where VF state files go: <runDir>/hostdevmgr and <runDir>/qemu (spec §1.8). */
  hostdevStateDir: string;
  qemuStateDir: string;
  /** A failure that is only logged (restores during stop). */
  warn(err: unknown): void;
}

/** Models whose QEMU device takes virtio-net headers on the tap (spec §4.1). */
function wantsVnetHdr(net: InterfaceDef): boolean {
  return isVirtioModel(net.model) || net.model === 'e1000e' || net.model === 'igb' || net.model === 'vmxnet3';
}

function queuesOf(net: InterfaceDef): number {
  return net.driver?.queues && net.driver.queues > 1 ? net.driver.queues : 1;
}

function toBandwidth(net: InterfaceDef): Bandwidth | null {
  const bw = net.actual?.bandwidth ?? net.bandwidth;
  if (!bw || (!bw.inbound && !bw.outbound)) return null;
  return { inbound: bw.inbound ?? null, outbound: bw.outbound ?? null };
}

function vlanConfig(v: NetDevVlan | undefined): VlanConfig | null {
  if (!v || !v.tag.length) return null;
  return { tags: v.tag.map((t) => t.id), ...(v.trunk ? { trunk: true } : {}) };
}

function unsupported(msg: string): VirtError {
  return virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, msg);
}

/**
 * Prepares the host side of one interface. On failure everything this call did is undone and
 * the error thrown; on success the live definition's <target dev> names the host device.
 */
export async function prepareInterface(
  ctx: InterfaceHostContext,
  net: InterfaceDef,
  dom: { name: string; uuid: string },
): Promise<PreparedInterface> {
  const record: NetHostRecord = { mac: net.mac.address, type: net.type };
  if (net.alias) record.alias = net.alias;
  const prepared: PreparedInterface = { record, tapfds: [], vnetHdr: false };
  try {
    let type: string = net.type;
    if (net.type === 'network') {
      await allocatePort(ctx, net, dom, record);
      type = net.actual!.type === 'network' ? 'bridge' : net.actual!.type;
      record.type = type;
    }
    switch (type) {
      case 'ethernet':
        if (net.target?.managed === false) await openUnmanaged(ctx, net, prepared);
        else await makeTap(ctx, net, prepared, undefined);
        break;
      case 'bridge': {
        const bridge = net.actual?.source?.bridge ?? net.source?.bridge;
        if (!bridge) throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, 'missing bridge name for bridge interface');
        if (!ctx.privileged) {
          throw unsupported(`bridge interface '${bridge}' needs a privileged driver (qemu-bridge-helper is not supported)`);
        }
        await makeTap(ctx, net, prepared, bridge);
        break;
      }
      case 'direct':
        await makeMacvtap(ctx, net, prepared);
        break;
      case 'hostdev':
        await makeHostdev(ctx, net, prepared);
        break;
      default:
        // user, vhostuser, server, client, mcast, udp, null, …: QEMU does it all.
        break;
    }
    if (prepared.ifname) {
      net.target = { ...(net.target ?? {}), dev: prepared.ifname };
    }
    return prepared;
  } catch (err) {
    closeFds(prepared.tapfds);
    await releaseInterface(ctx, record);
    if (net.type === 'network') {
      delete net.actual;
      if (net.source) delete net.source.portid;
    }
    throw err;
  }
}

/** A port of the interface's network; the live definition gets its <actual> and portid. */
async function allocatePort(ctx: InterfaceHostContext, net: InterfaceDef, dom: { name: string; uuid: string }, record: NetHostRecord): Promise<void> {
  const network = net.source?.network;
  if (!ctx.network || !network) throw unsupported(`interface ${net.mac.address}: no network driver for network '${network ?? ''}'`);
  const port = await ctx.network.allocatePort(network, {
    domainName: dom.name,
    domainUUID: dom.uuid,
    mac: net.mac.address,
    ...(net.source?.portgroup ? { portgroup: net.source.portgroup } : {}),
    ...(net.bandwidth ? { bandwidth: net.bandwidth } : {}),
    ...(net.vlan ? { vlan: net.vlan } : {}),
    ...(net.virtualport ? { virtualport: net.virtualport } : {}),
    ...(net.trustGuestRxFilters !== undefined ? { trustGuestRxFilters: net.trustGuestRxFilters } : {}),
    ...(net.portIsolated !== undefined ? { portIsolated: net.portIsolated } : {}),
  });
  record.networkPort = { network, uuid: port.uuid };
  net.actual = portActualNetDef(port);
  net.source = { ...net.source, portid: port.uuid };
}

async function makeHostdev(ctx: InterfaceHostContext, net: InterfaceDef, p: PreparedInterface): Promise<void> {
  const hd = net.actual?.hostdev ?? net.hostdev;
  if (!hd || hd.source.type !== 'pci') throw unsupported('only PCI host devices can be used for interface type hostdev');
  const address = pciAddressString(hd.source.address);
  const managed = hd.managed;
  await prepareHostdevInterface(ctx.net, {
    address,
    guestMac: net.mac.address,
    vlan: vlanConfig(net.actual?.vlan ?? net.vlan),
    stateDir: ctx.hostdevStateDir,
    managed,
  });
  p.record.hostdev = { address, managed };
}

async function makeTap(ctx: InterfaceHostContext, net: InterfaceDef, p: PreparedInterface, bridge: string | undefined): Promise<void> {
  if (!ctx.privileged) {
    throw virtError(
      ErrorNumber.CONFIG_UNSUPPORTED,
      ErrorDomain.QEMU,
      `interface ${net.mac.address}: an unprivileged driver cannot create taps; use <target dev='…' managed='no'/> with a tap the user owns`,
    );
  }
  const tap: TapDevice = await createTap(ctx.net, {
    name: net.target?.dev,
    queues: queuesOf(net),
    vnetHdr: wantsVnetHdr(net),
    guestMac: net.mac.address,
    bridge,
    mtu: net.mtu,
  });
  p.tapfds = tap.fds;
  p.ifname = tap.name;
  p.vnetHdr = tap.vnetHdr;
  p.record.created = { kind: 'tap', name: tap.name };
  if (net.script) await runScript(net.script, tap.name);
  if (net.downscript) p.record.downscript = net.downscript;
  await applyBandwidth(ctx, net, p, tap.name, true);
}

async function openUnmanaged(ctx: InterfaceHostContext, net: InterfaceDef, p: PreparedInterface): Promise<void> {
  const dev = await openUnmanagedTap(ctx.net, net.target?.dev, { queues: queuesOf(net), vnetHdr: wantsVnetHdr(net) });
  p.tapfds = dev.fds;
  p.ifname = dev.name;
  p.vnetHdr = dev.vnetHdr;
  p.record.opened = dev.name;
  if (net.script) await runScript(net.script, dev.name);
  if (net.downscript) p.record.downscript = net.downscript;
  // A macvtap shares the guest's view of the directions; a tap's are swapped (spec §4.4).
  await applyBandwidth(ctx, net, p, dev.name, dev.type === 'tap');
}

async function makeMacvtap(ctx: InterfaceHostContext, net: InterfaceDef, p: PreparedInterface): Promise<void> {
  const linkdev = net.actual?.source?.dev ?? net.source?.dev;
  if (!linkdev) throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, 'missing source dev for direct interface');
  const mode = net.actual?.source?.mode ?? net.source?.mode ?? 'vepa';
  const vnetHdr = wantsVnetHdr(net);
  if (mode === 'passthrough') {
    const dev = await prepareDirectPassthrough(ctx.net, {
      linkdev,
      guestMac: net.mac.address,
      vlan: vlanConfig(net.actual?.vlan ?? net.vlan),
      stateDir: ctx.qemuStateDir,
      ...(net.target?.dev ? { name: net.target.dev } : {}),
      virtualportType: (net.actual?.virtualport ?? net.virtualport)?.type ?? null,
      queues: queuesOf(net),
      vnetHdr,
    });
    p.record.created = { kind: 'macvtap', name: dev.name };
    p.record.passthrough = { linkdev };
    p.record.upAtStart = dev.name;
    p.ifname = dev.name;
    p.tapfds = dev.fds;
    p.vnetHdr = vnetHdr;
  } else {
    if (mode !== 'vepa' && mode !== 'private' && mode !== 'bridge') throw unsupported(`unknown macvtap mode '${mode}'`);
    const made = await createMacvtap(ctx.net, { name: net.target?.dev, linkdev, mode, mac: net.mac.address });
    p.record.created = { kind: 'macvtap', name: made.name };
    p.ifname = made.name;
    p.tapfds = await openMacvtapQueues(ctx.net, made.name, made.ifindex, queuesOf(net), vnetHdr);
    p.vnetHdr = vnetHdr;
    p.record.upAtStart = made.name;
  }
  await applyBandwidth(ctx, net, p, p.ifname!, false);
}

/**
 * tc on the guest's host device, in libvirt 9.0's order: the noqueue root qdisc (a privileged
 * driver does this for every tap and macvtap; tc refusing is only a warning), then the limits
 * of <bandwidth>. An admin's device (managed='no') gets its default qdisc back at stop, which
 * libvirt leaves as noqueue.
 */
async function applyBandwidth(ctx: InterfaceHostContext, net: InterfaceDef, p: PreparedInterface, dev: string, swapped: boolean): Promise<void> {
  if ((await ctx.bandwidth.setDefaultQDisc(dev)) && p.record.opened) p.record.bandwidthOn = dev;
  const bw = toBandwidth(net);
  if (!bw) return;
  p.record.bandwidthOn = dev;
  await ctx.bandwidth.setBandwidth(dev, bw, { hierarchical: false, swapped });
}

async function runScript(script: string, ifname: string): Promise<void> {
  if (!script) return;
  try {
    await run(script, [ifname], { timeout: 60_000 });
  } catch (err) {
    const e = err as { stderr?: string; code?: unknown };
    throw virtError(
      ErrorNumber.INTERNAL_ERROR,
      ErrorDomain.QEMU,
      `Child process (${script} ${ifname}) unexpected exit status ${String(e.code ?? '?')}: ${(e.stderr ?? '').trim()}`,
      { value: script },
    );
  }
}

/** Brings up devices that wait for the guest CPUs (macvtaps are created down). */
export async function activateInterface(ctx: InterfaceHostContext, record: NetHostRecord): Promise<void> {
  if (record.upAtStart) await startDirectInterface(ctx.net, record.upAtStart, record.passthrough?.linkdev);
}

/**
 * Undoes what prepareInterface did (stop, unplug, or a failed start): clears tc limits, removes
 * the devices tsvirt created, runs the downscript. Failures are reported through ctx.warn and
 * never stop the rest of the teardown; an admin's own device is never touched beyond its tc.
 */
export async function releaseInterface(ctx: InterfaceHostContext, record: NetHostRecord): Promise<void> {
  const step = async (fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      ctx.warn(err);
    }
  };
  if (record.bandwidthOn) {
    const dev = record.bandwidthOn;
    // A tap that went with QEMU has no qdiscs left to clear.
    await step(async () => {
      if (await getLink(ctx.net.netlink, dev)) await ctx.bandwidth.clearBandwidth(dev);
    });
  }
  const created = record.created;
  if (record.passthrough && created) {
    const linkdev = record.passthrough.linkdev;
    await step(async () => {
      for (const w of await restoreDirectPassthrough(ctx.net, { name: created.name, linkdev, stateDir: ctx.qemuStateDir })) ctx.warn(w);
    });
  } else if (created?.kind === 'macvtap') {
    await step(() => deleteMacvtap(ctx.net, created.name));
  } else if (created?.kind === 'tap') {
    await step(() => deleteTap(ctx.net, created.name));
  }
  const hd = record.hostdev;
  if (hd) {
    await step(async () => {
      for (const w of await restoreHostdevInterface(ctx.net, { address: hd.address, stateDir: ctx.hostdevStateDir, managed: hd.managed })) ctx.warn(w);
    });
  }
  const port = record.networkPort;
  if (port && ctx.network) {
    const network = ctx.network;
    await step(() => network.releasePort(port.network, port.uuid));
  }
  const dev = created?.name ?? record.opened;
  if (record.downscript && dev) {
    const script = record.downscript;
    await step(() => runScript(script, dev));
  }
}

/** Names every host device of the records (to push the vnetN/macvtapN counters past them). */
export function recordDeviceNames(records: readonly NetHostRecord[]): string[] {
  return records.flatMap((r) => (r.created ? [r.created.name] : []));
}
