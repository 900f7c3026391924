// <disk> on QEMU's command line: the image as two -blockdev nodes (the protocol layer — file,
// host_device, host_cdrom — and the format layer — raw, qcow2) and the guest device
// (virtio-blk-pci, ide-hd, ide-cd, scsi-hd, …) taking the format node as its drive.
import type { DiskDef } from '../../../conf/domain/disk.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../../errors/index.js';
import type { DeviceBuildEnv } from '../commandLineContext.js';
import { controllerAlias } from '../deviceAliases.js';
import { addressProps, aliasOf, deviceArgs, jsonArg, type QemuProps } from './qemuProps.js';

function unsupported(detail: string, disk?: DiskDef): Error {
  return virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, detail, { element: 'disk', value: disk?.target.dev });
}

/** Whether a disk has media: an empty cdrom or floppy has no -blockdev. */
export function diskHasSource(d: DiskDef): boolean {
  return (d.source.type === 'file' || d.source.type === 'block') && !!d.source.path;
}

/** cache mode → QEMU's cache.direct/cache.no-flush and the device's write-cache. */
function cacheProps(d: DiskDef): { cache?: { direct: boolean; 'no-flush': boolean }; writeCache?: 'on' | 'off' } {
  switch (d.driver?.cache) {
    case 'none':
      return { cache: { direct: true, 'no-flush': false }, writeCache: 'on' };
    case 'writethrough':
      return { cache: { direct: false, 'no-flush': false }, writeCache: 'off' };
    case 'writeback':
      return { cache: { direct: false, 'no-flush': false }, writeCache: 'on' };
    case 'directsync':
      return { cache: { direct: true, 'no-flush': false }, writeCache: 'off' };
    case 'unsafe':
      return { cache: { direct: false, 'no-flush': true }, writeCache: 'on' };
    default:
      return {};
  }
}

/** The node names of a disk's two layers ('libvirt-N-storage' / 'libvirt-N-format'). */
export interface DiskNodeNames {
  storage: string;
  format: string;
}

/**
 * The -blockdev values of a disk (protocol node, then format node). nodeIndex numbers the
 * nodes as libvirt does: the last disk gets 1, the first the highest number.
 */
export function diskBlockdevProps(d: DiskDef, nodeIndex: number): { names: DiskNodeNames; storage: QemuProps; format: QemuProps } {
  const names = { storage: `libvirt-${nodeIndex}-storage`, format: `libvirt-${nodeIndex}-format` };
  const path = d.source.path!;
  let driver: string;
  if (d.source.type === 'file') driver = 'file';
  else driver = d.device === 'cdrom' ? 'host_cdrom' : 'host_device';
  const { cache } = cacheProps(d);
  const storage: QemuProps = { driver, filename: path, 'node-name': names.storage };
  if (cache) storage.cache = cache;
  storage['auto-read-only'] = true;
  storage.discard = 'unmap';
  if (d.driver?.io === 'native' || d.driver?.io === 'io_uring' || d.driver?.io === 'threads') storage.aio = d.driver.io;
  const fmt = d.source.format ?? 'raw';
  if (fmt !== 'raw' && fmt !== 'qcow2') throw unsupported(`disk format '${fmt}' is not supported by tsvirt's QEMU driver`, d);
  const format: QemuProps = { 'node-name': names.format, 'read-only': d.readonly === true };
  if (d.driver?.discard === 'unmap') format.discard = 'unmap';
  if (cache) format.cache = cache;
  if (d.driver?.detectZeroes && d.driver.detectZeroes !== 'default') format['detect-zeroes'] = d.driver.detectZeroes;
  format.driver = fmt;
  format.file = names.storage;
  // tsvirt does not follow backing chains: a qcow2 opens without its backing file
  if (fmt === 'qcow2') format.backing = null;
  return { names, storage, format };
}

function driveBus(d: DiskDef, env: DeviceBuildEnv): QemuProps {
  const a = d.address?.type === 'drive' ? d.address : undefined;
  if (!a) throw unsupported(`disk '${d.target.dev}' has no drive address`, d);
  switch (d.target.bus) {
    case 'ide':
      return { bus: `ide.${a.bus}`, unit: a.unit };
    case 'sata': {
      const cont = env.def.devices.controllers?.find((c) => c.type === 'sata' && c.index === a.controller);
      return { bus: `${cont?.alias ?? controllerAlias({ type: 'sata', index: a.controller }, env.def.os.machine)}.${a.unit}` };
    }
    case 'scsi': {
      const cont = env.def.devices.controllers?.find((c) => c.type === 'scsi' && c.index === a.controller);
      const bus = `${cont?.alias ?? `scsi${a.controller}`}.${a.bus}`;
      if (cont?.model === 'lsilogic') return { bus, 'scsi-id': a.unit };
      return { bus, channel: a.bus, 'scsi-id': a.target, lun: a.unit };
    }
    case 'fdc':
      return {};
    default:
      return {};
  }
}

/** The guest side of a disk (qemuBuildDiskDeviceProps). */
export function diskDeviceProps(d: DiskDef, env: DeviceBuildEnv, names: DiskNodeNames | undefined): QemuProps {
  const alias = aliasOf(d, 'disk');
  const { writeCache } = cacheProps(d);
  const bootindex = env.bootIndex.get(d);
  let p: QemuProps;
  switch (d.target.bus) {
    case 'virtio': {
      if (d.device !== 'disk') throw unsupported(`disk device '${d.device}' is not supported on bus virtio`, d);
      const driver = d.model === 'virtio-transitional' ? 'virtio-blk-pci-transitional' : d.model === 'virtio-non-transitional' ? 'virtio-blk-pci-non-transitional' : 'virtio-blk-pci';
      p = { driver, ...addressProps(env.def, d) };
      if (d.driver?.queues) p['num-queues'] = d.driver.queues;
      if (d.driver?.queueSize) p['queue-size'] = d.driver.queueSize;
      break;
    }
    case 'ide':
    case 'sata':
      p = { driver: d.device === 'cdrom' ? 'ide-cd' : 'ide-hd', ...driveBus(d, env) };
      break;
    case 'scsi':
      p = { driver: d.device === 'cdrom' ? 'scsi-cd' : 'scsi-hd', ...driveBus(d, env) };
      break;
    case 'usb':
      p = { driver: 'usb-storage', ...addressProps(env.def, d) };
      break;
    default:
      throw unsupported(`disk bus '${d.target.bus}' is not supported by tsvirt's QEMU driver`, d);
  }
  if (d.target.bus === 'scsi') p.device_id = `drive-${alias}`;
  if (names) p.drive = names.format;
  p.id = alias;
  if (bootindex !== undefined) p.bootindex = bootindex;
  if (d.blockio?.logicalBlockSize) p.logical_block_size = d.blockio.logicalBlockSize;
  if (d.blockio?.physicalBlockSize) p.physical_block_size = d.blockio.physicalBlockSize;
  if (writeCache && d.device !== 'cdrom') p['write-cache'] = writeCache;
  if (d.serial) p.serial = d.serial;
  return p;
}

/**
 * What the live definition of a disk shows once started (as libvirt's): the node index as
 * <source index>, no backing chain (<backingStore/>: tsvirt opens images without one), and no
 * format on an empty drive.
 */
export function prepareDiskForStart(d: DiskDef, nodeIndex: number): void {
  if (diskHasSource(d)) {
    d.source.index = nodeIndex;
    d.source.backingStore ??= 'none';
  } else delete d.source.format;
}

/** -blockdev (twice) and -device of one disk. */
export function diskCommandLine(d: DiskDef, env: DeviceBuildEnv, nodeIndex: number): string[] {
  if (d.source.type !== 'file' && d.source.type !== 'block') {
    throw unsupported(`disk source type '${d.source.type}' is not supported by tsvirt's QEMU driver`, d);
  }
  const out: string[] = [];
  let names: DiskNodeNames | undefined;
  if (diskHasSource(d)) {
    const b = diskBlockdevProps(d, nodeIndex);
    names = b.names;
    out.push('-blockdev', jsonArg(b.storage), '-blockdev', jsonArg(b.format));
  }
  out.push(...deviceArgs(diskDeviceProps(d, env, names)));
  return out;
}
