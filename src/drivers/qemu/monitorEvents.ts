// What QEMU tells the driver, turned into domain state and libvirt events (libvirt's
// qemuProcessHandle* callbacks): SHUTDOWN, STOP, RESUME, RESET, GUEST_PANICKED, DEVICE_DELETED,
// RTC_CHANGE, WATCHDOG, BALLOON_CHANGE, SUSPEND/WAKEUP, block I/O errors, tray moves,
// NIC_RX_FILTER_CHANGED (rxFilterChange.ts); and
// QEMU's exit, seen at once (our child's exit, or the monitor's hangup plus a pidfd).
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import {
  DomainCrashedReason,
  DomainEventCrashedDetailType,
  DomainEventID,
  DomainEventPMSuspendedDetailType,
  DomainEventResumedDetailType,
  DomainEventShutdownDetailType,
  DomainEventStartedDetailType,
  DomainEventStoppedDetailType,
  DomainEventSuspendedDetailType,
  DomainEventType,
  DomainPausedReason,
  DomainPMSuspendedReason,
  DomainRunningReason,
  DomainShutdownReason,
  DomainShutoffReason,
  DomainState,
} from '../constants.js';
import { coreDumpToAutoDumpPath } from './coreDump.js';
import type { DomainRuntime, QemuDomainObj } from './domainObj.js';
import type { QemuDriverState } from './driverState.js';
import { stopDomain } from './processStop.js';
import type { QmpEvent } from './qmp.js';
import { saveStatus } from './runtimeStatus.js';
import { onNicRxFilterChanged } from './rxFilterChange.js';

/** qemuDomainPausedReasonToSuspendedEvent: the SUSPENDED detail of a paused reason (else PAUSED). */
const SUSPENDED_DETAIL: Record<number, number> = {
  [DomainPausedReason.MIGRATION]: DomainEventSuspendedDetailType.MIGRATED,
  [DomainPausedReason.IOERROR]: DomainEventSuspendedDetailType.IOERROR,
  [DomainPausedReason.WATCHDOG]: DomainEventSuspendedDetailType.WATCHDOG,
  [DomainPausedReason.FROM_SNAPSHOT]: DomainEventSuspendedDetailType.FROM_SNAPSHOT,
  [DomainPausedReason.POSTCOPY]: DomainEventSuspendedDetailType.POSTCOPY,
  [DomainPausedReason.POSTCOPY_FAILED]: DomainEventSuspendedDetailType.POSTCOPY_FAILED,
};

/** qemuDomainRunningReasonToResumeEvent: the RESUMED detail of a running reason (else UNPAUSED). */
const RESUMED_DETAIL: Record<number, number> = {
  [DomainRunningReason.RESTORED]: DomainEventResumedDetailType.FROM_SNAPSHOT,
  [DomainRunningReason.FROM_SNAPSHOT]: DomainEventResumedDetailType.FROM_SNAPSHOT,
  [DomainRunningReason.MIGRATED]: DomainEventResumedDetailType.MIGRATED,
  [DomainRunningReason.POSTCOPY]: DomainEventResumedDetailType.POSTCOPY,
};

const suspendedDetail = (reason: number): number => SUSPENDED_DETAIL[reason] ?? DomainEventSuspendedDetailType.PAUSED;
const resumedDetail = (reason: number): number => RESUMED_DETAIL[reason] ?? DomainEventResumedDetailType.UNPAUSED;

/** Hooks the runtime's monitor and process to the driver. Called once per runtime. */
export function watchRuntime(state: QemuDriverState, obj: QemuDomainObj, rt: DomainRuntime): void {
  const qmp = rt.qmp;
  if (qmp) {
    qmp.on('event', (ev) => {
      if (obj.runtime !== rt || rt.detaching) return;
      try {
        handleEvent(state, obj, rt, ev);
      } catch (err) {
        state.warn(err, obj, `QMP event ${ev.event}`);
      }
    });
    qmp.on('close', () => {
      if (rt.detaching) return;
      if (rt.qmp === qmp) rt.qmp = undefined;
      // Not our child: only the hangup tells us, and the pidfd confirms the exit.
      rt.proc.noticeHangup();
    });
  }
  void rt.proc.exited.then(() => onExit(state, obj, rt));
}

/** QEMU is gone: tear down with the reason its end implies, unless someone else is doing it. */
function onExit(state: QemuDriverState, obj: QemuDomainObj, rt: DomainRuntime): void {
  if (rt.detaching || rt.beingDestroyed || obj.runtime !== rt) return;
  // Waits for a job in progress like any other (one that talks to this QEMU fails soon, its
  // monitor being gone); giving up at once would leave a dead QEMU's domain running for good.
  void obj.job
    .run('process exit', async () => {
      if (obj.runtime !== rt || rt.beingDestroyed) return;
      // The monitor may still hold the last events (SHUTDOWN comes just before the exit).
      await monitorDrained(rt);
      if (obj.runtime !== rt) return;
      let reason: number = DomainShutoffReason.SHUTDOWN;
      let detail: number = DomainEventStoppedDetailType.SHUTDOWN;
      if (rt.crashed) {
        reason = DomainShutoffReason.CRASHED;
        detail = DomainEventStoppedDetailType.CRASHED;
      } else if (!rt.gotShutdown) {
        // qemuProcessHandleMonitorEOF: an exit nobody asked for is a crash.
        reason = DomainShutoffReason.CRASHED;
        detail = DomainEventStoppedDetailType.FAILED;
      }
      await stopDomain(state, obj, reason, { eventDetail: detail });
    })
    .catch((err: unknown) => state.warn(err, obj, 'cleanup after QEMU exit'));
}

/** Resolves once the monitor socket has been read to its end (or at once without one). */
export function monitorDrained(rt: DomainRuntime, timeoutMs = 2000): Promise<void> {
  const qmp = rt.qmp;
  if (!qmp || qmp.closed) return Promise.resolve();
  return new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      qmp.off('close', onClose);
      resolve();
    }, timeoutMs);
    qmp.once('close', onClose);
  });
}

function handleEvent(state: QemuDriverState, obj: QemuDomainObj, rt: DomainRuntime, ev: QmpEvent): void {
  const d = ev.data;
  switch (ev.event) {
    case 'SHUTDOWN':
      return onShutdown(state, obj, rt, d.guest === true ? true : d.guest === false ? false : undefined, String(d.reason ?? ''));
    case 'STOP':
      if (obj.state === DomainState.RUNNING && !rt.fakeReboot) {
        const reason = rt.pausedReason ?? DomainPausedReason.UNKNOWN;
        rt.pausedReason = undefined;
        transition(state, obj, [DomainState.PAUSED, reason], [DomainEventType.SUSPENDED, suspendedDetail(reason)]);
      }
      return;
    case 'RESUME':
      if (obj.state !== DomainState.RUNNING) {
        const reason = rt.runningReason ?? DomainRunningReason.UNPAUSED;
        rt.runningReason = undefined;
        transition(state, obj, [DomainState.RUNNING, reason], [DomainEventType.RESUMED, resumedDetail(reason)]);
      }
      return;
    case 'RESET':
      // A reset while starting up is libvirt's own; every other one is a guest reboot.
      if (obj.state === DomainState.PAUSED && obj.reason === DomainPausedReason.STARTING_UP) return;
      state.emit({ eventId: DomainEventID.REBOOT, dom: obj.ref() });
      return;
    case 'GUEST_PANICKED':
      return onPanic(state, obj, rt);
    case 'DEVICE_DELETED': {
      const alias = typeof d.device === 'string' ? d.device : undefined;
      if (!alias) return;
      const waiter = rt.deviceDeleted.get(alias);
      if (waiter) {
        rt.deviceDeleted.delete(alias);
        waiter();
      } else {
        rt.onDeviceDeleted?.(alias);
      }
      return;
    }
    case 'RTC_CHANGE':
      state.emit({ eventId: DomainEventID.RTC_CHANGE, dom: obj.ref(), offset: BigInt(Math.trunc(Number(d.offset ?? 0))) });
      return;
    case 'WATCHDOG': {
      const actions: Record<string, number> = { none: 0, pause: 1, reset: 2, poweroff: 3, shutdown: 4, debug: 5, 'inject-nmi': 6 };
      const action = actions[String(d.action)] ?? 0;
      state.emit({ eventId: DomainEventID.WATCHDOG, dom: obj.ref(), action });
      if (action === 1 && obj.state === DomainState.RUNNING) {
        rt.pausedReason = DomainPausedReason.WATCHDOG;
      }
      return;
    }
    case 'BALLOON_CHANGE':
      // QEMU reports bytes; libvirt's event carries KiB.
      state.emit({ eventId: DomainEventID.BALLOON_CHANGE, dom: obj.ref(), actual: BigInt(Math.trunc(Number(d.actual ?? 0) / 1024)) });
      return;
    case 'SUSPEND':
      obj.setState(DomainState.PMSUSPENDED, DomainPMSuspendedReason.UNKNOWN);
      state.emit({ eventId: DomainEventID.PMSUSPEND, dom: obj.ref(), reason: 0 });
      state.lifecycle(obj, DomainEventType.PMSUSPENDED, DomainEventPMSuspendedDetailType.MEMORY);
      void saveStatus(state, obj);
      return;
    case 'WAKEUP':
      state.emit({ eventId: DomainEventID.PMWAKEUP, dom: obj.ref(), reason: 0 });
      if (obj.state === DomainState.PMSUSPENDED) {
        transition(state, obj, [DomainState.RUNNING, DomainRunningReason.WAKEUP], [DomainEventType.STARTED, DomainEventStartedDetailType.WAKEUP]);
      }
      return;
    case 'BLOCK_IO_ERROR': {
      const devAlias = String(d.device || d['node-name'] || '');
      const actions: Record<string, number> = { ignore: 0, stop: 1, report: 2 };
      const action = actions[String(d.action)] ?? 0;
      const srcPath = diskSourceOf(obj, devAlias);
      const reason = String(d.reason ?? '');
      if (action === 1) rt.pausedReason = DomainPausedReason.IOERROR;
      state.emit({ eventId: DomainEventID.IO_ERROR, dom: obj.ref(), srcPath, devAlias, action });
      state.emit({ eventId: DomainEventID.IO_ERROR_REASON, dom: obj.ref(), srcPath, devAlias, action, reason });
      return;
    }
    case 'NIC_RX_FILTER_CHANGED': {
      // data.name is the NIC's id (its alias); data.path its QOM path.
      const alias = typeof d.name === 'string' ? d.name : undefined;
      if (alias) onNicRxFilterChanged(state, obj, rt, alias);
      return;
    }
    case 'DEVICE_TRAY_MOVED': {
      const devAlias = String(d.id || d.device || '');
      // qemuProcessHandleTrayChange: the live XML shows an open tray (and a media change waits for it)
      const disk = (obj.def.devices.disks ?? []).find((k) => k.alias === devAlias);
      if (disk) {
        disk.target.tray = d['tray-open'] === true ? 'open' : 'closed';
        void saveStatus(state, obj);
      }
      state.emit({ eventId: DomainEventID.TRAY_CHANGE, dom: obj.ref(), devAlias, reason: d['tray-open'] === true ? 0 : 1 });
      return;
    }
    default:
      return;
  }
}

/** A state change QEMU reported: the new state and reason, its lifecycle event, the status file. */
function transition(state: QemuDriverState, obj: QemuDomainObj, [domState, reason]: [number, number], [event, detail]: [number, number]): void {
  obj.setState(domState, reason);
  state.lifecycle(obj, event, detail);
  void saveStatus(state, obj);
}

function diskSourceOf(obj: QemuDomainObj, alias: string): string {
  const stripped = alias.replace(/^drive-/, '');
  const disk = (obj.def.devices.disks ?? []).find((x) => x.alias === stripped);
  const src = disk?.source as { file?: string; dev?: string } | undefined;
  return src?.file ?? src?.dev ?? '';
}

/** qemuProcessHandleShutdown */
function onShutdown(state: QemuDriverState, obj: QemuDomainObj, rt: DomainRuntime, guest: boolean | undefined, reason: string): void {
  if (obj.state === DomainState.SHUTDOWN || !obj.active) return;
  // QEMU runs with -no-shutdown, so a panic pauses it; should one still power it off, that is
  // the on_crash handler's business.
  if (reason === 'guest-panic') return;
  // The power-off of a fake reboot in progress is part of it.
  if (rt.rebooting) return;
  rt.gotShutdown = true;
  // A guest that powers off with on_poweroff='restart' (or during a fake reboot) is reset and
  // run again, without a SHUTDOWN event. (on_reboot='destroy' with on_poweroff='restart' is
  // refused at define, so a guest reboot turned power-off never comes here to loop.)
  const restart = rt.fakeReboot || obj.def.onPoweroff === 'restart';
  if (!restart) {
    const detail =
      guest === true
        ? DomainEventShutdownDetailType.GUEST
        : guest === false
          ? DomainEventShutdownDetailType.HOST
          : DomainEventShutdownDetailType.FINISHED;
    transition(state, obj, [DomainState.SHUTDOWN, DomainShutdownReason.UNKNOWN], [DomainEventType.SHUTDOWN, detail]);
    // -no-shutdown keeps QEMU alive after the guest powered off: end it now (unless a destroy
    // is already doing so).
    if (!rt.beingDestroyed) rt.proc.signal('SIGTERM');
    return;
  }
  rt.fakeReboot = true;
  void fakeReboot(state, obj, rt);
}

/**
 * A reboot QEMU cannot do by itself (ACPI reboot, on_poweroff='restart', on_crash='restart'):
 * after the guest powered off, reset the machine and run the CPUs again.
 */
async function fakeReboot(state: QemuDriverState, obj: QemuDomainObj, rt: DomainRuntime): Promise<void> {
  rt.rebooting = true;
  try {
    await obj.job.run('reboot', async () => {
      if (obj.runtime !== rt || !rt.qmp) throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, `guest '${obj.name}' unexpectedly quit`);
      const qmp = rt.qmp;
      // With on_reboot='destroy' QEMU turns every reset into a power-off; this one must reset.
      const noReboot = obj.def.onReboot === 'destroy';
      if (noReboot) await qmp.execute('set-action', { reboot: 'reset' });
      // QEMU carries out the reset in its main loop after the reply; `cont` before that is
      // refused ("Resetting the Virtual Machine is required"): wait for its RESET event.
      let failed: unknown;
      const reset = qmp.waitEvent('RESET', { timeoutMs: 10_000, filter: (ev) => ev.data.guest === false }).catch((e: unknown) => {
        failed = e;
      });
      await qmp.execute('system_reset');
      await reset;
      if (failed) throw failed;
      if (noReboot) await qmp.execute('set-action', { reboot: 'shutdown' });
      rt.runningReason = obj.state === DomainState.CRASHED ? DomainRunningReason.CRASHED : DomainRunningReason.BOOTED;
      await rt.qmp.execute('cont');
      // A domain that never stopped running (a power-off turned reboot) keeps its state and
      // reason and gets no event, as libvirt; a crashed one runs again (RESUME did this).
      if (obj.state !== DomainState.RUNNING) {
        obj.setState(DomainState.RUNNING, rt.runningReason);
        state.lifecycle(obj, DomainEventType.RESUMED, DomainEventResumedDetailType.UNPAUSED);
      }
      rt.runningReason = undefined;
      rt.gotShutdown = false;
      rt.crashed = false;
      await saveStatus(state, obj);
    });
  } catch (err) {
    state.warn(err, obj, 'reboot failed, killing the domain');
    rt.proc.signal('SIGKILL');
  } finally {
    rt.fakeReboot = false;
    rt.rebooting = false;
  }
}

/**
 * processGuestPanicEvent: crashed state (CRASHED/PANICKED), then the on_crash action: destroy
 * (stopped as crashed), restart (reset and run, running/crashed), preserve (left crashed and
 * paused), and the coredump variants, which first dump the guest's memory to the automatic dump
 * directory (a failed dump leaves the guest crashed, as libvirt).
 */
function onPanic(state: QemuDriverState, obj: QemuDomainObj, rt: DomainRuntime): void {
  if (rt.crashed || !obj.active) return;
  rt.crashed = true;
  transition(state, obj, [DomainState.CRASHED, DomainCrashedReason.PANICKED], [DomainEventType.CRASHED, DomainEventCrashedDetailType.PANICKED]);
  const action = obj.def.onCrash;
  if (action === 'preserve') return;
  const restart = action === 'restart' || action === 'rename-restart' || action === 'coredump-restart';
  const carryOut = (): void => {
    if (obj.runtime !== rt) return;
    if (restart) {
      rt.fakeReboot = true;
      void fakeReboot(state, obj, rt);
    } else {
      // the exit handler stops it as crashed (STOPPED/CRASHED)
      rt.proc.signal('SIGKILL');
    }
  };
  if (action !== 'coredump-destroy' && action !== 'coredump-restart') return carryOut();
  void obj.job
    .run('dump', async () => {
      if (obj.runtime !== rt || !rt.qmp) return false;
      await coreDumpToAutoDumpPath(state, obj, rt.qmp);
      return true;
    })
    .then(
      (dumped) => {
        if (dumped) carryOut();
      },
      (err: unknown) => state.warn(err, obj, `on_crash '${action}'`),
    );
}
