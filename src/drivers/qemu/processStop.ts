// Stopping a domain's QEMU and undoing everything its start changed (libvirt's qemuProcessStop):
// the monitor and console sessions close, QEMU is gone (killed if needed), each interface's host
// side is released in reverse order, the status file and runtime directory go, the persistent
// definition comes back, and the STOPPED event goes out.
import { rm } from 'node:fs/promises';
import { DomainEventType, DomainShutoffReason, DomainState } from '../constants.js';
import type { DomainRuntime, QemuDomainObj } from './domainObj.js';
import type { QemuDriverState } from './driverState.js';
import { releaseInterface } from './interfaceHost.js';
import { removeDomainStatus } from './statusFile.js';

const SHUTOFF_NAMES: Record<number, string> = {
  [DomainShutoffReason.UNKNOWN]: 'unknown',
  [DomainShutoffReason.SHUTDOWN]: 'shutdown',
  [DomainShutoffReason.DESTROYED]: 'destroyed',
  [DomainShutoffReason.CRASHED]: 'crashed',
  [DomainShutoffReason.FAILED]: 'failed',
  [DomainShutoffReason.DAEMON]: 'daemon',
};

export interface StopOptions {
  /** The STOPPED event's detail; undefined: no event (a failed start). */
  eventDetail?: number;
  /** Keep a transient domain in the list (a failed createXML drops it itself). */
  keepTransient?: boolean;
}

/**
 * Tears down a running domain (the caller holds its job). Safe to call once per runtime; a
 * second call waits for the first.
 */
export async function stopDomain(state: QemuDriverState, obj: QemuDomainObj, reason: number, opts: StopOptions = {}): Promise<void> {
  const rt = obj.runtime;
  if (!rt) return;
  rt.stopping ??= teardown(state, obj, rt, reason, opts);
  await rt.stopping;
}

async function teardown(state: QemuDriverState, obj: QemuDomainObj, rt: DomainRuntime, reason: number, opts: StopOptions): Promise<void> {
  for (const c of rt.consoles.values()) c.close();
  rt.qmp?.close();
  if (rt.proc.running) {
    try {
      await rt.proc.kill({ graceMs: 3000 });
    } catch (err) {
      state.warn(err, obj);
    }
  }
  for (const w of rt.deviceDeleted.values()) w();
  rt.deviceDeleted.clear();
  const ctx = state.interfaceContext();
  const releaseAll = async (): Promise<void> => {
    for (const record of [...rt.net].reverse()) {
      await releaseInterface({ ...ctx, warn: (e) => state.warn(e, obj) }, record);
    }
  };
  const files = async (): Promise<void> => {
    await rt.statusWrites;
    await removeDomainStatus(state.statusPath(obj.name)).catch((e: unknown) => state.warn(e, obj));
  };
  // Independent of each other: done side by side.
  await Promise.all([
    rt.proc.logLine(`shutting down, reason=${SHUTOFF_NAMES[reason] ?? 'unknown'}`),
    releaseAll(),
    files(),
    rm(rt.dir, { recursive: true, force: true }).catch((e: unknown) => state.warn(e, obj)),
  ]);

  obj.runtime = undefined;
  const ref = obj.ref(); // with the id it ran under, as libvirt's STOPPED event carries
  obj.id = -1;
  obj.setState(DomainState.SHUTOFF, reason);
  if (obj.newDef) {
    obj.def = obj.newDef;
    obj.newDef = null;
  }
  if (opts.eventDetail !== undefined) {
    state.emit({ eventId: 0, dom: { ...ref, id: -1 }, event: DomainEventType.STOPPED, detail: opts.eventDetail });
  }
  if (!obj.persistent && !opts.keepTransient) state.remove(obj);
}
