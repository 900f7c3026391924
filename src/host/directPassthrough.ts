// `<interface type='direct'>` with `<source dev=… mode='passthrough'/>`: a macvtap in passthru
// mode takes over a whole device (usually an SR-IOV VF), and shares that device's MAC, so the
// device itself gets the guest's MAC first (spec §2.3, §2.4). Start saves the device's state
// (PF-online check for a VF), sets the MAC (and VF VLAN), creates the macvtap down and opens its
// queues; any failure undoes the steps before it. Stop deletes the macvtap and restores.
import type { VirtError } from '../errors/index.js';
import { getLink, setLinkUp } from './link.js';
import { createMacvtap, deleteMacvtap, openMacvtapQueues } from './macvtap.js';
import { collectWarnings, type NetHost } from './netHost.js';
import { readNetConfig, restoreSavedNetConfig, saveNetConfig, setNetConfig, type VlanConfig } from './netConfigState.js';

export interface DirectPassthroughOptions {
  /** `<source dev>`: a VF netdev or a plain NIC. */
  linkdev: string;
  guestMac: string;
  vlan?: VlanConfig | null;
  /** QEMU driver state directory (<runDir>/qemu). */
  stateDir: string;
  /** `<target dev>`: a name, a template, or absent for macvtap%d. */
  name?: string;
  /** `<virtualport type>`; 802.1Qbh handles VLANs itself, so none are set (Cisco enic). */
  virtualportType?: string | null;
  /** Queues to open on /dev/tapN (0: open none here). Default 1. */
  queues?: number;
  vnetHdr?: boolean;
}

export interface DirectPassthroughDevice {
  name: string;
  ifindex: number;
  fds: number[];
}

async function restoreDevice(host: NetHost, linkdev: string, stateDir: string): Promise<void> {
  const saved = await readNetConfig(host, linkdev, -1, stateDir);
  if (saved) await restoreSavedNetConfig(host, linkdev, -1, saved, 'direct');
}

/** Start (and hotplug) of a passthrough direct interface. The macvtap is left down. */
export async function prepareDirectPassthrough(host: NetHost, options: DirectPassthroughOptions): Promise<DirectPassthroughDevice> {
  const { linkdev, stateDir } = options;
  const setVlan = options.virtualportType !== '802.1Qbh';
  const vlan = options.vlan ?? null;
  await saveNetConfig(host, linkdev, -1, stateDir, setVlan);

  const undo: (() => Promise<void>)[] = [() => restoreDevice(host, linkdev, stateDir)];
  const rollback = async () => {
    const warnings: VirtError[] = [];
    for (const step of undo.reverse()) await step().catch(collectWarnings(host, warnings));
  };
  try {
    await setNetConfig(host, linkdev, -1, { adminMac: null, vlan, mac: options.guestMac, setVlan });
    const mvt = await createMacvtap(host, {
      ...(options.name ? { name: options.name } : {}),
      linkdev,
      mode: 'passthrough',
      mac: options.guestMac,
    });
    undo.push(() => deleteMacvtap(host, mvt.name));
    const queues = options.queues ?? 1;
    const fds = queues > 0 ? await openMacvtapQueues(host, mvt.name, mvt.ifindex, queues, !!options.vnetHdr) : [];
    return { name: mvt.name, ifindex: mvt.ifindex, fds };
  } catch (err) {
    await rollback();
    throw err;
  }
}

/**
 * Just before the guest CPUs start: the lower device up if it is down (passthrough), then the
 * macvtap up.
 */
export async function startDirectInterface(host: NetHost, name: string, physdev?: string | null): Promise<void> {
  if (physdev) {
    const l = await getLink(host.netlink, physdev);
    if (l && !l.up) await setLinkUp(host.netlink, physdev, true);
  }
  await setLinkUp(host.netlink, name, true);
}

/**
 * Stop (and unplug) of a passthrough direct interface (spec §2.4): macvtap and the device down,
 * macvtap deleted, the device's MAC (and VF admin MAC/VLAN) restored from the state file, which
 * is removed. Failures are returned (and passed to host.warn); the stop goes on.
 */
export async function restoreDirectPassthrough(
  host: NetHost,
  options: { name: string; linkdev: string; stateDir: string },
): Promise<VirtError[]> {
  const warnings: VirtError[] = [];
  const warn = collectWarnings(host, warnings);
  if (await getLink(host.netlink, options.name).catch(() => null)) {
    await setLinkUp(host.netlink, options.name, false).catch(warn);
  }
  await setLinkUp(host.netlink, options.linkdev, false).catch(warn);
  await deleteMacvtap(host, options.name).catch(warn);
  await restoreDevice(host, options.linkdev, options.stateDir).catch(warn);
  return warnings;
}
