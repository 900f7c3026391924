// Attaching a disk to a running guest (libvirt 9.0's qemuDomainAttachDiskGeneric): the image's
// two block nodes (numbered on from the highest in use, shown as <source index>), then the guest
// device on its bus: virtio (a PCI slot), usb (a free port of the USB controller, usb-storage),
// scsi (a target on the SCSI controller the drive address names; a missing controller is
// hotplugged first, as libvirt does "for backward compatibility"). A refusal undoes the nodes.
import { access } from 'node:fs/promises';
import type { ControllerDef } from '../../conf/domain/controller.js';
import type { DiskDef } from '../../conf/domain/disk.js';
import { insertDisk } from '../../conf/domain/disk.js';
import { ErrorDomain, ErrorNumber, fromSystemError, virtError } from '../../errors/index.js';
import type { DeviceBuildEnv } from './commandLineContext.js';
import { assignHotplugAddress } from './deviceAddresses.js';
import { assignHotplugAlias } from './deviceAliases.js';
import { controllerDeviceProps } from './devices/controller.js';
import { diskBlockdevProps, diskDeviceProps, diskHasSource } from './devices/disk.js';
import type { DomainRuntime, QemuDomainObj } from './domainObj.js';
import type { QmpClient } from './qmp.js';

const Q = ErrorDomain.QEMU;

/**
 * qemuDomainFindOrCreateSCSIDiskController: the SCSI controller of a drive address, hotplugged
 * when missing (the model of the last SCSI controller, else lsilogic when QEMU has it, else
 * virtio-scsi). No event goes out for it.
 */
async function scsiControllerFor(obj: QemuDomainObj, qmp: QmpClient, index: number, env: DeviceBuildEnv): Promise<ControllerDef> {
  const live = obj.def;
  const scsi = (live.devices.controllers ?? []).filter((c) => c.type === 'scsi');
  const found = scsi.find((c) => c.index === index);
  if (found) return found;
  const last = scsi[scsi.length - 1];
  const model = last?.model ?? (env.caps.deviceTypes.includes('lsi53c895a') ? 'lsilogic' : 'virtio-scsi');
  const cont: ControllerDef = { type: 'scsi', index, model } as ControllerDef;
  const dev = { kind: 'controller', def: cont } as const;
  assignHotplugAddress(live, dev);
  assignHotplugAlias(live, dev);
  const props = controllerDeviceProps(cont, env);
  if (!props) throw virtError(ErrorNumber.INTERNAL_ERROR, Q, `SCSI controller model '${model}' has no device`);
  await qmp.execute('device_add', props);
  (live.devices.controllers ??= []).push(cont);
  return cont;
}

export async function attachDiskLive(obj: QemuDomainObj, rt: DomainRuntime, qmp: QmpClient, disk: DiskDef, env: DeviceBuildEnv): Promise<void> {
  const bus = disk.target.bus ?? 'virtio';
  if (bus !== 'virtio' && bus !== 'usb' && bus !== 'scsi') {
    throw virtError(ErrorNumber.OPERATION_UNSUPPORTED, Q, `disk bus '${bus}' cannot be hotplugged.`);
  }
  if (disk.device !== 'disk' && !(bus === 'scsi' && disk.device === 'cdrom')) {
    throw virtError(ErrorNumber.OPERATION_UNSUPPORTED, Q, `disk device='${disk.device}' cannot be hotplugged.`);
  }
  const path = disk.source.path;
  if (!diskHasSource(disk) || !path) {
    throw virtError(ErrorNumber.OPERATION_UNSUPPORTED, Q, `live attach of a disk of type '${disk.source.type}' is not supported`);
  }
  await access(path).catch((err: unknown) => {
    throw fromSystemError(err, Q, `Cannot access storage file '${path}'`, { value: path });
  });
  if (bus === 'scsi' && disk.address?.type === 'drive') {
    await scsiControllerFor(obj, qmp, disk.address.controller, env);
    // the alias depends on the controller's model (lsilogic has no targets)
    if (!disk.alias?.startsWith('ua-')) {
      delete disk.alias;
      assignHotplugAlias(obj.def, { kind: 'disk', def: disk });
    }
  }
  // libvirt numbers block nodes on from the highest one in use.
  const index = rt.nextNodeIndex++;
  const b = diskBlockdevProps(disk, index);
  let storageAdded = false;
  let formatAdded = false;
  try {
    await qmp.execute('blockdev-add', b.storage);
    storageAdded = true;
    await qmp.execute('blockdev-add', b.format);
    formatAdded = true;
    await qmp.execute('device_add', diskDeviceProps(disk, env, b.names));
  } catch (err) {
    if (formatAdded) await qmp.execute('blockdev-del', { 'node-name': b.names.format }).catch(() => undefined);
    if (storageAdded) await qmp.execute('blockdev-del', { 'node-name': b.names.storage }).catch(() => undefined);
    throw err;
  }
  rt.diskNodes.set(disk.alias!, b.names);
  // the live XML shows the node index and no backing chain, as for disks given at start
  disk.source.index = index;
  disk.source.backingStore ??= 'none';
  insertDisk((obj.def.devices.disks ??= []), disk);
}
