// Tap devices for guest interfaces (spec network-devices §4). A managed tap is created through
// /dev/net/tun (one fd per queue, handed to QEMU as `-netdev tap,fd=N`), given the host-side
// MAC, MTU, bridge and up state, and disappears when the last fd closes. An unmanaged tap
// (`<target dev='mytap0' managed='no'/>`) belongs to the admin: it is only opened, never
// created, renamed, re-MACed, brought up, enslaved, re-flagged or deleted.
import { closeSync, constants, openSync } from 'node:fs';
import { join } from 'node:path';
import { Errno, ErrorDomain, ErrorNumber, VirtError, fromSystemError, systemError, virtError } from '../errors/index.js';
import {
  IFF_MULTI_QUEUE,
  IFF_NO_PI,
  IFF_TAP,
  IFF_TUN_EXCL,
  IFF_VNET_HDR,
  tunSetIff,
} from './syscalls.js';
import { checkIfname, deleteLink, getLink, setLinkMac, setLinkMaster, setLinkMtu, setLinkUp } from './link.js';
import { tapHostMac } from '../conf/macAddr.js';
import { formatMac, macBytes } from './macAddress.js';
import { openMacvtapQueues } from './macvtap.js';
import type { NetHost } from './netHost.js';
import { VNET_TEMPLATE, isNameTemplate } from './netdevNames.js';


/** A tap (or macvtap) opened for a guest: the name and one fd per queue. */
export interface TapDevice {
  name: string;
  ifindex: number;
  /** One fd per queue, to pass to QEMU; the caller closes them once QEMU holds its copies. */
  fds: number[];
  /** Whether the fds carry virtio-net headers (QEMU's `vnet_hdr=on`). */
  vnetHdr: boolean;
  /** 'tap' for a tun/tap device, 'macvtap' for /dev/tapN of a macvtap. */
  type: 'tap' | 'macvtap';
}

/** The host side's MAC for a guest MAC (first byte 0xFE, or 0xFA): conf's tapHostMac, as text. */
export function hostSideMac(guestMac: string): string {
  return formatMac(tapHostMac(macBytes(guestMac)));
}

export interface CreateTapOptions {
  /** A name, a template with one %d, or absent for vnet%d. */
  name?: string;
  /** `<driver queues>`; more than 1 makes a multi-queue tap. */
  queues?: number;
  /** IFF_VNET_HDR (virtio, e1000e, igb, vmxnet3 models). */
  vnetHdr?: boolean;
  /** The guest's MAC; the tap gets hostSideMac() of it (or the MAC itself with useMacAsIs). */
  guestMac?: string;
  /** Keep the guest MAC unchanged on the tap (a network's own dummy tap). */
  useMacAsIs?: boolean;
  /** Bridge to enslave the tap to; the tap takes the bridge's MTU first. */
  bridge?: string;
  /** A configured `<mtu size>`, applied after enslaving. */
  mtu?: number;
  /** Bring the tap up (default true). */
  up?: boolean;
  /** `<backend tap='…'/>` instead of <devDir>/net/tun. */
  tunPath?: string;
}

/** Closes each descriptor of the list (one already closed is skipped) and empties the list. */
export function closeFds(fds: number[]): void {
  for (const fd of fds.splice(0)) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
}

function openTun(path: string): number {
  try {
    return openSync(path, constants.O_RDWR);
  } catch (err) {
    throw fromSystemError(err, ErrorDomain.NONE, `Unable to open ${path}, is tun module loaded?`, { object: path });
  }
}

/**
 * Opens one queue of tap `name` with `flags`; returns the fd and the name the kernel gave it,
 * 'taken' when EXCL found the name in use, or throws.
 */
function openQueue(tunPath: string, name: string, flags: number): { fd: number; name: string } | 'taken' {
  const fd = openTun(tunPath);
  const r = tunSetIff(fd, name, flags);
  if (r.ok) return { fd, name: r.name };
  closeSync(fd);
  if ((flags & IFF_TUN_EXCL) && (r.errno === Errno.EBUSY || r.errno === Errno.EEXIST)) return 'taken';
  if (r.errno === Errno.ERANGE) throw systemError(ErrorDomain.NONE, Errno.ERANGE, `Network interface name '${name}' is too long`, { value: name });
  throw systemError(ErrorDomain.NONE, r.errno, `Unable to create tap device ${name}`, { object: name });
}

/**
 * Creates a managed tap (spec §4.1, §4.2, §4.4): opens `queues` fds, names it (the given name,
 * which must not exist yet, or the next free vnetN), sets the host-side MAC, takes the bridge's
 * MTU, enslaves it, applies a configured MTU and brings it up. On failure the fds are closed,
 * which removes the tap (and its bridge port) again.
 */
export async function createTap(host: NetHost, options: CreateTapOptions = {}): Promise<TapDevice> {
  const queues = options.queues ?? 1;
  if (!Number.isInteger(queues) || queues < 1) {
    throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, `invalid number of tap queues ${queues}`);
  }
  const tunPath = options.tunPath ?? join(host.devDir, 'net', 'tun');
  const flags = IFF_TAP | IFF_NO_PI | (queues > 1 ? IFF_MULTI_QUEUE : 0) | (options.vnetHdr ? IFF_VNET_HDR : 0);
  const fds: number[] = [];
  try {
    const template = options.name ?? VNET_TEMPLATE;
    let name: string;
    if (isNameTemplate(template)) {
      const first = await host.names.allocate(template, async (candidate) => {
        if (await getLink(host.netlink, candidate)) return 'taken';
        return openQueue(tunPath, candidate, flags | IFF_TUN_EXCL);
      });
      fds.push(first.fd);
      name = first.name;
    } else {
      checkIfname(template);
      // A user-given name that exists is refused: attaching to someone else's tap (what older
      // libvirt did) would hand the guest a device tsvirt then reconfigures and deletes.
      const taken = (await getLink(host.netlink, template)) ? 'taken' : openQueue(tunPath, template, flags | IFF_TUN_EXCL);
      if (taken === 'taken') {
        throw virtError(ErrorNumber.OPERATION_INVALID, ErrorDomain.NONE, `The ${template} interface already exists`, { object: template });
      }
      fds.push(taken.fd);
      name = taken.name;
    }
    for (let i = 1; i < queues; i++) {
      const q = openQueue(tunPath, name, flags);
      if (q === 'taken') throw new Error('unreachable');
      fds.push(q.fd);
    }

    if (options.guestMac) {
      await setLinkMac(host.netlink, name, options.useMacAsIs ? options.guestMac : hostSideMac(options.guestMac));
    }
    if (options.bridge) {
      // Before enslaving: a port with a smaller MTU would lower the bridge's.
      const br = await getLink(host.netlink, options.bridge);
      if (!br) {
        throw systemError(ErrorDomain.NONE, Errno.ENODEV, `Unable to add bridge ${options.bridge} port ${name}`, { object: options.bridge });
      }
      if (br.mtu) await setLinkMtu(host.netlink, name, br.mtu);
      await setLinkMaster(host.netlink, name, options.bridge);
    }
    if (options.mtu) await setLinkMtu(host.netlink, name, options.mtu);
    if (options.up ?? true) await setLinkUp(host.netlink, name, true);
    const link = await getLink(host.netlink, name);
    return { name, ifindex: link?.index ?? 0, fds, vnetHdr: !!options.vnetHdr, type: 'tap' };
  } catch (err) {
    closeFds(fds);
    throw err;
  }
}

/**
 * Removes a managed tap at stop if it is still there (normally it went with QEMU's fds). A
 * device that is not a tun/tap is left alone.
 */
export async function deleteTap(host: NetHost, name: string): Promise<void> {
  const link = await getLink(host.netlink, name);
  if (!link || link.kind !== 'tun') return;
  await deleteLink(host.netlink, name, { missingOk: true });
}

export interface OpenUnmanagedTapOptions {
  queues?: number;
  /** Wanted for a macvtap (per-queue flag). A tap keeps its own vnet_hdr setting. */
  vnetHdr?: boolean;
}

/**
 * Opens an admin-made device for `<target dev=NAME managed='no'/>` (spec §4.4): a tap is attached
 * with TUNSETIFF using exactly the tun flags it already has (vnet_hdr, multi_queue), so nothing
 * about it changes; a macvtap is opened through its /dev/tapN. Works for an unprivileged caller
 * when the tap is owned by its user. Errors: no name → "target dev must be supplied when
 * managed='no'"; no such device → "target managed='no' but specified dev doesn't exist".
 */
export async function openUnmanagedTap(host: NetHost, name: string | undefined | null, options: OpenUnmanagedTapOptions = {}): Promise<TapDevice> {
  if (!name) throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, "target dev must be supplied when managed='no'");
  const link = await getLink(host.netlink, name);
  if (!link) {
    throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, "target managed='no' but specified dev doesn't exist", { object: name });
  }
  const queues = options.queues ?? 1;
  if (link.kind === 'macvtap') {
    const fds = await openMacvtapQueues(host, link.name, link.index, queues, !!options.vnetHdr);
    return { name: link.name, ifindex: link.index, fds, vnetHdr: !!options.vnetHdr, type: 'macvtap' };
  }
  const tun = link.linkinfo && 'tun' in link.linkinfo ? link.linkinfo.tun : undefined;
  if (link.kind !== 'tun' || !tun || tun.type !== IFF_TAP) {
    throw virtError(
      ErrorNumber.CONFIG_UNSUPPORTED,
      ErrorDomain.NONE,
      `target dev '${name}' is ${link.kind === 'tun' ? 'a tun (layer 3) device' : `a ${link.kind ?? 'physical'} device`}, not a tap or macvtap`,
      { object: name },
    );
  }
  if (tun.pi) {
    throw virtError(
      ErrorNumber.CONFIG_UNSUPPORTED,
      ErrorDomain.NONE,
      `tap device '${name}' was created with packet information headers (pi); QEMU needs a tap without them`,
      { object: name },
    );
  }
  if (queues > 1 && !tun.multiQueue) {
    throw virtError(
      ErrorNumber.CONFIG_UNSUPPORTED,
      ErrorDomain.NONE,
      `tap device '${name}' is not multi-queue, so ${queues} queues cannot be opened (create it with multi_queue)`,
      { object: name },
    );
  }
  // TUNSETIFF on an existing tap rewrites its feature flags from ifr_flags: pass back the ones it
  // has, so attaching changes nothing.
  const flags = IFF_TAP | IFF_NO_PI | (tun.vnetHdr ? IFF_VNET_HDR : 0) | (tun.multiQueue ? IFF_MULTI_QUEUE : 0);
  const tunPath = join(host.devDir, 'net', 'tun');
  const fds: number[] = [];
  try {
    for (let i = 0; i < queues; i++) {
      const fd = openTun(tunPath);
      const r = tunSetIff(fd, name, flags);
      if (!r.ok) {
        closeSync(fd);
        throw systemError(ErrorDomain.NONE, r.errno, `Unable to open tap device ${name}`, { object: name });
      }
      fds.push(fd);
    }
  } catch (err) {
    closeFds(fds);
    throw err instanceof VirtError ? err : fromSystemError(err, ErrorDomain.NONE, `Unable to open tap device ${name}`);
  }
  return { name, ifindex: link.index, fds, vnetHdr: !!tun.vnetHdr, type: 'tap' };
}

/** Closes the fds of a tap this process still holds (after QEMU got its copies, or on failure). */
export function closeTapFds(dev: Pick<TapDevice, 'fds'>): void {
  closeFds(dev.fds);
}
