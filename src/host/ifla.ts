// Link (IFLA_*) attributes on top of the `netlink` package's declarations. The package describes
// every attribute but leaves some as raw Buffers: IFLA_LINKINFO and its per-kind data, IFLA_LINK,
// IFLA_EXT_MASK, and the VF structs inside IFLA_VFINFO_LIST. The codecs below fill those in, one
// declaration per attribute, composed from the package's own struct codecs, so every request is
// built by the package's attribute stream and no byte offsets live in tsvirt. The package is
// loaded on the first call (pkg(), netlink.ts), not with this module.
import type { StreamData, ifla, rt } from 'netlink';
import { netlinkPackage as pkg } from './netlink.js';

/** IFLA_MACVLAN_MODE values. */
export const MacvlanMode = { private: 1, vepa: 2, bridge: 4, passthrough: 8, source: 16 } as const;
export type MacvlanModeName = keyof typeof MacvlanMode;

/** What IFLA_LINKINFO holds: the kind, and for some kinds its IFLA_INFO_DATA decoded. */
export type LinkInfo =
  | { kind: 'macvtap' | 'macvlan'; macvlan?: { mode?: number; flags?: number } }
  | { kind: 'veth'; peer?: { ifname: string } }
  | { kind: 'tun'; tun?: TunInfo }
  | { kind: 'bridge'; bridge?: BridgeInfo }
  | { kind: string };

/** IFLA_BR_* of a bridge that tsvirt sets (libvirt's network bridges: STP, delay, VLAN filtering). */
export interface BridgeInfo {
  /** IFLA_BR_FORWARD_DELAY in clock_t units (USER_HZ, 1/100 s). */
  forwardDelay?: number;
  /** IFLA_BR_STP_STATE: 0 off, 1 kernel STP */
  stpState?: number;
  /** IFLA_BR_VLAN_FILTERING */
  vlanFiltering?: boolean;
}

/** IFLA_TUN_* of a tun/tap link (read only; taps are made through /dev/net/tun). */
export interface TunInfo {
  owner?: number;
  group?: number;
  /** 1 = tun, 2 = tap */
  type?: number;
  pi?: boolean;
  vnetHdr?: boolean;
  persist?: boolean;
  multiQueue?: boolean;
  numQueues?: number;
}

/** struct ifla_vf_mac / ifla_vf_vlan as tsvirt uses them. */
export interface VfMac {
  vf: number;
  /** 6 bytes */
  mac: Uint8Array;
}
export interface VfVlan {
  vf: number;
  vlan: number;
  qos: number;
}
/** One IFLA_VF_INFO entry (only the members tsvirt reads or writes). */
export interface VfInfo {
  mac?: VfMac;
  vlan?: VfVlan;
}

/** The attributes tsvirt sends and reads: the package's, with the raw ones typed. */
export interface LinkAttrs extends Omit<ifla.LinkAttrs, 'linkinfo' | 'link' | 'extMask' | 'vfinfoList'> {
  linkinfo?: LinkInfo;
  /** IFLA_LINK: ifindex of the lower device (macvtap, veth peer). */
  link?: number;
  extMask?: rt.RtExtFilter;
  vfinfoList?: VfInfo[];
}

export interface LinkMessage {
  /** struct ifinfomsg */
  link: rt.Link;
  attrs: LinkAttrs;
}

// --- declarations: per attribute, how tsvirt's value maps to the package's -------------------

const ETH_ALEN = 6;
const MAX_ADDR_LEN = 32;

function stream(data: StreamData): Buffer {
  const out = new (pkg().AttrStream)();
  out.emit(data);
  return Buffer.concat(out.bufs);
}

/** IFLA_INFO_DATA per kind. */
const infoData: Record<string, { format?(x: LinkInfo): Buffer | undefined; parse?(b: Buffer): Partial<LinkInfo> }> = {
  macvtap: {
    format: (x) => ('macvlan' in x && x.macvlan ? stream(pkg().ifla.formatMacvlan(x.macvlan)) : undefined),
    parse: (b) => ({ macvlan: pick(pkg().ifla.parseMacvlan(b), ['mode', 'flags']) }),
  },
  macvlan: {
    format: (x) => ('macvlan' in x && x.macvlan ? stream(pkg().ifla.formatMacvlan(x.macvlan)) : undefined),
    parse: (b) => ({ macvlan: pick(pkg().ifla.parseMacvlan(b), ['mode', 'flags']) }),
  },
  veth: {
    // VETH_INFO_PEER: an ifinfomsg followed by the peer's attributes.
    format: (x) =>
      'peer' in x && x.peer
        ? stream(pkg().ifla.formatVethInfo({ peer: Buffer.concat([pkg().rt.formatLink({}), stream(pkg().ifla.formatLinkAttrs({ ifname: x.peer.ifname }))]) }))
        : undefined,
  },
  bridge: {
    format: (x) => {
      if (!('bridge' in x) || !x.bridge) return undefined;
      const b = x.bridge as BridgeInfo;
      return stream(
        pkg().ifla.formatBridge({
          forwardDelay: b.forwardDelay !== undefined ? pkg().putU32(b.forwardDelay) : undefined,
          stpState: b.stpState !== undefined ? pkg().putU32(b.stpState) : undefined,
          vlanFiltering: b.vlanFiltering !== undefined ? Buffer.from([b.vlanFiltering ? 1 : 0]) : undefined,
        }),
      );
    },
    parse: (b) => {
      const br = pkg().ifla.parseBridge(b);
      const u32 = (v?: Buffer) => (v && v.length === 4 ? pkg().getU32(v) : undefined);
      const info: BridgeInfo = {};
      const delay = u32(br.forwardDelay);
      if (delay !== undefined) info.forwardDelay = delay;
      const stp = u32(br.stpState);
      if (stp !== undefined) info.stpState = stp;
      if (br.vlanFiltering && br.vlanFiltering.length >= 1) info.vlanFiltering = pkg().getU8(br.vlanFiltering.subarray(0, 1)) === 1;
      return { bridge: info };
    },
  },
  tun: {
    parse: (b) => {
      const t = pkg().ifla.parseTun(b);
      const u8 = (v?: Buffer) => (v && v.length >= 1 ? pkg().getU8(v.subarray(0, 1)) : undefined);
      const u32 = (v?: Buffer) => (v && v.length === 4 ? pkg().getU32(v) : undefined);
      const flag = (v?: Buffer) => (v ? u8(v) === 1 : undefined);
      return {
        tun: {
          owner: u32(t.owner),
          group: u32(t.group),
          type: u8(t.type),
          pi: flag(t.pi),
          vnetHdr: flag(t.vnetHdr),
          persist: flag(t.persist),
          multiQueue: flag(t.multiQueue),
          numQueues: u32(t.numQueues),
        },
      };
    },
  },
};

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Pick<T, K> {
  const r = {} as Pick<T, K>;
  for (const k of keys) if (o[k] !== undefined) r[k] = o[k];
  return r;
}

function formatVfMac(m: VfMac): Buffer {
  if (m.mac.length !== ETH_ALEN) throw new RangeError('VF MAC must be 6 bytes');
  // u8 mac[32]: the 6 address bytes, zero-filled to MAX_ADDR_LEN
  return pkg().ifla.formatVirtualFunctionMac({ vf: m.vf, mac: [...m.mac, ...new Array<number>(MAX_ADDR_LEN - ETH_ALEN).fill(0)] });
}

/** The attribute codecs for the members the package leaves raw. */
const linkAttrCodecs = {
  linkinfo: {
    format: (x: LinkInfo): Buffer => stream(pkg().ifla.formatInfo({ kind: x.kind, data: infoData[x.kind]?.format?.(x) })),
    parse: (b: Buffer): LinkInfo => {
      const info = pkg().ifla.parseInfo(b);
      const kind = info.kind ?? '';
      const data = info.data ? (infoData[kind]?.parse?.(info.data) ?? {}) : {};
      return { kind, ...data } as LinkInfo;
    },
  },
  link: { format: (x: number): Buffer => pkg().putU32(x), parse: (b: Buffer): number => pkg().getU32(b) },
  extMask: {
    format: (x: rt.RtExtFilter): Buffer => pkg().putU32(pkg().rt.formatRtExtFilter(x)),
    parse: (b: Buffer): rt.RtExtFilter => pkg().rt.parseRtExtFilter(pkg().getU32(b)),
  },
  vfinfoList: {
    format: (x: VfInfo[]): ifla.VirtualFunctionList => ({
      x: x.map((vf) => ({
        mac: vf.mac ? formatVfMac(vf.mac) : undefined,
        vlan: vf.vlan ? pkg().ifla.formatVirtualFunctionVlan(vf.vlan) : undefined,
      })),
    }),
    parse: (l: ifla.VirtualFunctionList): VfInfo[] =>
      (l.x ?? []).map((vf) => {
        const out: VfInfo = {};
        if (vf.mac && vf.mac.length === pkg().ifla.__LENGTH_VirtualFunctionMac) {
          const m = pkg().ifla.parseVirtualFunctionMac(vf.mac);
          out.mac = { vf: m.vf ?? 0, mac: Uint8Array.from((m.mac ?? []).slice(0, ETH_ALEN)) };
        }
        if (vf.vlan && vf.vlan.length === pkg().ifla.__LENGTH_VirtualFunctionVlan) {
          const v = pkg().ifla.parseVirtualFunctionVlan(vf.vlan);
          out.vlan = { vf: v.vf ?? 0, vlan: v.vlan ?? 0, qos: v.qos ?? 0 };
        }
        return out;
      }),
  },
};

/** ifinfomsg + attributes, as the buffers of one request payload. */
export function formatLinkMessage(msg: LinkMessage): Uint8Array[] {
  const { linkinfo, link, extMask, vfinfoList, ...rest } = msg.attrs;
  const attrs: ifla.LinkAttrs = { ...rest };
  if (linkinfo !== undefined) attrs.linkinfo = linkAttrCodecs.linkinfo.format(linkinfo);
  if (link !== undefined) attrs.link = linkAttrCodecs.link.format(link);
  if (extMask !== undefined) attrs.extMask = linkAttrCodecs.extMask.format(extMask);
  if (vfinfoList !== undefined) attrs.vfinfoList = linkAttrCodecs.vfinfoList.format(vfinfoList);
  const out = new (pkg().AttrStream)();
  out.emit(pkg().rt.formatLink(msg.link));
  out.emit(pkg().ifla.formatLinkAttrs(attrs));
  return out.bufs;
}

/** An RTM_NEWLINK payload (reply to GETLINK, or a request a test endpoint received). */
export function parseLinkMessage(data: Buffer): LinkMessage {
  if (data.length < pkg().rt.__LENGTH_Link) throw new RangeError(`link message too short (${data.length})`);
  const link = pkg().rt.parseLink(data.subarray(0, pkg().rt.__LENGTH_Link));
  const raw = pkg().ifla.parseLinkAttrs(data.subarray(pkg().rt.__LENGTH_Link));
  const { linkinfo, link: lower, extMask, vfinfoList, ...rest } = raw;
  const attrs: LinkAttrs = { ...rest };
  if (linkinfo) attrs.linkinfo = linkAttrCodecs.linkinfo.parse(linkinfo);
  if (lower) attrs.link = linkAttrCodecs.link.parse(lower);
  if (extMask) attrs.extMask = linkAttrCodecs.extMask.parse(extMask);
  if (vfinfoList) attrs.vfinfoList = linkAttrCodecs.vfinfoList.parse(vfinfoList);
  return { link, attrs };
}

/** ifi_flags as a number (the package decodes them into an object). */
export function deviceFlagsOf(link: rt.Link): number {
  return link.flags ? pkg().rt.formatDeviceFlags(link.flags) : 0;
}

/** ifi_flags bits (linux/if.h) that tsvirt reads or sets. */
export const IFF_UP = 0x1;
export const IFF_PROMISC = 0x100;
export const IFF_ALLMULTI = 0x200;
export const IFF_MULTICAST = 0x1000;
