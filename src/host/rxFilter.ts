// The host side of QEMU's NIC_RX_FILTER_CHANGED (spec network-devices §3.5): when a guest that
// is trusted (trustGuestRxFilters='yes') changes its MAC, multicast list or receive modes, a
// macvtap (`direct`) interface must follow, or the host drops the guest's traffic. The QEMU
// driver queries `query-rx-filter` and hands the result here; for a network interface with a
// floor it calls NetDevBandwidth.updateFloorFilter instead (see planRxFilterChange).
//
// Link reads/writes go through RxFilterLinkOps (link.ts's rtnetlink calls and the multicast ioctls).
import { readFile } from 'node:fs/promises';
import { Errno, ErrorDomain, ErrorNumber, fromSystemError, systemError, virtError } from '../errors/index.js';
import { normalizeMacAddr } from '../conf/macAddr.js';
import { IFF_ALLMULTI, IFF_MULTICAST, IFF_PROMISC } from './ifla.js';
import { getLink, setLinkFlags, setLinkMac } from './link.js';
import { macBytes } from './macAddress.js';
import { RtNetlink } from './netlink.js';
import { SIOCADDMULTI, SIOCDELMULTI, ifreqHwaddrIoctl } from './syscalls.js';
import type { WarnFn } from './tc.js';

export type RxFilterMode = 'none' | 'normal' | 'all';

/** One NIC's entry of QEMU's `query-rx-filter` reply, with QEMU's field names. */
export interface GuestRxFilter {
  name: string;
  promiscuous: boolean;
  'broadcast-allowed': boolean;
  multicast: RxFilterMode;
  'multicast-overflow': boolean;
  'multicast-table': string[];
  unicast: RxFilterMode;
  'unicast-overflow': boolean;
  'unicast-table': string[];
  'main-mac': string;
  vlan: RxFilterMode;
  'vlan-table': number[];
}

/** What the host device shows: libvirt's virNetDevGetRxFilter. */
export interface HostRxFilter {
  mac: string;
  promiscuous: boolean;
  /** all = IFF_ALLMULTI, else normal = IFF_MULTICAST, else none. */
  multicastMode: RxFilterMode;
  /** Link-layer multicast addresses added to the device from user space (global entries). */
  multicastTable: string[];
}

const MODES: readonly string[] = ['none', 'normal', 'all'];

function rxError(what: string, fault?: string): never {
  throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, what, { object: 'query-rx-filter', value: fault });
}

/** A MAC in canonical lowercase "aa:bb:cc:dd:ee:ff" form, or undefined if it is not one. */
function normaliseMac(text: unknown): string | undefined {
  return typeof text === 'string' ? normalizeMacAddr(text) : undefined;
}

/**
 * Validates one element of `query-rx-filter`'s return array the way libvirt's monitor code
 * does (same INTERNAL_ERROR texts) and returns it with MACs in canonical form.
 */
export function parseGuestRxFilter(entry: unknown): GuestRxFilter {
  if (typeof entry !== 'object' || entry === null) rxError('query -rx-filter return data missing array element');
  const e = entry as Record<string, unknown>;
  if (typeof e.name !== 'string') rxError('Missing or invalid name in query-rx-filter response');
  const bool = (key: string): boolean => {
    if (typeof e[key] !== 'boolean') rxError(`Missing or invalid '${key}' in query-rx-filter response`);
    return e[key] as boolean;
  };
  const mode = (key: string): RxFilterMode => {
    if (typeof e[key] !== 'string' || !MODES.includes(e[key] as string)) {
      rxError(`Missing or invalid '${key}' in query-rx-filter response`);
    }
    return e[key] as RxFilterMode;
  };
  const macTable = (key: string, listName: string): string[] => {
    const arr = e[key];
    if (!Array.isArray(arr)) rxError(`Missing or invalid '${key}' array in query-rx-filter response`);
    return arr.map((m, i) => {
      if (typeof m !== 'string') rxError(`Missing or invalid element ${i} of '${listName}' list in query-rx-filter response`);
      const mac = normaliseMac(m);
      if (!mac) rxError(`Invalid mac address '${m}' in '${key}' array in query-rx-filter response`, m);
      return mac;
    });
  };
  const promiscuous = bool('promiscuous');
  const broadcast = bool('broadcast-allowed');
  const unicast = mode('unicast');
  const unicastOverflow = bool('unicast-overflow');
  const mainMac = normaliseMac(e['main-mac']);
  if (!mainMac) rxError("Missing or invalid 'main-mac' in query-rx-filter response");
  const unicastTable = macTable('unicast-table', 'unicast');
  const multicast = mode('multicast');
  const multicastOverflow = bool('multicast-overflow');
  const multicastTable = macTable('multicast-table', 'multicast');
  const vlan = mode('vlan');
  const vt = e['vlan-table'];
  if (!Array.isArray(vt)) rxError("Missing or invalid 'vlan-table' array in query-rx-filter response");
  const vlanTable = vt.map((v, i) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      rxError(`Missing or invalid element ${i} of 'vlan-table' array in query-rx-filter response`);
    }
    return v;
  });
  return {
    name: e.name as string,
    promiscuous,
    'broadcast-allowed': broadcast,
    multicast,
    'multicast-overflow': multicastOverflow,
    'multicast-table': multicastTable,
    unicast,
    'unicast-overflow': unicastOverflow,
    'unicast-table': unicastTable,
    'main-mac': mainMac,
    vlan,
    'vlan-table': vlanTable,
  };
}

/** What the QEMU driver knows about the NIC an event names. */
export interface RxFilterEventContext {
  /** Effective trustGuestRxFilters: the interface's, else its network's/portgroup's. */
  trustGuestRxFilters: boolean | undefined;
  /** The actual interface type: 'direct', 'network', 'bridge', 'ethernet', … */
  actualType: string;
  /** The interface has actual bandwidth settings. */
  hasBandwidth?: boolean;
  /** Its floor class on the network bridge (0/undefined: none). */
  classId?: number;
}

export type RxFilterPlan =
  | { query: false }
  | { query: true; syncMacvtap: boolean; updateFloorFilter: boolean };

/**
 * The NIC_RX_FILTER_CHANGED decision (spec §3.5 steps 2, 4, 5). Without trust: do not even ask
 * QEMU (it stays silent for that NIC until someone queries) and change nothing on the host.
 * With trust: query, then sync a macvtap, or move the floor filter of a network interface
 * that has a floor class. libvirt also "updates" a network interface with bandwidth but no
 * floor (class id 0), adding a stray filter; tsvirt only does it for a real floor class.
 */
export function planRxFilterChange(ctx: RxFilterEventContext): RxFilterPlan {
  if (ctx.trustGuestRxFilters !== true) return { query: false };
  return {
    query: true,
    syncMacvtap: ctx.actualType === 'direct',
    updateFloorFilter: ctx.actualType === 'network' && !!ctx.hasBandwidth && (ctx.classId ?? 0) > 2,
  };
}

export type RxFilterAction =
  | { kind: 'setMac'; mac: string }
  | { kind: 'addMulticast'; mac: string }
  | { kind: 'delMulticast'; mac: string }
  | { kind: 'setPromiscuous'; on: boolean }
  | { kind: 'setMulticast'; on: boolean }
  | { kind: 'setAllMulti'; on: boolean };

/**
 * The host changes that make `host` match `guest` (libvirt's syncNicRxFilter* order): MAC;
 * guest multicast entries missing on the host added, host entries the guest dropped deleted;
 * promiscuous (always on while the guest filters VLANs, since macvtap cannot); multicast mode.
 */
export function rxFilterSyncActions(host: HostRxFilter, guest: GuestRxFilter): RxFilterAction[] {
  const actions: RxFilterAction[] = [];
  const guestMac = normaliseMac(guest['main-mac']) ?? guest['main-mac'];
  if (normaliseMac(host.mac) !== guestMac) actions.push({ kind: 'setMac', mac: guestMac });

  const hostMc = new Set(host.multicastTable.map((m) => normaliseMac(m) ?? m));
  const guestMc = guest['multicast-table'].map((m) => normaliseMac(m) ?? m);
  const guestSet = new Set(guestMc);
  for (const m of guestMc) if (!hostMc.has(m)) actions.push({ kind: 'addMulticast', mac: m });
  for (const m of hostMc) if (!guestSet.has(m)) actions.push({ kind: 'delMulticast', mac: m });

  if (guest['vlan-table'].length > 0) {
    if (!host.promiscuous) actions.push({ kind: 'setPromiscuous', on: true });
  } else if (host.promiscuous !== guest.promiscuous) {
    actions.push({ kind: 'setPromiscuous', on: guest.promiscuous });
  }

  const mode = guest.multicast;
  const overflow = guest['multicast-overflow'];
  if (host.multicastMode !== mode || (overflow && mode === 'normal')) {
    if (mode === 'all') {
      actions.push({ kind: 'setAllMulti', on: true });
    } else if (mode === 'normal') {
      actions.push({ kind: 'setMulticast', on: true }, { kind: 'setAllMulti', on: overflow });
    } else {
      actions.push({ kind: 'setAllMulti', on: false }, { kind: 'setMulticast', on: false });
    }
  }
  return actions;
}

/** Reads and changes the link properties the sync needs. */
export interface RxFilterLinkOps {
  getRxFilter(ifname: string): Promise<HostRxFilter>;
  apply(ifname: string, action: RxFilterAction): Promise<void>;
  close(): void;
}

const FLAG_OF = { setPromiscuous: 'promisc', setMulticast: 'multicast', setAllMulti: 'allmulti' } as const;
const FLAG_NAME = { setPromiscuous: 'PROMISC', setMulticast: 'MULTICAST', setAllMulti: 'ALLMULTI' } as const;

/**
 * The global link-layer multicast entries of `ifname` from /proc/net/dev_mcast (columns:
 * ifindex, name, users, global users, address in hex), as libvirt reads them.
 */
export async function readMulticastTable(ifname: string, path = '/proc/net/dev_mcast'): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw fromSystemError(err, ErrorDomain.NONE, `Failed to read ${path}`);
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    if (f[1] !== ifname || Number(f[3]) === 0 || !/^[0-9a-f]{12}$/i.test(f[4]!)) continue;
    out.push(f[4]!.toLowerCase().match(/../g)!.join(':'));
  }
  return out;
}

/**
 * RxFilterLinkOps over rtnetlink (link.ts: MAC, flags) and the multicast ioctls. Without `nl`
 * it opens a socket of its own, which close() closes.
 */
export function netlinkRxFilterLinkOps(nl?: RtNetlink): RxFilterLinkOps {
  const netlink = nl ?? new RtNetlink();
  return {
    async getRxFilter(ifname) {
      const link = await getLink(netlink, ifname);
      if (!link) throw systemError(ErrorDomain.NONE, Errno.ENODEV, `Unable to get index for interface ${ifname}`, { object: ifname });
      return {
        mac: link.mac ?? '00:00:00:00:00:00',
        promiscuous: (link.flags & IFF_PROMISC) !== 0,
        multicastMode: link.flags & IFF_ALLMULTI ? 'all' : link.flags & IFF_MULTICAST ? 'normal' : 'none',
        multicastTable: await readMulticastTable(ifname),
      };
    },
    async apply(ifname, action) {
      switch (action.kind) {
        case 'addMulticast':
        case 'delMulticast': {
          const add = action.kind === 'addMulticast';
          const errno = ifreqHwaddrIoctl(add ? SIOCADDMULTI : SIOCDELMULTI, ifname, macBytes(action.mac));
          if (errno !== 0) {
            const what = add ? `Cannot add multicast MAC ${action.mac} on '${ifname}' interface` : `Cannot delete multicast MAC ${action.mac} on '${ifname}' interface`;
            throw systemError(ErrorDomain.NONE, errno, what, { object: ifname });
          }
          return;
        }
        case 'setMac':
          return setLinkMac(netlink, ifname, action.mac);
        default:
          return setLinkFlags(netlink, ifname, { [FLAG_OF[action.kind]]: action.on });
      }
    },
    close() {
      if (!nl) netlink.close();
    },
  };
}

/** libvirt's warning for an action that failed. */
function failureWarning(ifname: string, a: RxFilterAction): string {
  const tail = 'while responding to NIC_RX_FILTER_CHANGED';
  switch (a.kind) {
    case 'setMac':
      return `Couldn't set new MAC address ${a.mac} to device ${ifname} ${tail}`;
    case 'addMulticast':
      return `Couldn't add new multicast MAC address ${a.mac} to device ${ifname} ${tail}`;
    case 'delMulticast':
      return `Couldn't delete multicast MAC address ${a.mac} from device ${ifname} ${tail}`;
    default:
      return `Couldn't set ${FLAG_NAME[a.kind]} flag to ${a.on} for device ${ifname} ${tail}`;
  }
}

export interface RxFilterSyncResult {
  /** The host's filter before the sync. */
  before: HostRxFilter;
  applied: RxFilterAction[];
  failed: { action: RxFilterAction; error: Error }[];
}

/**
 * Makes the macvtap `ifname` follow the guest's rx-filter (spec §3.5 step 4). Reading the
 * host's state failing is an error; each change failing is only a warning, as in libvirt.
 */
export async function syncMacvtapRxFilter(
  ifname: string,
  guest: GuestRxFilter,
  options: { warn?: WarnFn; ops?: RxFilterLinkOps; netlink?: RtNetlink } = {},
): Promise<RxFilterSyncResult> {
  const ops = options.ops ?? netlinkRxFilterLinkOps(options.netlink);
  const warn = options.warn ?? ((m: string) => process.emitWarning(m, 'TsvirtWarning'));
  try {
    const before = await ops.getRxFilter(ifname);
    const result: RxFilterSyncResult = { before, applied: [], failed: [] };
    for (const action of rxFilterSyncActions(before, guest)) {
      try {
        await ops.apply(ifname, action);
        result.applied.push(action);
      } catch (err) {
        result.failed.push({ action, error: err as Error });
        warn(`${failureWarning(ifname, action)}: ${(err as Error).message}`);
      }
    }
    return result;
  } finally {
    if (!options.ops) ops.close();
  }
}
