// virDomainSetInterfaceParameters / GetInterfaceParameters (virsh domiftune): an interface's
// <bandwidth>, live (tc on its tap or macvtap; a type='network' interface's floor through its
// network port) and in the persistent config. An unprivileged driver refuses live limits as
// libvirt's session mode does ("Network bandwidth tuning is not available in session mode").
import type { DomainDef } from '../../conf/domain/index.js';
import type { InterfaceDef } from '../../conf/domain/interface.js';
import type { NetDevBandwidth as BandwidthDef } from '../../conf/netdevBandwidth.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { DomainModificationImpact, TypedParameterFlags } from '../constants.js';
import type { TypedParam } from '../driver.js';
import { checkFlags } from '../flags.js';
import { modificationImpact } from '../modificationImpact.js';
import { bandwidthToParams, checkBandwidthParams, findDomainNet, mergeBandwidthParams as mergeBandwidth } from '../interfaceParameters.js';
import type { QemuDomainObj } from './domainObj.js';
import type { QemuDriverState } from './driverState.js';
import { saveStatus } from './runtimeStatus.js';
import type { NetworkPort } from '../network/index.js';

const Q = ErrorDomain.QEMU;
const { LIVE, CONFIG } = DomainModificationImpact;

function defsFor(obj: QemuDomainObj, flags: number): { live?: DomainDef; config?: DomainDef } {
  const { live, config } = modificationImpact(obj, flags);
  return { live: live ? obj.def : undefined, config: config ? obj.persistentDef : undefined };
}

/** The actual connection type, which decides whether a bandwidth can be set at all. */
function actualType(net: InterfaceDef): string {
  return net.type === 'network' && net.actual ? net.actual.type : net.type;
}

export async function setInterfaceParameters(
  state: QemuDriverState,
  obj: QemuDomainObj,
  device: string,
  params: TypedParam[],
  flags: number,
): Promise<void> {
  checkFlags(flags, LIVE | CONFIG, 'qemuDomainSetInterfaceParameters', Q);
  checkBandwidthParams(params);
  await obj.job.run('set interface parameters', async () => {
    const { live, config } = defsFor(obj, flags);
    const liveNet = live ? findDomainNet(live, device) : undefined;
    const configNet = config ? findDomainNet(config, device) : undefined;
    for (const net of [liveNet, configNet]) {
      const t = net && actualType(net);
      if (t && !['ethernet', 'bridge', 'network', 'direct'].includes(t)) {
        throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, Q, `setting bandwidth on interfaces of type '${t}' is not implemented yet`);
      }
    }
    const merged = (cur: BandwidthDef | undefined): BandwidthDef | undefined => mergeBandwidth(cur, params);
    const floorGiven = params.some((p) => p.field === 'inbound.floor' && Number(p.value) !== 0);
    if (liveNet) await setLiveBandwidth(state, obj, liveNet, merged(liveNet.bandwidth), floorGiven);
    if (configNet && config) {
      const next = merged(configNet.bandwidth);
      const copy = structuredClone(config);
      const target = findDomainNet(copy, device);
      if (next) target.bandwidth = next;
      else delete target.bandwidth;
      await state.saveConfig(copy);
      if (obj.active) obj.newDef = copy;
      else obj.def = copy;
    }
    if (obj.active) await saveStatus(state, obj);
  });
}

const asBandwidth = (bw: BandwidthDef | undefined) => (bw && (bw.inbound || bw.outbound) ? { inbound: bw.inbound ?? null, outbound: bw.outbound ?? null } : null);

/**
 * The live half of domiftune and of update-device's bandwidth change, in libvirt's order: a
 * type='network' interface's port first (its floor is admitted or refused by the network
 * before anything changes: OPERATION_INVALID "…would overcommit…", the bridge untouched), then
 * the limits on the host device; if those fail, the device and the port get the old bandwidth
 * back. An unprivileged driver refuses, as libvirt's session mode.
 */
export async function setLiveBandwidth(
  state: QemuDriverState,
  obj: QemuDomainObj,
  net: InterfaceDef,
  next: BandwidthDef | undefined,
  floorGiven: boolean,
): Promise<void> {
  if (!state.bandwidth.privileged) {
    throw virtError(ErrorNumber.OPERATION_UNSUPPORTED, ErrorDomain.NONE, 'Network bandwidth tuning is not available in session mode');
  }
  const isNetwork = net.type === 'network';
  if (!isNetwork && floorGiven) {
    throw virtError(
      ErrorNumber.OPERATION_UNSUPPORTED,
      Q,
      `Invalid use of 'floor' on interface with MAC address ${net.mac.address} - 'floor' is only supported for interface type 'network' with forward type 'nat', 'route', 'open' or none`,
      { value: net.mac.address },
    );
  }
  const rt = obj.runtime!;
  const record = rt.net.find((r) => (r.alias ? r.alias === net.alias : r.mac === net.mac.address));
  const dev = record?.created?.name ?? record?.opened ?? net.target?.dev;
  const swapped = actualType(net) !== 'direct' && !(record?.opened && /^macvtap/.test(record.opened));
  const old = net.bandwidth;

  const portRef = isNetwork && net.source?.network && net.source.portid ? { network: net.source.network, uuid: net.source.portid } : undefined;
  let port: NetworkPort | undefined;
  if (portRef) port = await state.networks().updatePortBandwidth(portRef.network, portRef.uuid, next);
  try {
    if (asBandwidth(next)) await state.bandwidth.setBandwidth(dev, asBandwidth(next), { swapped });
    else await state.bandwidth.clearBandwidth(dev);
    // No limit left in the direction the device transmits: its noqueue root again (libvirt).
    const tx = swapped ? next?.inbound : next?.outbound;
    if (!tx?.average) await state.bandwidth.setDefaultQDisc(dev);
  } catch (err) {
    await state.bandwidth.clearBandwidth(dev).catch(() => undefined);
    if (asBandwidth(old)) await state.bandwidth.setBandwidth(dev, asBandwidth(old), { swapped }).catch(() => undefined);
    if (portRef) await state.networks().updatePortBandwidth(portRef.network, portRef.uuid, old).catch((e: unknown) => state.warn(e, obj));
    throw err;
  }
  if (record && dev) {
    // What stop undoes: limits on any device; the default qdisc only on an admin's device.
    if (asBandwidth(next) || record.opened) record.bandwidthOn = dev;
    else delete record.bandwidthOn;
  }
  if (next) net.bandwidth = next;
  else delete net.bandwidth;
  if (port && net.actual) {
    if (port.bandwidth) net.actual.bandwidth = structuredClone(port.bandwidth);
    else delete net.actual.bandwidth;
    if (port.classID) net.actual.classId = port.classID;
    else delete net.actual.classId;
  }
}

export async function getInterfaceParameters(
  _state: QemuDriverState,
  obj: QemuDomainObj,
  device: string,
  flags: number,
): Promise<TypedParam[]> {
  checkFlags(flags, LIVE | CONFIG | TypedParameterFlags.STRING_OKAY, 'qemuDomainGetInterfaceParameters', Q);
  const { live, config } = defsFor(obj, flags & (LIVE | CONFIG));
  return bandwidthToParams(findDomainNet((live ?? config)!, device).bandwidth);
}
