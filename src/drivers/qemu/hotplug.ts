// attach-device, detach-device and update-device (libvirt's qemuDomain{Attach,Detach,Update}
// DeviceFlags) for interfaces and disks, --live and --config. A live attach builds the host side
// first (taps, tc) and undoes it if QEMU refuses the device; a live detach asks the guest to let
// go (device_del), waits for DEVICE_DELETED, then releases the backend and the host side.
import type { DomainDef, DomainDeviceDef } from '../../conf/domain/index.js';
import { parseDeviceXML } from '../../conf/domain/index.js';
import type { DiskDef } from '../../conf/domain/disk.js';
import { insertDisk } from '../../conf/domain/disk.js';
import type { InterfaceDef } from '../../conf/domain/interface.js';
import { netDevBandwidthEqual } from '../../conf/netdevBandwidth.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { normalizeMacAddr } from '../../conf/macAddr.js';
import { closeFds } from '../../host/tap.js';
import { DomainDeviceModifyFlags, DomainEventID } from '../constants.js';
import { checkFlags } from '../flags.js';
import { modificationImpact } from '../modificationImpact.js';
import type { CommandLineContext, DeviceBuildEnv } from './commandLineContext.js';
import { assignHotplugAddress } from './deviceAddresses.js';
import { assignHotplugAlias } from './deviceAliases.js';
import { attachDiskLive } from './diskHotplug.js';
import { changeMedium, checkDiskChange, sameMedium } from './diskMedia.js';
import { interfaceDeviceProps, validateInterfaceForStart } from './devices/interface.js';
import type { DomainRuntime, QemuDomainObj } from './domainObj.js';
import type { QemuDriverState } from './driverState.js';
import { activateInterface, prepareInterface, releaseInterface, type NetHostRecord } from './interfaceHost.js';
import type { QmpClient } from './qmp.js';
import { setLiveBandwidth } from './interfaceTune.js';
import { saveStatus } from './runtimeStatus.js';
import { openVhostNet } from './vhostNet.js';

const Q = ErrorDomain.QEMU;
const { LIVE, CONFIG, FORCE } = DomainDeviceModifyFlags;
/** How long a detach waits for the guest (libvirt's QEMU_REMOVAL_WAIT_TIME). */
const REMOVAL_WAIT_MS = 5000;

function parseDevice(state: QemuDriverState, xml: string, def: DomainDef): DomainDeviceDef {
  return parseDeviceXML(xml, def, { driver: state.defaults });
}

function supported(dev: DomainDeviceDef, what: string): asserts dev is Extract<DomainDeviceDef, { kind: 'interface' | 'disk' }> {
  if (dev.kind !== 'interface' && dev.kind !== 'disk') {
    throw virtError(ErrorNumber.OPERATION_UNSUPPORTED, Q, `${what} of device '${dev.kind}' is not supported`);
  }
}

// ---- attach ----

export async function attachDevice(state: QemuDriverState, obj: QemuDomainObj, xml: string, flags: number): Promise<void> {
  checkFlags(flags, LIVE | CONFIG, 'qemuDomainAttachDeviceFlags', Q);
  await obj.job.run('attach device', async () => {
    const { live, config } = modificationImpact(obj, flags);
    // Parsed once per definition it goes into: each gets its own copy with its own defaults.
    const configDev = config ? parseDevice(state, xml, obj.persistentDef) : undefined;
    const liveDev = live ? parseDevice(state, xml, obj.def) : undefined;
    if (configDev) {
      supported(configDev, 'persistent attach');
      const next = structuredClone(obj.persistentDef);
      addToDef(next, configDev);
      assignHotplugAddress(next, configDev);
      if (!liveDev) {
        await state.saveConfig(next);
        if (obj.active) obj.newDef = next;
        else obj.def = next;
      } else {
        // Saved after the live attach succeeded, so a failure changes neither.
        await attachLive(state, obj, liveDev);
        await state.saveConfig(next);
        obj.newDef = next;
        return;
      }
    }
    if (liveDev) await attachLive(state, obj, liveDev);
  });
}

function addToDef(def: DomainDef, dev: Extract<DomainDeviceDef, { kind: 'interface' | 'disk' }>): void {
  if (dev.kind === 'interface') {
    const mac = dev.def.mac.address;
    if ((def.devices.interfaces ?? []).some((n) => n.mac.address === mac)) {
      throw virtError(ErrorNumber.OPERATION_FAILED, Q, `network device with mac ${mac} already exists`, { value: mac });
    }
    (def.devices.interfaces ??= []).push(dev.def);
  } else {
    const t = dev.def.target.dev;
    if ((def.devices.disks ?? []).some((d) => d.target.dev === t)) {
      throw virtError(ErrorNumber.OPERATION_FAILED, Q, `target ${t} already exists`, { value: t });
    }
    insertDisk((def.devices.disks ??= []), dev.def);
  }
}

function running(obj: QemuDomainObj): { rt: DomainRuntime; qmp: QmpClient } {
  const rt = obj.runtime;
  if (!rt || !obj.active) throw virtError(ErrorNumber.OPERATION_INVALID, Q, 'domain is not running');
  if (!rt.qmp) throw virtError(ErrorNumber.OPERATION_INVALID, Q, 'monitor must not be NULL');
  return { rt, qmp: rt.qmp };
}

async function attachLive(state: QemuDriverState, obj: QemuDomainObj, dev: DomainDeviceDef): Promise<void> {
  supported(dev, 'live attach');
  const { rt, qmp } = running(obj);
  const live = obj.def;
  addToDef(structuredClone(live), dev); // duplicate checks before any host change
  assignHotplugAlias(live, dev);
  assignHotplugAddress(live, dev);
  const env = await buildEnv(state, obj, rt);
  if (dev.kind === 'interface') await attachInterfaceLive(state, obj, rt, qmp, dev.def, env);
  else await attachDiskLive(obj, rt, qmp, dev.def, env);
  state.emit({ eventId: DomainEventID.DEVICE_ADDED, dom: obj.ref(), devAlias: dev.def.alias ?? '' });
  await saveStatus(state, obj);
}

/** What the device builders of the command line need, for one hotplugged device. */
async function buildEnv(state: QemuDriverState, obj: QemuDomainObj, rt: DomainRuntime): Promise<DeviceBuildEnv> {
  const caps = await state.capsFor(obj.def);
  const ctx: CommandLineContext = {
    caps,
    vmName: obj.name,
    qmpSocket: rt.monitorPath,
    chardevSocketDir: rt.dir,
    libDir: state.paths.lib,
    logDir: state.paths.log,
    netFds: new Map(),
    ptyAsSocket: true,
  };
  return { def: obj.def, caps, ctx, bootIndex: new Map() };
}

async function attachInterfaceLive(
  state: QemuDriverState,
  obj: QemuDomainObj,
  rt: DomainRuntime,
  qmp: QmpClient,
  net: InterfaceDef,
  env: DeviceBuildEnv,
): Promise<void> {
  validateInterfaceForStart(net);
  const ctx = { ...state.interfaceContext(), warn: (e: unknown) => state.warn(e, obj) };
  const alias = net.alias!;
  const netdevId = `host${alias}`;
  const prepared = await prepareInterface(ctx, net, obj.def);
  const fdNames: string[] = [];
  let netdevAdded = false;
  let deviceAdded = false;
  try {
    const netdev: Record<string, unknown> = { id: netdevId };
    if (prepared.tapfds.length > 0) {
      for (const [i, fd] of prepared.tapfds.entries()) {
        const name = `hostnet-${alias}-${i}`;
        await qmp.execute('getfd', { fdname: name }, { fds: [fd] });
        fdNames.push(name);
      }
      netdev.type = 'tap';
      if (fdNames.length === 1) netdev.fd = fdNames[0];
      else netdev.fds = fdNames.join(':');
      // vhost-net as at start (KVM guests, virtio models)
      const vhostNames: string[] = [];
      const vhostFds = openVhostNet(obj.def, net, (e) => state.warn(e, obj));
      try {
        for (const [i, fd] of vhostFds.entries()) {
          const name = `vhostfd-${alias}${i}`;
          await qmp.execute('getfd', { fdname: name }, { fds: [fd] });
          fdNames.push(name);
          vhostNames.push(name);
        }
      } finally {
        closeFds(vhostFds);
      }
      if (vhostNames.length) {
        netdev.vhost = true;
        if (vhostNames.length === 1) netdev.vhostfd = vhostNames[0];
        else netdev.vhostfds = vhostNames.join(':');
      }
    } else if (prepared.record.hostdev) {
      // No backend: the VF itself goes to the guest (vfio-pci).
    } else if (net.type === 'user') {
      netdev.type = 'user';
    } else {
      throw virtError(ErrorNumber.OPERATION_UNSUPPORTED, Q, `live attach of interface type '${net.type}' is not supported`);
    }
    closeFds(prepared.tapfds);
    if (netdev.type) {
      await qmp.execute('netdev_add', netdev);
      netdevAdded = true;
    }
    await activateInterface(ctx, prepared.record);
    // The guest side exactly as the command line builds it (model, MAC, address, queues).
    const device = interfaceDeviceProps(net, env);
    await qmp.execute('device_add', device);
    deviceAdded = true;
    if (net.link?.state === 'down') await qmp.execute('set_link', { name: alias, up: false });
  } catch (err) {
    closeFds(prepared.tapfds);
    // As libvirt's try_remove: a device QEMU took is asked to go again.
    if (deviceAdded) await qmp.execute('device_del', { id: alias }).catch(() => undefined);
    if (netdevAdded) await qmp.execute('netdev_del', { id: netdevId }).catch(() => undefined);
    for (const name of fdNames) await qmp.execute('closefd', { fdname: name }).catch(() => undefined);
    await releaseInterface(ctx, prepared.record);
    throw err;
  }
  (obj.def.devices.interfaces ??= []).push(net);
  rt.net.push(prepared.record);
}

// ---- detach ----

/** The interface a device XML names: by MAC, narrowed by PCI address and alias when given (virDomainNetFindIdx). */
function findInterface(def: DomainDef, want: InterfaceDef): number {
  const nets = def.devices.interfaces ?? [];
  const mac = normalizeMacAddr(want.mac.address) ?? want.mac.address;
  const macGiven = !want.macGenerated;
  const matches = nets
    .map((n, i) => ({ n, i }))
    .filter(({ n }) => {
      if (macGiven && (normalizeMacAddr(n.mac.address) ?? n.mac.address) !== mac) return false;
      if (want.address?.type === 'pci' && n.address?.type === 'pci') {
        const a = want.address;
        const b = n.address;
        if (a.domain !== b.domain || a.bus !== b.bus || a.slot !== b.slot || a.function !== b.function) return false;
      }
      if (want.alias && n.alias !== want.alias) return false;
      return true;
    });
  if (matches.length === 0) {
    throw virtError(ErrorNumber.DEVICE_MISSING, Q, macGiven ? `no device matching MAC address ${mac} found` : 'no matching network device was found', {
      value: mac,
    });
  }
  if (matches.length > 1) {
    throw virtError(ErrorNumber.OPERATION_FAILED, Q, `multiple devices matching MAC address ${mac} found`, { value: mac });
  }
  return matches[0]!.i;
}

function findDisk(def: DomainDef, want: DiskDef): number {
  const i = (def.devices.disks ?? []).findIndex((d) => d.target.dev === want.target.dev);
  if (i < 0) throw virtError(ErrorNumber.DEVICE_MISSING, Q, `disk ${want.target.dev} not found`, { value: want.target.dev });
  return i;
}

export async function detachDevice(state: QemuDriverState, obj: QemuDomainObj, xml: string, flags: number): Promise<void> {
  checkFlags(flags, LIVE | CONFIG, 'qemuDomainDetachDeviceFlags', Q);
  await obj.job.run('detach device', async () => {
    const { live, config } = modificationImpact(obj, flags);
    let next: DomainDef | undefined;
    if (config) {
      const dev = parseDevice(state, xml, obj.persistentDef);
      supported(dev, 'persistent detach');
      next = structuredClone(obj.persistentDef);
      if (dev.kind === 'interface') next.devices.interfaces!.splice(findInterface(next, dev.def), 1);
      else next.devices.disks!.splice(findDisk(next, dev.def), 1);
    }
    if (live) {
      const dev = parseDevice(state, xml, obj.def);
      supported(dev, 'live detach');
      await detachLive(state, obj, dev);
    }
    if (next) {
      await state.saveConfig(next);
      if (obj.active) obj.newDef = next;
      else obj.def = next;
      if (obj.active) await saveStatus(state, obj);
    }
  });
}

async function detachLive(state: QemuDriverState, obj: QemuDomainObj, dev: Extract<DomainDeviceDef, { kind: 'interface' | 'disk' }>): Promise<void> {
  const { rt, qmp } = running(obj);
  const live = obj.def;
  const target = dev.kind === 'interface' ? live.devices.interfaces![findInterface(live, dev.def)]! : live.devices.disks![findDisk(live, dev.def)]!;
  const alias = target.alias;
  if (!alias) throw virtError(ErrorNumber.OPERATION_FAILED, Q, 'device has no alias; it cannot be detached');
  const deleted = new Promise<boolean>((resolve) => {
    const t = setTimeout(() => {
      rt.deviceDeleted.delete(alias);
      resolve(false);
    }, REMOVAL_WAIT_MS);
    rt.deviceDeleted.set(alias, () => {
      clearTimeout(t);
      resolve(true);
    });
  });
  try {
    await qmp.execute('device_del', { id: alias });
  } catch (err) {
    rt.deviceDeleted.get(alias)?.();
    throw err;
  }
  if (await deleted) {
    await removeDeviceBackend(state, obj, alias);
  } else {
    // The guest has not let go yet (as libvirt: the request stands and the removal completes
    // when DEVICE_DELETED arrives).
    rt.onDeviceDeleted = (a) => void obj.job.run('device removal', () => removeDeviceBackend(state, obj, a)).catch((e: unknown) => state.warn(e, obj));
  }
}

/** After DEVICE_DELETED: the backend goes, the host side is undone, the live def forgets it. */
export async function removeDeviceBackend(state: QemuDriverState, obj: QemuDomainObj, alias: string): Promise<void> {
  const rt = obj.runtime;
  if (!rt) return;
  const live = obj.def;
  const ni = (live.devices.interfaces ?? []).findIndex((n) => n.alias === alias);
  if (ni >= 0) {
    const net = live.devices.interfaces![ni]!;
    await rt.qmp?.execute('netdev_del', { id: `host${alias}` }).catch((e: unknown) => state.warn(e, obj));
    const ri = rt.net.findIndex((r) => (r.alias ? r.alias === alias : r.mac === net.mac.address));
    const record: NetHostRecord | undefined = ri >= 0 ? rt.net.splice(ri, 1)[0] : undefined;
    if (record) await releaseInterface({ ...state.interfaceContext(), warn: (e) => state.warn(e, obj) }, record);
    live.devices.interfaces!.splice(ni, 1);
  }
  const di = (live.devices.disks ?? []).findIndex((d) => d.alias === alias);
  if (di >= 0) {
    const nodes = rt.diskNodes.get(alias);
    for (const node of nodes ? [nodes.format, nodes.storage] : []) {
      await rt.qmp?.execute('blockdev-del', { 'node-name': node }).catch((e: unknown) => state.warn(e, obj));
    }
    rt.diskNodes.delete(alias);
    live.devices.disks!.splice(di, 1);
  }
  state.emit({ eventId: DomainEventID.DEVICE_REMOVED, dom: obj.ref(), devAlias: alias });
  await saveStatus(state, obj);
}

// ---- update ----

export async function updateDevice(state: QemuDriverState, obj: QemuDomainObj, xml: string, flags: number): Promise<void> {
  checkFlags(flags, LIVE | CONFIG | FORCE, 'qemuDomainUpdateDeviceFlags', Q);
  await obj.job.run('update device', async () => {
    const { live, config } = modificationImpact(obj, flags & ~FORCE);
    let next: DomainDef | undefined;
    if (config) {
      const dev = parseDevice(state, xml, obj.persistentDef);
      supported(dev, 'persistent update');
      next = structuredClone(obj.persistentDef);
      updateInDef(next, dev);
    }
    if (live) {
      const dev = parseDevice(state, xml, obj.def);
      supported(dev, 'live update');
      await updateLive(state, obj, dev, (flags & FORCE) !== 0);
    }
    if (next) {
      await state.saveConfig(next);
      if (obj.active) obj.newDef = next;
      else obj.def = next;
    }
    if (obj.active) await saveStatus(state, obj);
  });
}

function updateInDef(def: DomainDef, dev: Extract<DomainDeviceDef, { kind: 'interface' | 'disk' }>): void {
  if (dev.kind === 'interface') {
    const i = findInterface(def, dev.def);
    const old = def.devices.interfaces![i]!;
    def.devices.interfaces![i] = { ...dev.def, alias: old.alias, address: dev.def.address ?? old.address };
  } else {
    const i = findDisk(def, dev.def);
    const old = def.devices.disks![i]!;
    def.devices.disks![i] = { ...dev.def, alias: old.alias, address: dev.def.address ?? old.address };
  }
}

async function updateLive(
  state: QemuDriverState,
  obj: QemuDomainObj,
  dev: Extract<DomainDeviceDef, { kind: 'interface' | 'disk' }>,
  force: boolean,
): Promise<void> {
  const { rt, qmp } = running(obj);
  const live = obj.def;
  if (dev.kind === 'disk') {
    // qemuDomainChangeDiskLive: only the medium of a removable drive (and its startup policy)
    const old = (live.devices.disks ?? []).find((d) => d.target.dev === dev.def.target.dev);
    if (!old) throw virtError(ErrorNumber.INTERNAL_ERROR, Q, `disk '${dev.def.target.dev}' not found`, { value: dev.def.target.dev });
    checkDiskChange(dev.def, old);
    if (!sameMedium(dev.def.source, old.source)) {
      if (old.device !== 'cdrom' && old.device !== 'floppy') {
        throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, Q, 'disk source can be changed only in removable drives');
      }
      await changeMedium(rt, qmp, old, dev.def.source, force);
    }
    if (dev.def.startupPolicy) old.startupPolicy = dev.def.startupPolicy;
    else delete old.startupPolicy;
    return;
  }
  const i = findInterface(live, dev.def);
  const old = live.devices.interfaces![i]!;
  const want = dev.def;
  // Only what can change without re-plugging: the link state and the bandwidth.
  if (want.type !== old.type || (want.model ?? old.model) !== old.model) {
    throw virtError(ErrorNumber.OPERATION_UNSUPPORTED, Q, 'cannot modify network device configuration');
  }
  // The bandwidth first, then the link, as libvirt's qemuDomainChangeNet: a bandwidth that is
  // refused (type, session mode, a network's floor) leaves the link as it was.
  if (!netDevBandwidthEqual(old.bandwidth, want.bandwidth)) {
    const t = old.type === 'network' && old.actual ? old.actual.type : old.type;
    if (!['ethernet', 'bridge', 'network', 'direct'].includes(t)) {
      throw virtError(ErrorNumber.OPERATION_UNSUPPORTED, Q, `cannot change bandwidth of interface type '${old.type}'`);
    }
    await setLiveBandwidth(state, obj, old, want.bandwidth, !!want.bandwidth?.inbound?.floor);
  }
  const oldLink = old.link?.state ?? 'up';
  const newLink = want.link?.state ?? 'up';
  if (oldLink !== newLink) {
    await qmp.execute('set_link', { name: old.alias, up: newLink !== 'down' });
    old.link = want.link ? { ...want.link } : undefined;
    if (!old.link) delete old.link;
  }
}
