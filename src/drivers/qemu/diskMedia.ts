// Changing or ejecting the medium of a cdrom or floppy of a running guest (update-device; libvirt
// 9.0's qemuDomainChangeMediaBlockdev): open the tray (waiting for the guest to let it open
// unless forced), take the medium out and delete its block nodes, add the new image's nodes and
// insert them, close the tray. QEMU reports each tray move (DEVICE_TRAY_MOVED → TRAY_CHANGE).
import type { DiskDef, StorageSource } from '../../conf/domain/disk.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { diskBlockdevProps, diskHasSource } from './devices/disk.js';
import type { DomainRuntime } from './domainObj.js';
import type { QmpClient } from './qmp.js';

const Q = ErrorDomain.QEMU;
/** How long the guest gets to open a locked tray (libvirt's CHANGE_MEDIA_TIMEOUT). */
const TRAY_OPEN_WAIT_MS = 5000;

function unsupportedField(field: string): Error {
  return virtError(ErrorNumber.OPERATION_UNSUPPORTED, Q, `cannot modify field '${field}' of the disk`);
}

/**
 * qemuDomainDiskChangeSupported, for what tsvirt's disks carry: an update may change the
 * medium and little else. A field the new XML leaves out is not a change.
 */
export function checkDiskChange(want: DiskDef, have: DiskDef): void {
  if (want.device !== have.device) throw unsupportedField('device');
  if ((want.target.bus ?? '') !== (have.target.bus ?? '')) throw unsupportedField('bus');
  if (want.target.dev !== have.target.dev) throw unsupportedField('target');
  if (want.target.tray && want.target.tray !== (have.target.tray ?? 'closed')) throw unsupportedField('tray');
  if (want.target.removable !== undefined && want.target.removable !== have.target.removable) throw unsupportedField('removable');
  if ((want.blockio?.logicalBlockSize ?? 0) !== (have.blockio?.logicalBlockSize ?? 0)) throw unsupportedField('blockio logical_block_size');
  if ((want.blockio?.physicalBlockSize ?? 0) !== (have.blockio?.physicalBlockSize ?? 0)) throw unsupportedField('blockio physical_block_size');
  if (want.serial && want.serial !== have.serial) throw unsupportedField('serial');
  if (want.driver?.cache && want.driver.cache !== have.driver?.cache) throw unsupportedField('cache');
  if (want.driver?.io && want.driver.io !== have.driver?.io) throw unsupportedField('io');
  if (want.address && JSON.stringify(want.address) !== JSON.stringify(have.address)) throw unsupportedField('address');
  if (want.boot && want.boot.order !== have.boot?.order) throw unsupportedField('boot order');
  if (want.readonly && !have.readonly) throw unsupportedField('readonly');
  if (want.shareable && !have.shareable) throw unsupportedField('shared');
}

/** Whether two sources name the same medium (virStorageSourceIsSameLocation, for files and devices). */
export function sameMedium(a: StorageSource, b: StorageSource): boolean {
  return (a.path ?? '') === (b.path ?? '') && (a.path === undefined || a.type === b.type);
}

/**
 * Puts `source` (or nothing: eject) into the drive of `disk`, a cdrom or floppy of the running
 * guest; on success the live definition shows it with its new node index. On failure the
 * new nodes are deleted again (the old medium may be out by then, as in libvirt).
 */
export async function changeMedium(rt: DomainRuntime, qmp: QmpClient, disk: DiskDef, source: StorageSource, force: boolean): Promise<void> {
  const id = disk.alias;
  if (!id) throw virtError(ErrorNumber.INTERNAL_ERROR, Q, `disk '${disk.target.dev}' has no alias`);
  // every new source gets the next node number, an empty one too (libvirt's live XML shows it)
  const index = rt.nextNodeIndex++;
  const next: DiskDef = { ...disk, source: { ...source, index } };
  const nodes = diskHasSource(next) ? diskBlockdevProps(next, index) : undefined;

  if (disk.target.tray !== 'open') {
    let opened: Promise<unknown> | undefined;
    if (!force) {
      opened = qmp.waitEvent('DEVICE_TRAY_MOVED', { timeoutMs: TRAY_OPEN_WAIT_MS, filter: (ev) => ev.data.id === id && ev.data['tray-open'] === true });
      opened.catch(() => undefined);
    }
    await qmp.execute('blockdev-open-tray', { id, force });
    if (opened) {
      await opened.catch((err: unknown) => {
        if (err instanceof Error && /got no|within/.test(err.message)) {
          throw virtError(ErrorNumber.OPERATION_FAILED, Q, `timed out waiting to open tray of '${disk.target.dev}'`);
        }
        throw err;
      });
    }
  }

  await qmp.execute('blockdev-remove-medium', { id });
  const old = rt.diskNodes.get(id);
  if (old) {
    // the old image's nodes go with it (errors here do not stop the change, as libvirt)
    await qmp.execute('blockdev-del', { 'node-name': old.format }).catch(() => undefined);
    await qmp.execute('blockdev-del', { 'node-name': old.storage }).catch(() => undefined);
    rt.diskNodes.delete(id);
  }
  if (nodes) {
    let storageAdded = false;
    let formatAdded = false;
    try {
      await qmp.execute('blockdev-add', nodes.storage);
      storageAdded = true;
      await qmp.execute('blockdev-add', nodes.format);
      formatAdded = true;
      await qmp.execute('blockdev-insert-medium', { id, 'node-name': nodes.names.format });
      await qmp.execute('blockdev-close-tray', { id });
    } catch (err) {
      if (formatAdded) await qmp.execute('blockdev-del', { 'node-name': nodes.names.format }).catch(() => undefined);
      if (storageAdded) await qmp.execute('blockdev-del', { 'node-name': nodes.names.storage }).catch(() => undefined);
      disk.source = { type: disk.source.type, index };
      throw err;
    }
    rt.diskNodes.set(id, nodes.names);
    next.source.backingStore ??= 'none';
  } else {
    await qmp.execute('blockdev-close-tray', { id });
  }
  disk.source = next.source;
  if (!nodes) delete disk.source.backingStore;
}
