// QEMU's NIC_RX_FILTER_CHANGED (spec network-devices §3.5): a guest changed the MAC, multicast
// list or receive modes of a virtio NIC. QEMU says so once and then stays silent for that NIC
// until someone runs query-rx-filter for it. Only for a NIC whose effective trustGuestRxFilters
// is yes does tsvirt ask (libvirt's processNicRxFilterChangedEvent); without trust it does not
// even query, so QEMU stays silent, and nothing on the host changes. With trust, the host
// follows the guest per actual connection type:
//
//   direct (macvtap)               MAC, multicast list and flags copied to the macvtap
//   network, with a floor class    the u32 filter of the class re-added for the new MAC
//                                  (exactly 800::<800+id>, never the 800:: hash table)
//   anything else                  nothing on the host
//
// and the live XML shows the guest's own MAC as <mac address='…' currentAddress='…'/> (libvirt
// 11.2 and later; libvirt 9.0 shows nothing). The same sync runs once for every trusted NIC at
// start and after a reattach (events may have been missed while no one listened).
import type { InterfaceDef } from '../../conf/domain/interface.js';
import { isVirtioModel } from '../../conf/domain/interface.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { parseGuestRxFilter, planRxFilterChange, syncMacvtapRxFilter, type GuestRxFilter } from '../../host/rxFilter.js';
import type { NetworkPort } from '../network/index.js';
import type { DomainRuntime, QemuDomainObj } from './domainObj.js';
import type { QemuDriverState } from './driverState.js';
import type { NetHostRecord } from './interfaceHost.js';
import { saveStatus } from './runtimeStatus.js';

/** The network port of a type='network' interface, if the network still knows it. */
function portOf(state: QemuDriverState, net: InterfaceDef): NetworkPort | undefined {
  const network = net.source?.network;
  const uuid = net.source?.portid;
  if (net.type !== 'network' || !network || !uuid || !state.network) return undefined;
  try {
    return state.network.lookupPort(network, uuid);
  } catch {
    return undefined;
  }
}

/**
 * virDomainNetGetActualTrustGuestRxFilters: the interface's own setting, or for type='network'
 * the port's, which merges interface, portgroup and network (an explicit 'no' on the interface
 * wins). The port is asked first: the <actual> read back from a status file carries only the
 * interface's own setting (libvirt formats it that way).
 */
export function effectiveTrustGuestRxFilters(state: QemuDriverState, net: InterfaceDef): boolean {
  if (net.type === 'network' && net.actual) {
    const port = portOf(state, net);
    return (port ? port.trustGuestRxFilters : net.actual.trustGuestRxFilters) === true;
  }
  return net.trustGuestRxFilters === true;
}

function actualType(net: InterfaceDef): string {
  return net.type === 'network' && net.actual ? net.actual.type : net.type;
}

function recordOf(rt: DomainRuntime, net: InterfaceDef): NetHostRecord | undefined {
  return rt.net.find((r) => (r.alias && net.alias ? r.alias === net.alias : r.mac === net.mac.address));
}

/** query-rx-filter for one NIC; its reply is a one-element array. */
async function queryRxFilter(rt: DomainRuntime, alias: string): Promise<GuestRxFilter> {
  if (!rt.qmp) throw virtError(ErrorNumber.OPERATION_INVALID, ErrorDomain.QEMU, 'monitor must not be NULL');
  const reply = await rt.qmp.execute<unknown>('query-rx-filter', { name: alias });
  if (!Array.isArray(reply) || reply.length === 0) {
    throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, 'query-rx-filter reply data was not an array', { object: 'query-rx-filter' });
  }
  return parseGuestRxFilter(reply[0]);
}

export interface RxFilterSyncOptions {
  /**
   * Re-add a floor filter even when the guest's MAC is the one it already matches (after a
   * reattach the filter may lag behind the status file).
   */
  force?: boolean;
}

/**
 * qemuDomainSyncRxFilter: asks QEMU for the NIC's filter and makes the host follow it. The
 * caller holds the domain's job and has checked trust. A failed floor-filter update fails the
 * call (the filter is back on the MAC it matched); macvtap changes that fail are only warnings.
 * Returns true when the live definition changed (the status file needs a write).
 */
export async function syncRxFilter(
  state: QemuDriverState,
  obj: QemuDomainObj,
  rt: DomainRuntime,
  net: InterfaceDef,
  options: RxFilterSyncOptions = {},
): Promise<boolean> {
  const alias = net.alias;
  if (!alias) return false;
  const guest = await queryRxFilter(rt, alias);
  const guestMac = guest['main-mac'];
  const known = net.mac.currentAddress ?? net.mac.address;
  const type = actualType(net);
  const port = portOf(state, net);
  const plan = planRxFilterChange({
    trustGuestRxFilters: true,
    actualType: type,
    hasBandwidth: !!(port?.bandwidth ?? net.actual?.bandwidth),
    classId: port ? port.classID : net.actual?.classId,
  });
  if (plan.query && plan.syncMacvtap) {
    const record = recordOf(rt, net);
    const ifname = record?.created?.name ?? record?.opened ?? net.target?.dev;
    if (!ifname) throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, `interface ${net.mac.address} has no host device to follow its guest`);
    await syncMacvtapRxFilter(ifname, guest, { warn: (m) => state.warn(new Error(m), obj) });
  }
  if (plan.query && plan.updateFloorFilter && (guestMac !== known || options.force) && port) {
    await state.networks().updatePortMac(port.network, port.uuid, guestMac, known);
  }
  const next = guestMac === net.mac.address ? undefined : guestMac;
  if (next === net.mac.currentAddress) return false;
  if (next) net.mac.currentAddress = next;
  else delete net.mac.currentAddress;
  return true;
}

/**
 * The NIC_RX_FILTER_CHANGED handler: in a job of the domain, find the NIC by alias, check
 * trust, sync, save the status. Errors are logged (an event has no caller to report to).
 */
export function onNicRxFilterChanged(state: QemuDriverState, obj: QemuDomainObj, rt: DomainRuntime, alias: string): void {
  void obj.job
    .run('NIC_RX_FILTER_CHANGED', async () => {
      if (obj.runtime !== rt || !obj.active || rt.stopping) return;
      const net = (obj.def.devices.interfaces ?? []).find((n) => n.alias === alias);
      if (!net) {
        state.warn(new Error(`NIC_RX_FILTER_CHANGED event received for non-existent device ${alias} in domain ${obj.name}`), obj);
        return;
      }
      // Not asking keeps QEMU from sending more of these for this NIC.
      if (!effectiveTrustGuestRxFilters(state, net)) return;
      if (await syncRxFilter(state, obj, rt, net)) await saveStatus(state, obj);
    })
    .catch((err: unknown) => state.warn(err, obj, `NIC_RX_FILTER_CHANGED for ${alias}`));
}

/**
 * qemuProcessRefreshRxFilters: one sync for every trusted virtio NIC (only virtio NICs answer
 * query-rx-filter), at start before the CPUs run and after a reattach. The caller holds the
 * job. A NIC that fails is logged and the others still run; libvirt fails the start or the
 * reattach instead, which for a reattach means killing a guest that ran fine.
 */
export async function refreshRxFilters(
  state: QemuDriverState,
  obj: QemuDomainObj,
  rt: DomainRuntime,
  options: RxFilterSyncOptions = {},
): Promise<boolean> {
  let changed = false;
  for (const net of obj.def.devices.interfaces ?? []) {
    if (!net.alias || !isVirtioModel(net.model) || !effectiveTrustGuestRxFilters(state, net)) continue;
    try {
      if (await syncRxFilter(state, obj, rt, net, options)) changed = true;
    } catch (err) {
      state.warn(err, obj, `rx-filter sync of ${net.alias}`);
    }
  }
  return changed;
}
