// Network links over rtnetlink: read their state, change MAC, MTU, up/down, master and name,
// create and delete bridges, veths and dummies. Every kernel errno becomes a system error that
// names the operation and the device ("Cannot set interface MAC to … on 'vnet0': …").
import { Errno, ErrorDomain, ErrorNumber, systemError, virtError } from '../errors/index.js';
import type { rt } from 'netlink';
import type { LinkInfo, LinkMessage, VfInfo } from './ifla.js';
import { IFF_UP, deviceFlagsOf, formatLinkMessage, parseLinkMessage } from './ifla.js';
import { formatMac, macBytes } from './macAddress.js';
import {
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  RTM_DELLINK,
  RTM_GETLINK,
  RTM_NEWLINK,
  RTM_SETLINK,
  type NetlinkRequestOptions,
  type RtNetlink,
  ackResult,
  malformedReply,
} from './netlink.js';

const IFNAMSIZ = 16;

/** A link as tsvirt sees it. */
export interface LinkState {
  index: number;
  name: string;
  /** lowercase colon hex; null for links without a link-layer address */
  mac: string | null;
  mtu: number | null;
  /** ifi_flags (IFF_*) */
  flags: number;
  up: boolean;
  /** ifindex of the bridge (or bond) this link is enslaved to */
  master: number | null;
  /** IFLA_INFO_KIND: 'bridge', 'veth', 'tun', 'macvtap', …; null for physical NICs */
  kind: string | null;
  linkinfo: LinkInfo | null;
  /** IFLA_LINK: the lower device (macvtap's parent, veth's peer) */
  lowerIndex: number | null;
  /** IFLA_VFINFO_LIST, present when asked for (PFs only) */
  vfs: VfInfo[] | null;
}

function toState(m: LinkMessage): LinkState {
  const flags = deviceFlagsOf(m.link);
  return {
    index: m.link.index ?? 0,
    name: m.attrs.ifname ?? '',
    mac: m.attrs.address && m.attrs.address.length === 6 ? formatMac(m.attrs.address) : null,
    mtu: m.attrs.mtu ?? null,
    flags,
    up: (flags & IFF_UP) !== 0,
    master: m.attrs.master || null,
    kind: m.attrs.linkinfo?.kind || null,
    linkinfo: m.attrs.linkinfo ?? null,
    lowerIndex: m.attrs.link ?? null,
    vfs: m.attrs.vfinfoList ?? null,
  };
}

function parseLinkReply(data: Buffer, opts: NetlinkRequestOptions): LinkState {
  try {
    return toState(parseLinkMessage(data));
  } catch {
    throw malformedReply(opts.op, opts.dev);
  }
}

export function checkIfname(name: string): void {
  if (Buffer.byteLength(name) >= IFNAMSIZ) {
    throw systemError(ErrorDomain.NONE, Errno.ERANGE, `Network interface name '${name}' is too long`, { value: name });
  }
  if (!name || /[\s/:]/.test(name) || name === '.' || name === '..') {
    throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, `invalid network interface name '${name}'`, { value: name });
  }
}

/** Sends a request that expects an ACK; throws a system error naming `op` on a kernel errno. */
async function ack(nl: RtNetlink, type: number, flags: number, msg: LinkMessage, opts: NetlinkRequestOptions): Promise<void> {
  const rc = await tryAck(nl, type, flags, msg, opts);
  if (rc < 0) throw systemError(ErrorDomain.NONE, -rc, opts.op, opts.dev ? { object: opts.dev } : undefined);
}

/** Same, but returns 0 or the negative kernel errno instead of throwing on it. */
async function tryAck(nl: RtNetlink, type: number, flags: number, msg: LinkMessage, opts: NetlinkRequestOptions): Promise<number> {
  return ackResult(await nl.request(type, flags, formatLinkMessage(msg), opts), opts);
}

export interface GetLinkOptions {
  /** Ask for IFLA_VFINFO_LIST (RTEXT_FILTER_VF). */
  vfs?: boolean;
  timeoutMs?: number;
}

/** The link called `name`, or null when there is none. */
export async function getLink(nl: RtNetlink, name: string, options: GetLinkOptions = {}): Promise<LinkState | null> {
  checkIfname(name);
  const opts = { op: `Unable to read link information of '${name}'`, dev: name, timeoutMs: options.timeoutMs };
  const reply = await nl.request(
    RTM_GETLINK,
    0,
    formatLinkMessage({ link: {}, attrs: { ifname: name, extMask: options.vfs ? { vf: true } : { skipStats: true } } }),
    opts,
  );
  if (reply.kind === 'error') {
    if (reply.errno === Errno.ENODEV) return null;
    throw systemError(ErrorDomain.NONE, reply.errno, opts.op, { object: name });
  }
  if (reply.kind !== 'messages' || reply.messages[0]!.type !== RTM_NEWLINK) throw malformedReply(opts.op, name);
  return parseLinkReply(reply.messages[0]!.data, opts);
}

/** The link with ifindex `index`, or null. */
export async function getLinkByIndex(nl: RtNetlink, index: number): Promise<LinkState | null> {
  const opts = { op: `Unable to read link information of ifindex ${index}` };
  const reply = await nl.request(RTM_GETLINK, 0, formatLinkMessage({ link: { index }, attrs: { extMask: { skipStats: true } } }), opts);
  if (reply.kind === 'error') {
    if (reply.errno === Errno.ENODEV) return null;
    throw systemError(ErrorDomain.NONE, reply.errno, opts.op);
  }
  if (reply.kind !== 'messages' || reply.messages[0]!.type !== RTM_NEWLINK) throw malformedReply(opts.op);
  return parseLinkReply(reply.messages[0]!.data, opts);
}

/** Every link of the current network namespace. */
export async function listLinks(nl: RtNetlink): Promise<LinkState[]> {
  const opts = { op: 'Unable to list network links' };
  const reply = await nl.request(RTM_GETLINK, NLM_F_DUMP, formatLinkMessage({ link: {}, attrs: { extMask: { skipStats: true } } }), opts);
  if (reply.kind === 'error') throw systemError(ErrorDomain.NONE, reply.errno, opts.op);
  if (reply.kind === 'ack') return [];
  return reply.messages.filter((m) => m.type === RTM_NEWLINK).map((m) => parseLinkReply(m.data, opts));
}

async function requireIndex(nl: RtNetlink, name: string, op: string): Promise<number> {
  const l = await getLink(nl, name);
  if (!l) throw systemError(ErrorDomain.NONE, Errno.ENODEV, op, { object: name });
  return l.index;
}

/** IFLA_ADDRESS of `name` := mac (SIOCSIFHWADDR's equivalent). */
export async function setLinkMac(nl: RtNetlink, name: string, mac: string): Promise<void> {
  const rc = await trySetLinkMac(nl, name, mac);
  if (rc < 0) throw systemError(ErrorDomain.NONE, -rc, `Cannot set interface MAC to ${mac} on '${name}'`, { object: name, value: mac });
}

/** As setLinkMac, but returns 0 or the negative kernel errno (the VF fallback needs the errno). */
export async function trySetLinkMac(nl: RtNetlink, name: string, mac: string): Promise<number> {
  checkIfname(name);
  return tryAck(nl, RTM_SETLINK, 0, { link: {}, attrs: { ifname: name, address: Buffer.from(macBytes(mac)) } }, {
    op: `Cannot set interface MAC to ${mac} on '${name}'`,
    dev: name,
  });
}

export async function setLinkMtu(nl: RtNetlink, name: string, mtu: number): Promise<void> {
  checkIfname(name);
  await ack(nl, RTM_SETLINK, 0, { link: {}, attrs: { ifname: name, mtu } }, { op: `Cannot set interface MTU to ${mtu} on '${name}'`, dev: name });
}

/** The device flags tsvirt turns on and off. */
export type LinkFlagName = 'up' | 'promisc' | 'multicast' | 'allmulti';

/**
 * Turns the named device flags (IFF_*) on (true) or off (false); the others stay as they are
 * (ifi_change holds only the named ones). `op` names the change in the error.
 */
export async function setLinkFlags(
  nl: RtNetlink,
  name: string,
  flags: Partial<Record<LinkFlagName, boolean>>,
  op = `Cannot set interface flags on '${name}'`,
): Promise<void> {
  checkIfname(name);
  const on: rt.DeviceFlags = {};
  const change: rt.DeviceFlags = {};
  for (const [flag, value] of Object.entries(flags) as [LinkFlagName, boolean][]) {
    change[flag] = true;
    if (value) on[flag] = true;
  }
  await ack(nl, RTM_SETLINK, 0, { link: { flags: on, change }, attrs: { ifname: name } }, { op, dev: name });
}

/** IFF_UP on or off; other flags untouched. */
export async function setLinkUp(nl: RtNetlink, name: string, up: boolean): Promise<void> {
  await setLinkFlags(nl, name, { up }, `Cannot bring interface '${name}' ${up ? 'up' : 'down'}`);
}

/** Enslaves `name` to bridge `master`, or frees it (master null). */
export async function setLinkMaster(nl: RtNetlink, name: string, master: string | null): Promise<void> {
  checkIfname(name);
  const op = master ? `Unable to add bridge ${master} port ${name}` : `Unable to remove port ${name} from its bridge`;
  const masterIndex = master ? await requireIndex(nl, master, op) : 0;
  await ack(nl, RTM_SETLINK, 0, { link: {}, attrs: { ifname: name, master: masterIndex } }, { op, dev: name });
}

export async function renameLink(nl: RtNetlink, name: string, newName: string): Promise<void> {
  checkIfname(newName);
  const op = `Unable to rename '${name}' to '${newName}'`;
  const index = await requireIndex(nl, name, op);
  await ack(nl, RTM_SETLINK, 0, { link: { index }, attrs: { ifname: newName } }, { op, dev: name });
}

export interface NewLinkOptions {
  mac?: string;
  mtu?: number;
  /** ifindex of the lower device */
  lowerIndex?: number;
}

/** RTM_NEWLINK with CREATE|EXCL: returns 0 or the negative errno (EEXIST lets callers pick another name). */
export async function tryCreateLink(nl: RtNetlink, name: string, linkinfo: LinkInfo, options: NewLinkOptions = {}): Promise<number> {
  checkIfname(name);
  const attrs: LinkMessage['attrs'] = { ifname: name, linkinfo };
  if (options.mac) attrs.address = Buffer.from(macBytes(options.mac));
  if (options.mtu) attrs.mtu = options.mtu;
  if (options.lowerIndex !== undefined) attrs.link = options.lowerIndex;
  return tryAck(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, { link: {}, attrs }, {
    op: `Unable to create ${linkinfo.kind} device '${name}'`,
    dev: name,
  });
}

async function createLink(nl: RtNetlink, name: string, linkinfo: LinkInfo, options?: NewLinkOptions): Promise<void> {
  const rc = await tryCreateLink(nl, name, linkinfo, options);
  if (rc < 0) throw systemError(ErrorDomain.NONE, -rc, `Unable to create ${linkinfo.kind} device '${name}'`, { object: name });
}

export async function createBridge(nl: RtNetlink, name: string, options?: NewLinkOptions): Promise<void> {
  await createLink(nl, name, { kind: 'bridge' }, options);
}

export async function createVeth(nl: RtNetlink, name: string, peer: string): Promise<void> {
  checkIfname(peer);
  await createLink(nl, name, { kind: 'veth', peer: { ifname: peer } });
}

export async function createDummy(nl: RtNetlink, name: string, options?: NewLinkOptions): Promise<void> {
  await createLink(nl, name, { kind: 'dummy' }, options);
}

/** Deletes `name`; with missingOk a link that is already gone is not an error. */
export async function deleteLink(nl: RtNetlink, name: string, options: { missingOk?: boolean } = {}): Promise<void> {
  checkIfname(name);
  const op = `Unable to delete network device '${name}'`;
  const rc = await tryAck(nl, RTM_DELLINK, 0, { link: {}, attrs: { ifname: name } }, { op, dev: name });
  if (rc === -Errno.ENODEV && options.missingOk) return;
  if (rc < 0) throw systemError(ErrorDomain.NONE, -rc, op, { object: name });
}
