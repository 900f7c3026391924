// Guaranteed minimum bandwidth ("floor") on a libvirt-style network bridge (spec §3.3): the
// per-network bookkeeping (class ids, Σfloor), the admission check, and the plug / unplug /
// live-change sequences that tie them to the tc operations of NetDevBandwidth.
//
// The network driver owns the state (it persists `<class_id bitmap=…/>` and `<floor sum=…/>`
// in the network's status XML); these functions change it only when the host change worked,
// and call the driver's `save` at the same point libvirt saves its status file, undoing both
// the state and the tc change if saving fails.
import { ErrorDomain, ErrorNumber, virtError } from '../errors/index.js';
import { formatBitmap } from '../conf/bitmap.js';
import { type Bandwidth, NetDevBandwidth, bandwidthFloor, hasFloor, kbps, networkCeil } from './bandwidth.js';

/** Class ids 0, 1 and 2 are the root, the network limit (1:1) and unguaranteed traffic (1:2). */
export const RESERVED_CLASS_IDS = 3;

/**
 * The set of class ids in use on one network bridge: a growable bitmap with 0–2 always set,
 * handing out the lowest free id ≥ 3. (The network's status file keeps it as libvirt's bitmap
 * text: conf/bitmap.ts.)
 */
export class ClassIdMap {
  private readonly used = new Set<number>();

  constructor(ids: Iterable<number> = []) {
    for (let i = 0; i < RESERVED_CLASS_IDS; i++) this.used.add(i);
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0) throw new RangeError(`class id ${id}`);
      this.used.add(id);
    }
  }

  /** libvirt's virBitmapFormat of the ids: "0-3" after the first plug. */
  format(): string {
    return formatBitmap(this.used);
  }

  has(id: number): boolean {
    return this.used.has(id);
  }

  /** Marks and returns the lowest free id (≥ 3). */
  allocate(): number {
    let id = RESERVED_CLASS_IDS;
    while (this.used.has(id)) id++;
    this.used.add(id);
    return id;
  }

  /** Marks `id` used again (restoring state on reconnect or rollback). */
  reserve(id: number): void {
    this.used.add(id);
  }

  /** Frees `id`; the reserved ids 0–2 stay. */
  release(id: number): void {
    if (id >= RESERVED_CLASS_IDS) this.used.delete(id);
  }

  ids(): number[] {
    return [...this.used].sort((a, b) => a - b);
  }
}

/** What the floor logic needs to know about a network. */
export interface FloorNetwork {
  name: string;
  /** The network's bridge device. */
  bridge: string;
  /** <forward mode>; 'none' (or undefined) for an isolated network. */
  forwardMode?: string;
  /** The network's <bandwidth>; its inbound part is the bridge's limit. */
  bandwidth?: Bandwidth | null;
}

/** The per-network runtime state the network driver persists. */
export interface FloorState {
  classIds: ClassIdMap;
  /** Σ floor of the plugged interfaces, kB/s. */
  floorSum: bigint;
}

/** Forward modes whose traffic passes the network's own bridge, where floors can be enforced. */
export function floorSupported(forwardMode: string | undefined): boolean {
  return forwardMode === undefined || ['none', 'nat', 'route', 'open'].includes(forwardMode);
}

/**
 * networkCheckBandwidth: may an interface with `newBw` (replacing `oldBw`, for a live change)
 * join the network? Throws libvirt's errors; returns null when no floor accounting is involved
 * (no floor, or no network QoS), else `newRate` — the limit C the 1:2 rate is computed from
 * (rate of 1:2 = C − Σfloor). Pure: changes nothing.
 */
export function checkFloorAdmission(
  net: FloorNetwork,
  mac: string,
  newBw: Bandwidth | null | undefined,
  oldBw: Bandwidth | null | undefined,
  floorSum: bigint,
): { newRate: bigint; floorSum: bigint } | null {
  if (hasFloor(newBw) && !floorSupported(net.forwardMode)) {
    throw virtError(
      ErrorNumber.OPERATION_UNSUPPORTED,
      ErrorDomain.NETWORK,
      `Invalid use of 'floor' on interface with MAC address ${mac} - 'floor' is only supported for interface type 'network' with forward type 'nat', 'route', 'open' or none`,
      { object: net.name, value: mac },
    );
  }
  const netIn = net.bandwidth?.inbound;
  if (hasFloor(newBw) && !netIn) {
    throw virtError(
      ErrorNumber.OPERATION_UNSUPPORTED,
      ErrorDomain.NETWORK,
      `Invalid use of 'floor' on interface with MAC address ${mac} - network '${net.name}' has no inbound QoS set`,
      { object: net.name, value: mac },
    );
  }
  if (!netIn || (!hasFloor(newBw) && !hasFloor(oldBw))) return null;

  const sum = floorSum - bandwidthFloor(oldBw) + bandwidthFloor(newBw);
  const peak = kbps(netIn.peak, 'peak');
  const average = kbps(netIn.average, 'average');
  const [limitName, limit] = peak !== 0n ? ['peak', peak] : ['average', average];
  if (sum > limit) {
    throw virtError(
      ErrorNumber.OPERATION_INVALID,
      ErrorDomain.NETWORK,
      `Cannot plug '${mac}' interface into '${net.bridge}' because new combined inbound floor=${sum} would overcommit ${limitName}=${limit} on network '${net.name}'`,
      { object: net.name, value: mac },
    );
  }
  return { newRate: limit, floorSum: sum };
}

export interface FloorChangeOptions {
  /** Persists the network's status after the state changed; a throw rolls everything back. */
  save?: (state: FloorState) => Promise<void>;
}

/**
 * networkPlugBandwidth: admission check, then (if the interface has a floor and the network
 * QoS) a class id, the tc class/qdisc/filter, Σfloor += floor, save, and 1:2's new rate.
 * Returns the interface's class id, or 0 when nothing was plugged. A failure leaves state
 * and bridge as they were; only the final 1:2 update is a warning, as in libvirt.
 */
export async function networkPlugFloor(
  bw: NetDevBandwidth,
  net: FloorNetwork,
  state: FloorState,
  mac: string,
  ifaceBw: Bandwidth | null | undefined,
  options: FloorChangeOptions = {},
): Promise<number> {
  const check = checkFloorAdmission(net, mac, ifaceBw, null, state.floorSum);
  if (!check || !hasFloor(ifaceBw)) return 0;
  return plugChecked(bw, net, state, mac, ifaceBw!, check.newRate, options);
}

async function plugChecked(
  bw: NetDevBandwidth,
  net: FloorNetwork,
  state: FloorState,
  mac: string,
  ifaceBw: Bandwidth,
  newRate: bigint,
  options: FloorChangeOptions,
): Promise<number> {
  const netBw = net.bandwidth!;
  const id = state.classIds.allocate();
  try {
    await bw.plugFloor(net.bridge, netBw, mac, ifaceBw, id);
  } catch (err) {
    state.classIds.release(id);
    throw err;
  }
  const floor = bandwidthFloor(ifaceBw);
  state.floorSum += floor;
  if (options.save) {
    try {
      await options.save(state);
    } catch (err) {
      state.floorSum -= floor;
      state.classIds.release(id);
      await bw.unplugFloor(net.bridge, id).catch(() => undefined);
      throw err;
    }
  }
  await updateDefaultRate(bw, net, newRate - state.floorSum);
  return id;
}

/**
 * networkUnplugBandwidth: removes the interface's class, qdisc and filter, frees its id,
 * Σfloor −= floor, save, and gives 1:2 the freed rate. classId 0 (nothing plugged) → nothing.
 */
export async function networkUnplugFloor(
  bw: NetDevBandwidth,
  net: FloorNetwork,
  state: FloorState,
  ifaceBw: Bandwidth | null | undefined,
  classId: number,
  options: FloorChangeOptions = {},
): Promise<void> {
  if (!classId) return;
  const netBw = net.bandwidth;
  if (!netBw?.inbound) {
    bw.tc.warn(`Network ${net.name} has no bandwidth but unplug requested`);
    return;
  }
  const limit = networkCeil(netBw);
  await bw.unplugFloor(net.bridge, classId);
  const floor = bandwidthFloor(ifaceBw);
  state.floorSum -= floor;
  state.classIds.release(classId);
  if (options.save) {
    try {
      await options.save(state);
    } catch (err) {
      // The tc objects are gone already; only the bookkeeping is put back, as in libvirt.
      state.floorSum += floor;
      state.classIds.reserve(classId);
      throw err;
    }
  }
  await updateDefaultRate(bw, net, limit - state.floorSum);
}

/**
 * networkUpdatePortBandwidth (live change, domiftune / update-device): same floor → nothing;
 * admission check with the old floor subtracted; then floor→floor is a `class change` of the
 * interface's class plus 1:2 (rolled back if either fails), 0→floor a plug, floor→0 an unplug.
 * Returns the interface's class id afterwards (0 when it has none).
 */
export async function networkUpdateFloor(
  bw: NetDevBandwidth,
  net: FloorNetwork,
  state: FloorState,
  mac: string,
  classId: number,
  oldBw: Bandwidth | null | undefined,
  newBw: Bandwidth | null | undefined,
  options: FloorChangeOptions = {},
): Promise<number> {
  const oldFloor = bandwidthFloor(oldBw);
  const newFloor = bandwidthFloor(newBw);
  if (oldFloor === newFloor) return classId;
  const check = checkFloorAdmission(net, mac, newBw, oldBw, state.floorSum);
  if (!check) return classId;
  const netBw = net.bandwidth!;

  if (oldFloor !== 0n && newFloor !== 0n) {
    await bw.updateClassRate(net.bridge, classId, netBw, newFloor);
    state.floorSum = state.floorSum - oldFloor + newFloor;
    try {
      await bw.updateClassRate(net.bridge, 2, netBw, check.newRate - state.floorSum);
      await options.save?.(state);
    } catch (err) {
      state.floorSum = state.floorSum - newFloor + oldFloor;
      await bw.updateClassRate(net.bridge, classId, netBw, oldFloor).catch(() => undefined);
      await bw.updateClassRate(net.bridge, 2, netBw, check.newRate - state.floorSum).catch(() => undefined);
      throw err;
    }
    return classId;
  }
  if (newFloor !== 0n) return plugChecked(bw, net, state, mac, newBw!, check.newRate, options);
  await networkUnplugFloor(bw, net, state, oldBw, classId, options);
  return 0;
}

/** The rate of 1:2 after a plug/unplug; failing is only a warning (libvirt does the same). */
async function updateDefaultRate(bw: NetDevBandwidth, net: FloorNetwork, rate: bigint): Promise<void> {
  try {
    await bw.updateClassRate(net.bridge, 2, net.bandwidth!, rate);
  } catch (err) {
    bw.tc.warn(`Unable to update rate for 1:2 class on ${net.bridge} bridge: ${(err as Error).message}`);
  }
}
