// Device aliases (<alias name='net0'/>): the ids QEMU knows each device by, given at start and
// to hotplugged devices, named as libvirt's qemu_alias.c names them. User aliases ('ua-…') kept.
import { diskNameToIndex } from '../../conf/domain/disk.js';
import type { ControllerDef } from '../../conf/domain/controller.js';
import type { DiskDef } from '../../conf/domain/disk.js';
import type { DeviceInfo, DomainDef, DomainDeviceDef } from '../../conf/domain/index.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { machineChipset } from './deviceAddresses.js';

/** The alias of a controller: 'pci.0', 'pcie.0', 'usb', 'ide', 'scsi0', 'virtio-serial0', … */
export function controllerAlias(c: Pick<ControllerDef, 'type' | 'index' | 'model'>, machine?: string): string {
  // Q35's own AHCI is the bus QEMU calls 'ide'
  if (c.type === 'sata' && c.index === 0 && machineChipset(machine) === 'q35') return 'ide';
  switch (c.type) {
    case 'pci':
      return c.model === 'pcie-root' ? 'pcie.0' : `pci.${c.index}`;
    case 'ide':
      return c.index === 0 ? 'ide' : `ide${c.index}`;
    case 'usb':
      return c.index === 0 ? 'usb' : `usb${c.index}`;
    default:
      return `${c.type}${c.index}`;
  }
}

/** The alias of a disk from its bus and address: 'virtio-disk0', 'ide0-1-0', 'sata0-0-0', 'scsi0-0-0-0'. */
export function diskAlias(d: DiskDef, def: DomainDef): string {
  const a = d.address?.type === 'drive' ? d.address : undefined;
  switch (d.target.bus) {
    case 'ide':
    case 'sata':
    case 'fdc':
      if (!a) break;
      return `${d.target.bus}${a.controller}-${a.bus}-${a.unit}`;
    case 'scsi': {
      if (!a) break;
      const cont = def.devices.controllers?.find((c) => c.type === 'scsi' && c.index === a.controller);
      // the lsi controller has no targets: libvirt leaves the target out of its name
      if (cont?.model === 'lsilogic') return `scsi${a.controller}-${a.bus}-${a.unit}`;
      return `scsi${a.controller}-${a.bus}-${a.target}-${a.unit}`;
    }
    case 'virtio':
      return `virtio-disk${diskNameToIndex(d.target.dev)}`;
    case 'usb':
      return `usb-disk${diskNameToIndex(d.target.dev)}`;
    default:
      break;
  }
  throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, `Unsupported disk bus '${d.target.bus}' for disk '${d.target.dev}'`, {
    element: 'disk/target',
    attribute: 'bus',
    value: d.target.bus,
  });
}

/** Next free number for a prefix among the given aliases ('net' + max + 1). */
function nextIndex(prefix: string, infos: Iterable<DeviceInfo>): number {
  let max = -1;
  const re = new RegExp(`^${prefix.replace(/[.-]/g, '\\$&')}(\\d+)$`);
  for (const i of infos) {
    const m = i.alias ? re.exec(i.alias) : null;
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max + 1;
}

function give(prefix: string, list: DeviceInfo[] | undefined, pool: DeviceInfo[] = list ?? []): void {
  for (const d of list ?? []) if (!d.alias) d.alias = `${prefix}${nextIndex(prefix, pool)}`;
}

/** Gives every device of a domain about to start its alias (qemuAssignDeviceAliases). */
export function assignDeviceAliases(def: DomainDef): void {
  const d = def.devices;
  for (const disk of d.disks ?? []) if (!disk.alias) disk.alias = diskAlias(disk, def);
  for (const c of d.controllers ?? []) if (!c.alias) c.alias = controllerAlias(c, def.os.machine);
  // hostdev interfaces share the hostdev numbering
  const hostdevPool: DeviceInfo[] = [...(d.hostdevs ?? []), ...(d.interfaces ?? []).filter((n) => n.type === 'hostdev')];
  for (const n of d.interfaces ?? []) {
    if (n.alias) continue;
    if (n.type === 'hostdev') n.alias = `hostdev${nextIndex('hostdev', hostdevPool)}`;
    else n.alias = `net${nextIndex('net', (d.interfaces ?? []).filter((x) => x.type !== 'hostdev'))}`;
  }
  give('serial', d.serials);
  give('parallel', d.parallels);
  // a console standing for serial 0 is that serial; the others are numbered by position
  (d.consoles ?? []).forEach((c, i) => {
    if (c.alias) return;
    c.alias = i === 0 && c.target.type === 'serial' && d.serials?.length ? d.serials[0]!.alias! : `console${i}`;
  });
  give('channel', d.channels);
  give('input', d.inputs);
  give('sound', d.sounds);
  give('video', d.videos);
  give('hostdev', d.hostdevs, hostdevPool);
  give('watchdog', d.watchdogs);
  if (d.memballoon && !d.memballoon.alias && d.memballoon.model !== 'none') d.memballoon.alias = 'balloon0';
  give('rng', d.rngs);
}

/** An alias for one device being hotplugged into a running domain. */
export function assignHotplugAlias(def: DomainDef, dev: DomainDeviceDef): void {
  const info = dev.def as DeviceInfo;
  if (info.alias) return;
  const d = def.devices;
  switch (dev.kind) {
    case 'disk':
      info.alias = diskAlias(dev.def, def);
      return;
    case 'controller':
      info.alias = controllerAlias(dev.def, def.os.machine);
      return;
    case 'interface':
      info.alias =
        dev.def.type === 'hostdev'
          ? `hostdev${nextIndex('hostdev', [...(d.hostdevs ?? []), ...(d.interfaces ?? [])])}`
          : `net${nextIndex('net', d.interfaces ?? [])}`;
      return;
    case 'hostdev':
      info.alias = `hostdev${nextIndex('hostdev', [...(d.hostdevs ?? []), ...(d.interfaces ?? [])])}`;
      return;
    case 'memballoon':
      info.alias = 'balloon0';
      return;
    default: {
      const list = (d as Record<string, unknown>)[`${dev.kind}s`] as DeviceInfo[] | undefined;
      info.alias = `${dev.kind}${nextIndex(dev.kind, list ?? [])}`;
    }
  }
}
