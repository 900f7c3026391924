// `<interface type='hostdev'>`: an SR-IOV VF given to the guest through VFIO, with the guest's
// MAC (and VLAN) put into the PF's admin settings for that VF (spec §2.1, §2.2). Start saves the
// VF's state (PF-online check first), detaches the VF to vfio-pci, then sets admin MAC and VLAN;
// a failure at any step undoes the steps before it, state file included. Stop restores what was
// saved and gives the VF back to its host driver.
import { promises as fs } from 'node:fs';
import { Errno, ErrorDomain, ErrorNumber, VirtError, systemError, virtError } from '../errors/index.js';
import { formatMac, macBytes } from './macAddress.js';
import { collectWarnings, type NetHost } from './netHost.js';
import { readNetConfig, restoreSavedNetConfig, saveNetConfig, setNetConfig, type VlanConfig } from './netConfigState.js';
import { detachPciDevice, isVfPciDir, pciDeviceDir, pciDriverName, pciHeaderType, reattachPciDevice, vfInfo } from './pciSysfs.js';

export interface HostdevInterfaceOptions {
  /** PCI address of the VF, `<source><address>` as "0000:02:10.1". */
  address: string;
  /** The guest's MAC: the VF's admin MAC while the guest has it. */
  guestMac: string;
  /** `<vlan>`: one tag (SR-IOV VFs cannot trunk). */
  vlan?: VlanConfig | null;
  /** hostdev-manager state directory (<runDir>/hostdevmgr). */
  stateDir: string;
  /** managed='yes' (default): detach to the stub driver here and reattach at stop. */
  managed?: boolean;
  /** Stub driver, `<driver name='vfio'/>` → 'vfio-pci'. */
  stubDriver?: string;
}

export interface PreparedHostdevInterface {
  address: string;
  /** PF netdev and VF index the admin settings went to. */
  pf: string;
  vf: number;
  /** The state file kept until stop. */
  stateFile: string;
}

/**
 * Start (and hotplug) of one `<interface type='hostdev'>` (spec §2.1 steps 1–4). On failure
 * nothing is left changed: the admin MAC/VLAN are restored, the VF reattached, the state file
 * removed.
 */
export async function prepareHostdevInterface(host: NetHost, options: HostdevInterfaceOptions): Promise<PreparedHostdevInterface> {
  const { address, stateDir } = options;
  const managed = options.managed ?? true;
  const stub = options.stubDriver ?? 'vfio-pci';
  const dir = pciDeviceDir(address);
  if (!(await host.sysfs.exists(dir))) {
    throw systemError(ErrorDomain.NONE, Errno.ENOENT, `Device ${address} not found: could not access ${host.sysfs.path(dir)}`, { object: address });
  }
  const guestMac = formatMac(macBytes(options.guestMac));
  const header = await pciHeaderType(host.sysfs, address);
  if (header !== null && header !== 0) {
    throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, 'Non-endpoint PCI devices cannot be assigned to guests', { object: address });
  }
  if (!(await isVfPciDir(host.sysfs, dir))) {
    throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.NONE, 'Interface type hostdev is currently supported on SR-IOV Virtual Functions only', { object: address });
  }
  const vlan = options.vlan ?? null;
  if (vlan && (vlan.tags.length !== 1 || vlan.trunk)) {
    // checked before anything changes (libvirt finds out after detaching)
    throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.NONE, 'vlan trunking is not supported by SR-IOV network devices');
  }
  if (!managed && (await pciDriverName(host.sysfs, address)) !== stub) {
    throw virtError(ErrorNumber.OPERATION_INVALID, ErrorDomain.NONE, `Unmanaged PCI device ${address} must be manually detached from the host`, { object: address });
  }

  // 1.5: PF port by the VF netdev's phys_port_id, PF-online check, state file
  const loc = await vfInfo(host.sysfs, dir, -1);
  const stateFile = await saveNetConfig(host, loc.pf, loc.vf, stateDir, true);

  // 2: detach (the VF netdev goes away)
  if (managed) {
    try {
      await detachPciDevice(host.sysfs, address, stub);
    } catch (err) {
      await fs.rm(stateFile, { force: true });
      throw err;
    }
  }

  // 3: no reset here: vfio-pci resets the function when QEMU opens it.
  // 4: admin MAC := guest MAC, VLAN := tag or the implicit clear
  try {
    await setNetConfig(host, loc.pf, loc.vf, { adminMac: guestMac, vlan, mac: null, setVlan: vlan !== null });
  } catch (err) {
    const ignored: VirtError[] = [];
    await restoreNetConfig(host, address, stateDir, collectWarnings(host, ignored));
    if (managed) await reattachPciDevice(host.sysfs, address).catch(collectWarnings(host, ignored));
    await fs.rm(stateFile, { force: true });
    throw err;
  }
  return { address, pf: loc.pf, vf: loc.vf, stateFile };
}

/** Reads the VF's state file (PF port 0, then port 1 of a dual-port PF) and applies it. */
async function restoreNetConfig(host: NetHost, address: string, stateDir: string, warn: (err: unknown) => void): Promise<void> {
  const dir = pciDeviceDir(address);
  try {
    // The VF netdev is gone (VFIO), so phys_port_id cannot pick the port: try each.
    let loc = await vfInfo(host.sysfs, dir, 0);
    let saved = await readNetConfig(host, loc.pf, loc.vf, stateDir);
    if (!saved) {
      const second = await vfInfo(host.sysfs, dir, 1);
      if (second.pf !== loc.pf) {
        loc = second;
        saved = await readNetConfig(host, loc.pf, loc.vf, stateDir);
      }
    }
    if (saved) await restoreSavedNetConfig(host, loc.pf, loc.vf, saved, 'hostdev');
  } catch (err) {
    warn(err);
  }
}

/**
 * Stop (and unplug) of one `<interface type='hostdev'>` (spec §2.2): restore the saved admin
 * MAC/VLAN (failures are only reported back, the stop goes on), then reattach a managed VF to
 * its host driver. Returns the failures that were ignored.
 */
export async function restoreHostdevInterface(
  host: NetHost,
  options: { address: string; stateDir: string; managed?: boolean },
): Promise<VirtError[]> {
  const warnings: VirtError[] = [];
  const warn = collectWarnings(host, warnings);
  await restoreNetConfig(host, options.address, options.stateDir, warn);
  if (options.managed ?? true) await reattachPciDevice(host.sysfs, options.address).catch(warn);
  return warnings;
}
