// Writing a running domain's status file from its in-memory state (see statusFile.ts).
import { ErrorDomain, fromSystemError } from '../../errors/index.js';
import type { QemuDomainObj } from './domainObj.js';
import type { QemuDriverState } from './driverState.js';
import { writeDomainStatus } from './statusFile.js';

/**
 * Saves the status file of a running domain. Writes of one domain are chained, so a slow
 * earlier write never lands after a later one. A failed write is warned about (the chain's catch,
 * which also makes a caller that does not wait safe) and rejects with a VirtError.
 */
export function saveStatus(state: QemuDriverState, obj: QemuDomainObj): Promise<void> {
  const rt = obj.runtime;
  if (!rt) return Promise.resolve();
  const snapshot = {
    state: obj.state,
    reason: obj.reason,
    pid: rt.proc.pid,
    startTime: rt.proc.startTime,
    monitorPath: rt.monitorPath,
    dir: rt.dir,
    logFile: rt.logFile,
    logStart: rt.proc.logStart,
    consoles: [...rt.consoles].map(([alias, c]) => ({ alias, path: c.path, type: c.type })),
    diskNodes: [...rt.diskNodes].map(([alias, n]) => [alias, { ...n }] as [string, { storage: string; format: string }]),
    nextNodeIndex: rt.nextNodeIndex,
    gotShutdown: rt.gotShutdown,
    net: rt.net.map((r) => ({ ...r })),
    def: obj.def,
  };
  const path = state.statusPath(obj.name);
  const write = async (): Promise<void> => {
    if (obj.runtime !== rt || rt.stopping) return;
    await writeDomainStatus(path, snapshot, state.defaults).catch((err: unknown) => {
      throw fromSystemError(err, ErrorDomain.QEMU, `cannot save status file '${path}'`, { value: path });
    });
  };
  const p = rt.statusWrites.then(write, write);
  rt.statusWrites = p.catch((err: unknown) => state.warn(err, obj, `Unable to save status of domain '${obj.name}'`));
  return p;
}
