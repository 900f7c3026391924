// What a VF (or plain NIC) looked like before a guest used it, kept in a state file so stop can
// put it back (spec §1.8–1.10): save (with the PF-online check), read (and delete), and apply
// a MAC / admin MAC / VLAN configuration, with the VF fallback through the admin MAC and a
// driver rebind when the VF refuses a direct MAC change.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Errno, ErrorDomain, ErrorNumber, VirtError, fromSystemError, systemError, virtError } from '../errors/index.js';
import { writeFileAtomic } from './atomicFile.js';
import { getLink, trySetLinkMac } from './link.js';
import { isZeroMac, normalizeMac } from './macAddress.js';
import type { NetHost } from './netHost.js';
import { isVfNetdev, netdevPciDir, pciAddressOf, rebindPciDevice, vfLocationOfNetdev, vfNetdevOfPf } from './pciSysfs.js';
import { getVfConfig, setVfConfig } from './vfConfig.js';

/** An all-zero MAC with the locally-administered bit: what a PF that refuses 00:… accepts. */
export const ALT_ZERO_MAC = '02:00:00:00:00:00';
const MAX_STATE_FILE = 128;

/** `<vlan>` as plain values: the tags and whether it is a trunk. */
export interface VlanConfig {
  tags: number[];
  trunk?: boolean;
}

/** The contents of a state file. */
export interface SavedNetConfig {
  adminMac?: string;
  vlanTag?: number;
  mac?: string;
}

/** A device normalised to PF + VF index + netdev (§1.8 step 1). */
interface NetTarget {
  /** PF netdev, or null for a plain NIC */
  pf: string | null;
  vf: number;
  /** the VF's netdev (null when not bound to a host net driver), or the plain NIC */
  netdev: string | null;
}

async function normalise(host: NetHost, linkdev: string, vf: number): Promise<NetTarget> {
  if (vf >= 0) return { pf: linkdev, vf, netdev: await vfNetdevOfPf(host.sysfs, linkdev, vf) };
  if (await isVfNetdev(host.sysfs, linkdev)) {
    const loc = await vfLocationOfNetdev(host.sysfs, linkdev);
    return { pf: loc.pf, vf: loc.vf, netdev: linkdev };
  }
  return { pf: null, vf: -1, netdev: linkdev };
}

/** The state file's text: pretty JSON, keys adminMac, vlanTag, mac in that order when present. */
export function formatNetConfig(c: SavedNetConfig): string {
  const o: Record<string, string | number> = {};
  if (c.adminMac !== undefined) o.adminMac = c.adminMac;
  if (c.vlanTag !== undefined) o.vlanTag = c.vlanTag;
  if (c.mac !== undefined) o.mac = c.mac;
  return `${JSON.stringify(o, null, 2)}\n`;
}

function internal(msg: string, path: string): VirtError {
  return virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, msg, { object: path });
}

/**
 * Parses a state file (current JSON or legacy text: one line = mac; two lines = adminMac and
 * decimal vlanTag). Errors are internal errors naming the file.
 */
export function parseNetConfig(text: string, path: string): SavedNetConfig {
  const out: SavedNetConfig = {};
  let mac: unknown;
  let adminMac: unknown;
  if (/^[0-9a-fA-F]/.test(text)) {
    const lines = text.split('\n');
    while (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
    if (lines.length >= 2) {
      adminMac = lines[0];
      const v = lines[1]!;
      if (!/^-?\d+$/.test(v)) throw internal(`cannot parse vlan tag '${v}' from file '${path}'`, path);
      out.vlanTag = Number(v);
    } else {
      mac = lines[0];
    }
  } else {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw internal(`invalid json in net device saved config file '${path}': '${text.slice(0, 60)}'`, path);
    }
    const j = json as Record<string, unknown>;
    mac = typeof j.mac === 'string' ? j.mac : undefined;
    adminMac = typeof j.adminMac === 'string' ? j.adminMac : undefined;
    if (typeof j.vlanTag === 'number' && Number.isInteger(j.vlanTag)) out.vlanTag = j.vlanTag;
    if (mac === undefined && adminMac === undefined) {
      throw internal(
        `network device saved config file '${path}' has unexpected contents, missing both 'MAC' and 'adminMAC': '${text.slice(0, 60)}'`,
        path,
      );
    }
  }
  for (const [key, value] of [
    ['mac', mac],
    ['adminMac', adminMac],
  ] as const) {
    if (value === undefined) continue;
    const norm = normalizeMac(String(value));
    if (!norm) throw internal(`cannot parse MAC address '${String(value)}' from file '${path}'`, path);
    out[key] = norm;
  }
  return out;
}

/**
 * Records a device's current MAC and (for a VF) its admin MAC and VLAN before a guest uses it
 * (§1.8). For a VF the PF must be up: this is checked here, while the VF still has its netdev
 * (and so its phys_port_id, which finds the right PF port on multi-port NICs); the PF is never
 * brought up for the admin. Returns the file written.
 */
export async function saveNetConfig(host: NetHost, linkdev: string, vf: number, stateDir: string, saveVlan: boolean): Promise<string> {
  const t = await normalise(host, linkdev, vf);
  if (t.pf) {
    saveVlan = saveVlan || vf >= 0;
    const pfLink = await getLink(host.netlink, t.pf);
    if (!pfLink) throw systemError(ErrorDomain.NONE, Errno.ENODEV, `Unable to read link information of '${t.pf}'`, { object: t.pf });
    if (!pfLink.up) {
      throw virtError(
        ErrorNumber.INTERNAL_ERROR,
        ErrorDomain.NONE,
        `Unable to configure VF ${t.vf} of PF '${t.pf}' because the PF is not online. Please change host network config to put the PF online.`,
        { object: t.pf },
      );
    }
  }
  const config: SavedNetConfig = {};
  let path: string;
  if (t.pf && saveVlan) {
    path = join(stateDir, `${t.pf}_vf${t.vf}`);
    const admin = await getVfConfig(host.netlink, t.pf, t.vf);
    config.adminMac = admin.adminMac;
    config.vlanTag = admin.vlanTag;
  } else {
    path = join(stateDir, t.netdev ?? linkdev);
  }
  if (t.netdev) {
    const l = await getLink(host.netlink, t.netdev);
    if (!l?.mac) throw systemError(ErrorDomain.NONE, Errno.ENODEV, `Unable to read MAC address of '${t.netdev}'`, { object: t.netdev });
    config.mac = l.mac;
  }
  try {
    await fs.mkdir(stateDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(path, formatNetConfig(config), 0o600);
  } catch (err) {
    throw fromSystemError(err, ErrorDomain.NONE, `Unable to preserve mac/vlan tag for device = ${t.netdev ?? linkdev}, vf = ${t.vf}`, { object: path });
  }
  return path;
}

/** A saved configuration as read back: MACs and a one-tag VLAN. */
export interface RestoredNetConfig {
  adminMac?: string;
  vlan?: VlanConfig;
  mac?: string;
  /** the file it came from (already deleted) */
  path: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads and deletes the state file of a device (§1.9); null when there is none. A VF is looked
 * for as <PF>_vf<N>, and, when its netdev is bound and that file is absent, as <netdev>.
 */
export async function readNetConfig(host: NetHost, linkdev: string, vf: number, stateDir: string): Promise<RestoredNetConfig | null> {
  const t = await normalise(host, linkdev, vf);
  let path: string | null = null;
  if (t.pf) {
    path = join(stateDir, `${t.pf}_vf${t.vf}`);
    if (t.netdev && !(await exists(path))) path = null;
  }
  if (!path) {
    if (!t.netdev) return null;
    path = join(stateDir, t.netdev);
  }
  let text: string;
  try {
    const fh = await fs.open(path, 'r');
    try {
      const buf = Buffer.alloc(MAX_STATE_FILE);
      const { bytesRead } = await fh.read(buf, 0, MAX_STATE_FILE, 0);
      text = buf.toString('utf8', 0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fromSystemError(err, ErrorDomain.NONE, `Unable to read net device saved config file '${path}'`, { object: path });
  }
  const saved = parseNetConfig(text, path);
  await fs.rm(path, { force: true });
  const out: RestoredNetConfig = { path };
  if (saved.adminMac) out.adminMac = saved.adminMac;
  if (saved.mac) out.mac = saved.mac;
  if (saved.vlanTag !== undefined) out.vlan = { tags: [saved.vlanTag] };
  return out;
}

export interface NetConfigChange {
  /** New admin MAC (VFs only): what the VF driver initialises its MAC from. */
  adminMac?: string | null;
  vlan?: VlanConfig | null;
  /** MAC to set on the device's netdev now. */
  mac?: string | null;
  /** Send a VLAN request even without `vlan` (an explicit 0, EPERM fatal). */
  setVlan: boolean;
}

/**
 * Applies MAC / admin MAC / VLAN to a device (§1.10). For a VF whose netdev refuses a MAC change
 * (EADDRNOTAVAIL/EPERM: the PF's "administratively set" flag), the MAC goes in as admin MAC and
 * the VF is rebound to its driver so the driver takes it up.
 */
export async function setNetConfig(host: NetHost, linkdev: string, vf: number, change: NetConfigChange): Promise<void> {
  const t = await normalise(host, linkdev, vf);
  let adminMac = change.adminMac ?? null;
  const vlan = change.vlan ?? null;
  // null = "no VLAN requested": a VLAN 0 that tolerates EPERM (the DPU rule)
  let vlanArg: number | null = null;
  let sendVlan = false;
  if (!t.pf) {
    const dev = t.netdev ?? linkdev;
    if (adminMac) {
      throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.NONE, `admin MAC can only be set for SR-IOV VFs, but ${dev} is not a VF`, { object: dev });
    }
    if (vlan) {
      throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.NONE, `vlan can only be set for SR-IOV VFs, but ${dev} is not a VF`, { object: dev });
    }
  } else if (vlan) {
    if (vlan.tags.length !== 1 || vlan.trunk) {
      throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.NONE, 'vlan trunking is not supported by SR-IOV network devices');
    }
    if (!change.setVlan) {
      throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, `vlan tag set for interface ${linkdev} but caller requested it not be set`);
    }
    vlanArg = vlan.tags[0]!;
    sendVlan = true;
  } else if (change.setVlan) {
    vlanArg = 0;
    sendVlan = true;
  }

  if (change.mac) {
    if (!t.netdev) {
      throw virtError(
        ErrorNumber.INTERNAL_ERROR,
        ErrorDomain.NONE,
        `VF ${t.vf} of PF '${t.pf}' is not bound to a net driver, so its MAC address cannot be set to ${change.mac}`,
        { object: t.pf ?? linkdev },
      );
    }
    const rc = await trySetLinkMac(host.netlink, t.netdev, change.mac);
    if (rc < 0) {
      if (!t.pf || (rc !== -Errno.EADDRNOTAVAIL && rc !== -Errno.EPERM)) {
        throw systemError(ErrorDomain.NONE, -rc, `Cannot set interface MAC to ${change.mac} on '${t.netdev}'`, { object: t.netdev });
      }
      // The admin flag blocks the VF side: put the MAC into the PF's admin MAC (with the VLAN),
      // then rebind the VF so its driver initialises from it.
      const r = await setVfConfig(host.netlink, t.pf, t.vf, change.mac, sendVlan ? vlanArg : null, { allowRetry: false });
      if (r.rc < 0) throw r.error ?? systemError(ErrorDomain.NONE, -r.rc, `Cannot set VF ${t.vf} of PF '${t.pf}'`);
      sendVlan = false; // just sent
      const dir = await netdevPciDir(host.sysfs, t.netdev);
      const addr = dir ? await pciAddressOf(host.sysfs, dir) : null;
      if (!addr) throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, `Unable to find the PCI device of '${t.netdev}'`);
      await rebindPciDevice(host.sysfs, addr);
      for (let i = 0; i < 100 && !(await getLink(host.netlink, t.netdev)); i++) await new Promise((r) => setTimeout(r, 1));
    } else if (t.pf) {
      // Set directly: the admin MAC was only a means for the fallback; setting it would raise the
      // admin flag for nothing.
      adminMac = null;
    }
  }

  if (t.pf && (adminMac || sendVlan)) {
    const retry = { allowRetry: true };
    let r = await setVfConfig(host.netlink, t.pf, t.vf, adminMac, sendVlan ? vlanArg : null, retry);
    // A silent failure is the PF refusing an all-zero admin MAC (EINVAL): it takes the locally
    // administered "zero" instead. (Not after a VLAN failure, which libvirt also retries.)
    if (r.rc < 0 && r.error === null && retry.allowRetry && adminMac && isZeroMac(adminMac)) {
      retry.allowRetry = false;
      r = await setVfConfig(host.netlink, t.pf, t.vf, ALT_ZERO_MAC, sendVlan ? vlanArg : null, retry);
    }
    if (r.rc < 0) throw r.error ?? systemError(ErrorDomain.NONE, -r.rc, `Cannot set VF ${t.vf} of PF '${t.pf}'`);
  }
}

/** The restore half for a saved configuration (stop, or undoing a failed start). */
export async function restoreSavedNetConfig(host: NetHost, linkdev: string, vf: number, saved: RestoredNetConfig, mode: 'hostdev' | 'direct'): Promise<void> {
  if (mode === 'hostdev') {
    // The VF is not on its host driver yet, so only the admin MAC can carry its old MAC; it
    // becomes the VF's MAC when the driver binds again.
    await setNetConfig(host, linkdev, vf, { adminMac: saved.mac ?? saved.adminMac ?? null, vlan: saved.vlan ?? null, mac: null, setVlan: true });
  } else {
    await setNetConfig(host, linkdev, vf, { adminMac: saved.adminMac ?? null, vlan: saved.vlan ?? null, mac: saved.mac ?? null, setVlan: !!saved.vlan });
  }
}
