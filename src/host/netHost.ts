// The host-access objects the network-device code works through, handed to a driver at
// construction (DESIGN.md "Host access"): the rtnetlink socket, the sysfs root, the device
// directory and the name counters. Tests pass a netlink endpoint simulating a kernel with
// SR-IOV NICs and a sysfs tree in a temporary directory.
import { RtNetlink } from './netlink.js';
import { NetdevNames } from './netdevNames.js';
import { SysfsRoot } from './sysfs.js';

export interface NetHost {
  netlink: RtNetlink;
  sysfs: SysfsRoot;
  /** Counters for generated names (vnetN, macvtapN); one per driver. */
  names: NetdevNames;
  /** Where /dev/net/tun and the macvtap nodes /dev/tapN are. */
  devDir: string;
  /** Reports a failure that is only logged (restores at stop). */
  warn?: (err: unknown) => void;
}

/** This machine's defaults, with any part replaced. */
export function netHost(parts: Partial<NetHost> = {}): NetHost {
  return {
    netlink: parts.netlink ?? new RtNetlink(),
    sysfs: parts.sysfs ?? new SysfsRoot('/sys'),
    names: parts.names ?? new NetdevNames(),
    devDir: parts.devDir ?? '/dev',
    ...(parts.warn ? { warn: parts.warn } : {}),
  };
}
