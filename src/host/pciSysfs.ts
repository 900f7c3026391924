// PCI devices and SR-IOV relations as sysfs shows them (spec §1.2): which netdev sits on which
// PCI function, VF ↔ PF and VF index, the PF netdev of a multi-port PF (chosen by
// phys_port_id), and driver binding through driver_override / unbind / drivers_probe (VFIO
// detach and reattach). All paths go through a SysfsRoot, so tests point it at a temporary tree.
import { basename } from 'node:path';
import { ErrorDomain, ErrorNumber, virtError } from '../errors/index.js';
import type { SysfsRoot } from './sysfs.js';

const PCI_ADDR_RE = /^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/;
/** A PF port's phys_port_name ("p0", "p1s0"), as opposed to a VF representor's ("pf0vf3"). */
const PF_PORT_NAME_RE = /(p[0-9]+$)|(p[0-9]+s[0-9]+$)/;

export function isPciAddress(addr: string): boolean {
  return PCI_ADDR_RE.test(addr);
}

/** `bus/pci/devices/<addr>` — the PCI device directory of an address. */
export function pciDeviceDir(addr: string): string {
  if (!isPciAddress(addr)) throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, `invalid PCI address '${addr}'`, { value: addr });
  return `bus/pci/devices/${addr.toLowerCase()}`;
}

/** The PCI address of a device directory (basename of its canonical path). */
export async function pciAddressOf(sysfs: SysfsRoot, dir: string): Promise<string | null> {
  const real = await sysfs.resolve(dir);
  if (!real) return null;
  const addr = basename(real);
  return isPciAddress(addr) ? addr : null;
}

/** PCI device directory of a netdev (`class/net/<if>/device`), canonical; null when none. */
export async function netdevPciDir(sysfs: SysfsRoot, ifname: string): Promise<string | null> {
  return sysfs.resolve(`class/net/${ifname}/device`);
}

/** Whether a PCI device directory is an SR-IOV VF (has `physfn`). */
export async function isVfPciDir(sysfs: SysfsRoot, dir: string): Promise<boolean> {
  return sysfs.exists(`${dir}/physfn`);
}

/** Whether a netdev is an SR-IOV VF. */
export async function isVfNetdev(sysfs: SysfsRoot, ifname: string): Promise<boolean> {
  return sysfs.exists(`class/net/${ifname}/device/physfn`);
}

/** The VFs of a PF directory, in index order (virtfn0, virtfn1, … up to the first gap). */
export async function vfPciDirs(sysfs: SysfsRoot, pfDir: string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const d = await sysfs.resolve(`${pfDir}/virtfn${i}`);
    if (!d) return out;
    out.push(d);
  }
}

/** N such that `<pfDir>/virtfnN` is `vfDir`; internal error when there is none. */
export async function vfIndexOf(sysfs: SysfsRoot, pfDir: string, vfDir: string): Promise<number> {
  const want = await sysfs.resolve(vfDir);
  const vfs = await vfPciDirs(sysfs, pfDir);
  const n = want ? vfs.indexOf(want) : -1;
  if (n < 0) {
    throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, `Could not find VF ${basename(vfDir)} among the virtual functions of PF ${basename(pfDir)}`);
  }
  return n;
}

/** Netdev names under a PCI device (`<dir>/net/`), sorted; null when it has no net dir. */
export async function pciNetdevs(sysfs: SysfsRoot, dir: string): Promise<string[] | null> {
  return sysfs.list(`${dir}/net`);
}

async function netAttr(sysfs: SysfsRoot, ifname: string, attr: string): Promise<string | null> {
  const v = await sysfs.read(`class/net/${ifname}/${attr}`);
  // An attribute the driver does not provide reads as an error (EOPNOTSUPP) or is empty.
  return v === null || v.trim() === '' ? null : v;
}

/** Raw contents of `class/net/<if>/phys_port_id`, or null when not provided. */
export function physPortId(sysfs: SysfsRoot, ifname: string): Promise<string | null> {
  return netAttr(sysfs, ifname, 'phys_port_id');
}

export async function physPortName(sysfs: SysfsRoot, ifname: string): Promise<string | null> {
  return (await netAttr(sysfs, ifname, 'phys_port_name'))?.trim() ?? null;
}

/**
 * Picks one netdev of a PCI device (spec §1.2 pickNetdev): with `refNetdev`, the first whose
 * phys_port_id equals the reference's; otherwise a PF port by phys_port_name, or the `idx`-th
 * entry without one; nothing matched → the first entry (drivers such as i40e give phys_port_id
 * on PFs only). Null when the device has no net dir; internal error when it is empty.
 */
export async function pickNetdev(sysfs: SysfsRoot, pciDir: string, idx: number, refNetdev: string | null): Promise<string | null> {
  const entries = await pciNetdevs(sysfs, pciDir);
  if (entries === null) return null;
  if (entries.length === 0) {
    throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, `Could not find any network device under PCI device at ${sysfs.path(pciDir)}`);
  }
  const ref = refNetdev ? await physPortId(sysfs, refNetdev) : null;
  let unnamed = 0;
  for (const e of entries) {
    if (ref !== null) {
      if ((await physPortId(sysfs, e)) === ref) return e;
      continue;
    }
    const portName = await physPortName(sysfs, e);
    if (portName !== null) {
      if (PF_PORT_NAME_RE.test(portName)) return e;
      continue;
    }
    if (unnamed++ === idx) return e;
  }
  return entries[0]!;
}

/** A VF as the PF sees it. */
export interface VfLocation {
  /** The PF netdev to address VF requests to. */
  pf: string;
  /** VF index on that PF. */
  vf: number;
  /** Canonical PCI directories. */
  pfDir: string;
  vfDir: string;
}

/**
 * PF netdev and VF index of the VF at `vfDir` (spec §1.2 vfInfo). With pfNetdevIdx −1 the VF's
 * own netdev (while bound to a host driver) picks the PF port by phys_port_id; otherwise the
 * idx-th PF port is used.
 */
export async function vfInfo(sysfs: SysfsRoot, vfDir: string, pfNetdevIdx: number): Promise<VfLocation> {
  const vfReal = (await sysfs.resolve(vfDir)) ?? vfDir;
  const pfDir = await sysfs.resolve(`${vfReal}/physfn`);
  if (!pfDir) {
    throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, `'${sysfs.path(vfReal)}' is not a VF device`);
  }
  const vf = await vfIndexOf(sysfs, pfDir, vfReal);
  let idx = pfNetdevIdx;
  let ref: string | null = null;
  if (pfNetdevIdx === -1) {
    idx = 0;
    ref = (await pciNetdevs(sysfs, vfReal))?.[0] ?? null;
  }
  const pf = await pickNetdev(sysfs, pfDir, idx, ref);
  if (!pf) {
    throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, `The PF device for VF ${sysfs.path(vfReal)} has no network device name`);
  }
  return { pf, vf, pfDir, vfDir: vfReal };
}

/** The netdev of VF `vf` of PF netdev `pf` (chosen with the PF's phys_port_id), or null. */
export async function vfNetdevOfPf(sysfs: SysfsRoot, pf: string, vf: number): Promise<string | null> {
  const vfDir = await sysfs.resolve(`class/net/${pf}/device/virtfn${vf}`);
  if (!vfDir) {
    throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, `PF '${pf}' has no virtual function ${vf}`);
  }
  return pickNetdev(sysfs, vfDir, 0, pf);
}

/** For a VF netdev: its PF netdev (by the VF netdev's phys_port_id) and VF index. */
export async function vfLocationOfNetdev(sysfs: SysfsRoot, vfNetdev: string): Promise<VfLocation> {
  const vfDir = await netdevPciDir(sysfs, vfNetdev);
  const pfDir = vfDir ? await sysfs.resolve(`${vfDir}/physfn`) : null;
  if (!vfDir || !pfDir) throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, `'${vfNetdev}' is not a VF network device`);
  const pf = await pickNetdev(sysfs, pfDir, 0, vfNetdev);
  if (!pf) {
    throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, `The PF device for VF ${sysfs.path(vfDir)} has no network device name`);
  }
  return { pf, vf: await vfIndexOf(sysfs, pfDir, vfDir), pfDir, vfDir };
}

// --- driver binding ----------------------------------------------------------------------------

/** Name of the driver a PCI device is bound to, or null. */
export async function pciDriverName(sysfs: SysfsRoot, addr: string): Promise<string | null> {
  const d = await sysfs.resolve(`${pciDeviceDir(addr)}/driver`);
  return d ? basename(d) : null;
}

/** The PCI header type (config space byte 0x0e, low 7 bits): 0 = endpoint. Null when unreadable. */
export async function pciHeaderType(sysfs: SysfsRoot, addr: string): Promise<number | null> {
  const config = await sysfs.readBytes(`${pciDeviceDir(addr)}/config`, 64);
  return config && config.length > 0x0e ? config[0x0e]! & 0x7f : null;
}

/** Unbinds the device from its current driver, if any. */
async function unbind(sysfs: SysfsRoot, addr: string): Promise<void> {
  const driver = await pciDriverName(sysfs, addr);
  if (driver) await sysfs.write(`bus/pci/drivers/${driver}/unbind`, addr);
}

/**
 * Detaches a device from its host driver onto a stub (VFIO): driver_override := stub, unbind,
 * drivers_probe; then it must be bound to the stub. On failure the device is put back
 * (override cleared, host driver reprobed).
 */
export async function detachPciDevice(sysfs: SysfsRoot, addr: string, stub = 'vfio-pci'): Promise<void> {
  const dir = pciDeviceDir(addr);
  if (!(await sysfs.exists(`bus/pci/drivers/${stub}`))) {
    throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, `Failed to load PCI driver module ${stub}`, { object: addr });
  }
  if ((await pciDriverName(sysfs, addr)) === stub) return;
  let changed = false;
  try {
    await sysfs.write(`${dir}/driver_override`, stub);
    changed = true;
    await unbind(sysfs, addr);
    await sysfs.write('bus/pci/drivers_probe', addr);
    const now = await pciDriverName(sysfs, addr);
    if (now !== stub) {
      throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, `Failed to bind PCI device '${addr}' to ${stub}`, { object: addr });
    }
  } catch (err) {
    if (changed) await reattachPciDevice(sysfs, addr).catch(() => undefined);
    throw err;
  }
}

/**
 * Gives a device back to its host driver: driver_override := "\n" (clears it), unbind from the
 * stub, drivers_probe.
 */
export async function reattachPciDevice(sysfs: SysfsRoot, addr: string): Promise<void> {
  const dir = pciDeviceDir(addr);
  await sysfs.write(`${dir}/driver_override`, '\n');
  await unbind(sysfs, addr);
  await sysfs.write('bus/pci/drivers_probe', addr);
}

/** Unbind and reprobe (a VF net driver then re-reads its admin MAC). */
export async function rebindPciDevice(sysfs: SysfsRoot, addr: string): Promise<void> {
  await unbind(sysfs, addr);
  await sysfs.write('bus/pci/drivers_probe', addr);
}
