// Memory-only core dumps of a running guest (libvirt's doCoreDump with VIR_DUMP_MEMORY_ONLY):
// the file is opened here and handed to QEMU (getfd), which writes an ELF image of the guest's
// memory in the background (dump-guest-memory, detach) and says DUMP_COMPLETED when done. The
// on_crash actions coredump-destroy and coredump-restart dump to the automatic dump directory.
import { closeSync, openSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorDomain, ErrorNumber, fromSystemError, virtError } from '../../errors/index.js';
import type { QemuDomainObj } from './domainObj.js';
import type { QemuDriverState } from './driverState.js';
import type { QmpClient } from './qmp.js';

/** How long a dump may take before we give up on it. */
const DUMP_TIMEOUT_MS = 10 * 60_000;

/** <lib>/qemu/dump: libvirt's auto_dump_path (under the embed root, the session's or the system's lib). */
export function autoDumpDir(state: QemuDriverState): string {
  return join(state.paths.lib, 'dump');
}

/** getAutoDumpPath: "<dir>/<id>-<name, 20 characters at most>-<local time %Y-%m-%d-%H:%M:%S>". */
export function autoDumpPath(state: QemuDriverState, obj: QemuDomainObj, now = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}-${p(now.getHours())}:${p(now.getMinutes())}:${p(now.getSeconds())}`;
  return join(autoDumpDir(state), `${obj.id}-${[...obj.name].slice(0, 20).join('')}-${stamp}`);
}

/**
 * Writes the guest's memory to `path` (created 0600, truncated) as an ELF core: resolves once
 * QEMU reports the dump complete. On failure the partial file is removed and the error is
 * libvirt's ("memory-only dump failed: …").
 */
export async function dumpGuestMemory(qmp: QmpClient, path: string): Promise<void> {
  let fd: number;
  try {
    fd = openSync(path, 'w', 0o600);
  } catch (err) {
    throw fromSystemError(err, ErrorDomain.QEMU, `Failed to create file '${path}'`, { value: path });
  }
  let ok = false;
  try {
    try {
      await qmp.execute('getfd', { fdname: 'dump' }, { fds: [fd] });
    } finally {
      closeSync(fd);
    }
    const completed = qmp.waitEvent('DUMP_COMPLETED', { timeoutMs: DUMP_TIMEOUT_MS });
    completed.catch(() => undefined);
    try {
      await qmp.execute('dump-guest-memory', { paging: false, protocol: 'fd:dump', detach: true });
    } catch (err) {
      await qmp.execute('closefd', { fdname: 'dump' }).catch(() => undefined);
      throw err;
    }
    const ev = await completed;
    const result = ev.data.result as { status?: string } | undefined;
    if (result?.status !== 'completed') {
      const why = typeof ev.data.error === 'string' ? ev.data.error : `status ${result?.status ?? 'unknown'}`;
      throw virtError(ErrorNumber.OPERATION_FAILED, ErrorDomain.QEMU, `memory-only dump failed: ${why}`);
    }
    ok = true;
  } finally {
    if (!ok) await rm(path, { force: true }).catch(() => undefined);
  }
}

/** doCoreDumpToAutoDumpPath: a memory-only dump into the automatic dump directory; its path. */
export async function coreDumpToAutoDumpPath(state: QemuDriverState, obj: QemuDomainObj, qmp: QmpClient): Promise<string> {
  const dir = autoDumpDir(state);
  const path = autoDumpPath(state, obj);
  try {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await dumpGuestMemory(qmp, path);
  } catch (err) {
    state.warn(err, obj, 'dump of the crashed guest');
    throw virtError(ErrorNumber.OPERATION_FAILED, ErrorDomain.QEMU, 'Dump failed', undefined, { cause: err });
  }
  return path;
}
