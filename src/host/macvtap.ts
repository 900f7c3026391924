// macvtap and macvlan devices for `<interface type='direct'>` (spec §2.3): created over
// rtnetlink on a lower device in mode vepa, bridge, private or passthrough, and for macvtap
// opened through its character device /dev/tap<ifindex>, once per queue.
import { closeSync, constants, openSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Errno, ErrorDomain, ErrorNumber, VirtError, fromSystemError, systemError, virtError } from '../errors/index.js';
import { IFF_MULTI_QUEUE, IFF_VNET_HDR, mknodChar, tunGetIff, tunSetIff } from './syscalls.js';
import { MacvlanMode, type MacvlanModeName } from './ifla.js';
import { checkIfname, deleteLink, getLink, tryCreateLink } from './link.js';
import type { NetHost } from './netHost.js';
import { MACVLAN_TEMPLATE, MACVTAP_TEMPLATE, isNameTemplate } from './netdevNames.js';


export interface CreateMacvtapOptions {
  /** A name, a template with one %d, or absent for macvtap%d (macvlan%d without a tap). */
  name?: string;
  /** The lower device (`<source dev>`). */
  linkdev: string;
  mode: MacvlanModeName;
  /** The guest's MAC: a macvtap carries it. */
  mac: string;
  /** macvtap (true, default) or macvlan (false: no character device). */
  tap?: boolean;
}

export interface Macvtap {
  name: string;
  ifindex: number;
}

/**
 * Creates the device down (it comes up just before the guest CPUs start). A given name that
 * exists → "The <name> interface already exists"; a template takes the next free number.
 */
export async function createMacvtap(host: NetHost, options: CreateMacvtapOptions): Promise<Macvtap> {
  const kind = options.tap === false ? 'macvlan' : 'macvtap';
  const lower = await getLink(host.netlink, options.linkdev);
  if (!lower) {
    throw systemError(ErrorDomain.NONE, Errno.ENODEV, `Unable to create ${kind} device on '${options.linkdev}'`, { object: options.linkdev });
  }
  const mode = MacvlanMode[options.mode];
  if (mode === undefined) throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, `unknown macvtap mode '${options.mode}'`);
  const linkinfo = { kind, macvlan: { mode } };
  const create = async (name: string): Promise<number> =>
    tryCreateLink(host.netlink, name, linkinfo, { mac: options.mac, lowerIndex: lower.index });

  const template = options.name ?? (kind === 'macvtap' ? MACVTAP_TEMPLATE : MACVLAN_TEMPLATE);
  let name: string;
  if (isNameTemplate(template)) {
    name = await host.names.allocate(template, async (candidate) => {
      const rc = await create(candidate);
      if (rc === -Errno.EEXIST) return 'taken';
      if (rc < 0) throw systemError(ErrorDomain.NONE, -rc, `Unable to create ${kind} device ${candidate} on '${options.linkdev}'`, { object: candidate });
      return candidate;
    });
  } else {
    checkIfname(template);
    const rc = await create(template);
    if (rc === -Errno.EEXIST) {
      throw virtError(ErrorNumber.OPERATION_INVALID, ErrorDomain.NONE, `The ${template} interface already exists`, { object: template });
    }
    if (rc < 0) throw systemError(ErrorDomain.NONE, -rc, `Unable to create ${kind} device ${template} on '${options.linkdev}'`, { object: template });
    name = template;
  }
  const made = await getLink(host.netlink, name);
  return { name, ifindex: made?.index ?? 0 };
}

/** Deletes a macvtap/macvlan tsvirt created; one already gone is fine. */
export async function deleteMacvtap(host: NetHost, name: string): Promise<void> {
  await deleteLink(host.netlink, name, { missingOk: true });
}

/** major:minor of the macvtap's character device, from sysfs; null when not visible. */
async function macvtapDevt(host: NetHost, name: string, ifindex: number): Promise<{ major: number; minor: number } | null> {
  const text = await host.sysfs.read(`class/net/${name}/macvtap/tap${ifindex}/dev`);
  const m = text?.trim().match(/^(\d+):(\d+)$/);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : null;
}

/**
 * The path to open for /dev/tap<ifindex>. devtmpfs (or udev) makes the node, but node names are
 * per host while ifindexes are per network namespace: when sysfs says the device is another
 * major:minor than the node (or there is no node), a private node is made for this open.
 */
async function macvtapNode(host: NetHost, name: string, ifindex: number): Promise<{ path: string; temporary: boolean }> {
  const path = join(host.devDir, `tap${ifindex}`);
  const devt = await macvtapDevt(host, name, ifindex);
  let st: import('node:fs').Stats | null = null;
  try {
    st = await fs.stat(path);
  } catch {
    st = null;
  }
  if (st && (!devt || (st.isCharacterDevice() && st.rdev === makedev(devt.major, devt.minor)))) return { path, temporary: false };
  if (!devt) throw systemError(ErrorDomain.NONE, Errno.ENOENT, `Unable to open ${path}`, { object: name });
  const priv = join(host.devDir, `.tsvirt-tap${ifindex}-${process.pid}-${Date.now().toString(36)}`);
  mknodChar(priv, 0o600, devt.major, devt.minor);
  return { path: priv, temporary: true };
}

/** Linux/glibc dev_t of major:minor as Node's stat reports it. */
function makedev(major: number, minor: number): number {
  return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12) | ((major & ~0xfff) * 2 ** 32);
}

/**
 * Opens /dev/tap<ifindex> `queues` times and sets IFF_VNET_HDR / IFF_MULTI_QUEUE on each queue
 * as asked (spec §2.3 step 7). On failure every fd opened is closed.
 */
export async function openMacvtapQueues(host: NetHost, name: string, ifindex: number, queues: number, vnetHdr: boolean): Promise<number[]> {
  const node = await macvtapNode(host, name, ifindex);
  const fds: number[] = [];
  try {
    for (let i = 0; i < queues; i++) {
      let fd: number;
      try {
        fd = openSync(node.path, constants.O_RDWR);
      } catch (err) {
        throw fromSystemError(err, ErrorDomain.NONE, `Unable to open ${join(host.devDir, `tap${ifindex}`)}`, { object: name });
      }
      fds.push(fd);
      const cur = tunGetIff(fd);
      if (!cur.ok) throw systemError(ErrorDomain.NONE, cur.errno, `cannot get interface flags on macvtap tap ${name}`, { object: name });
      let want = vnetHdr ? cur.flags | IFF_VNET_HDR : cur.flags & ~IFF_VNET_HDR;
      want = queues > 1 ? want | IFF_MULTI_QUEUE : want & ~IFF_MULTI_QUEUE;
      if (want !== cur.flags) {
        const r = tunSetIff(fd, '', want);
        if (!r.ok) throw systemError(ErrorDomain.NONE, r.errno, `unable to set vnet or multiqueue flags on macvtap ${name}`, { object: name });
      }
    }
  } catch (err) {
    for (const fd of fds) closeSync(fd);
    throw err instanceof VirtError ? err : fromSystemError(err, ErrorDomain.NONE, `Unable to open macvtap ${name}`);
  } finally {
    if (node.temporary) await fs.rm(node.path, { force: true });
  }
  return fds;
}
