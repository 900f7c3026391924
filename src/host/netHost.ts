// The host-access objects the network-device code works through, handed to a driver at
// construction (DESIGN.md "Host access"): the rtnetlink socket, the sysfs root, the device
// directory and the name counters. Tests pass a netlink endpoint simulating a kernel with
// SR-IOV NICs and a sysfs tree in a temporary directory.
import { ErrorDomain, VirtError, fromSystemError } from '../errors/index.js';
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

/**
 * A warn callback for a restore that goes on past failures: each failure (as a VirtError) is
 * kept in `warnings`, for the caller to return, and passed to host.warn.
 */
export function collectWarnings(host: NetHost, warnings: VirtError[]): (err: unknown) => void {
  return (err: unknown) => {
    const e = err instanceof VirtError ? err : fromSystemError(err, ErrorDomain.NONE, 'restore failed');
    warnings.push(e);
    host.warn?.(e);
  };
}
