// Finding running guests again when the driver opens (libvirt's qemuProcessReconnect): every
// status file names a QEMU by pid and start time; one still running under that identity gets
// its monitor reconnected and is managed as before (never killed); one that died meanwhile has
// its host changes undone and its STOPPED event sent. Then autostart, once per boot of the state.
import { access, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DomainEventStoppedDetailType,
  DomainPausedReason,
  DomainRunningReason,
  DomainShutoffReason,
  DomainState,
} from '../constants.js';
import { QemuConsole } from './console.js';
import { QemuPtyConsole } from './ptyConsole.js';
import { newRuntime, QemuDomainObj } from './domainObj.js';
import type { QemuDriverState } from './driverState.js';
import { recordDeviceNames } from './interfaceHost.js';
import { watchRuntime } from './monitorEvents.js';
import { stopDomain } from './processStop.js';
import { QemuProcess } from './qemuProcess.js';
import { QmpClient } from './qmp.js';
import { saveStatus } from './runtimeStatus.js';
import { refreshRxFilters } from './rxFilterChange.js';
import { parseDomainStatus } from './statusFile.js';

/** Reattaches every domain that has a status file. */
export async function reconnectDomains(state: QemuDriverState): Promise<void> {
  let files: string[];
  try {
    files = (await readdir(state.paths.status)).filter((f) => f.endsWith('.xml'));
  } catch {
    return;
  }
  await Promise.all(files.map((f) => reconnectOne(state, join(state.paths.status, f))));
}

async function reconnectOne(state: QemuDriverState, path: string): Promise<void> {
  let status;
  try {
    status = parseDomainStatus(await readFile(path, 'utf8'), path, state.defaults);
  } catch (err) {
    // Without a readable status the QEMU cannot be identified: leave both alone, loudly.
    state.warn(err, undefined, `Failed to load status file '${path}'`);
    return;
  }
  const live = status.def;
  let obj = state.findByUuid(live.uuid);
  if (obj && obj.active) {
    state.warn(new Error(`status file '${path}' names domain '${live.name}', which is already running`));
    return;
  }
  if (!obj) {
    obj = new QemuDomainObj(live, false);
    state.add(obj);
  } else {
    obj.newDef = obj.def;
  }
  obj.def = live;
  obj.id = live.id ?? 0;
  obj.setState(status.state, status.reason);
  state.reserveId(obj.id);
  for (const name of recordDeviceNames(status.net)) state.net.names.reserve(name);

  const proc = await QemuProcess.attach({ pid: status.pid, startTime: status.startTime }, { logFile: status.logFile });
  const rt = newRuntime({
    proc: proc ?? QemuProcess.gone({ pid: status.pid, startTime: status.startTime }, { logFile: status.logFile }),
    monitorPath: status.monitorPath,
    dir: status.dir,
    logFile: status.logFile,
    net: status.net,
    consoles: new Map(status.consoles.map((c) => [c.alias, c.type === 'pty' ? new QemuPtyConsole(c.path) : new QemuConsole(c.path)])),
    gotShutdown: status.gotShutdown,
    crashed: status.state === DomainState.CRASHED,
    diskNodes: new Map(status.diskNodes),
    nextNodeIndex: status.nextNodeIndex,
  });
  obj.runtime = rt;
  const target = obj;

  if (proc) {
    try {
      rt.qmp = await QmpClient.connect(status.monitorPath, { vmName: live.name, timeoutMs: 5000 });
    } catch (err) {
      state.warn(err, target, 'cannot reconnect to the monitor');
    }
  }
  if (!proc || !rt.qmp || !proc.running) {
    // Gone while nobody watched: undo its host changes and say so.
    const guestOff = rt.gotShutdown;
    await target.job.run('reconnect', () =>
      stopDomain(state, target, guestOff ? DomainShutoffReason.SHUTDOWN : DomainShutoffReason.CRASHED, {
        eventDetail: guestOff ? DomainEventStoppedDetailType.SHUTDOWN : DomainEventStoppedDetailType.FAILED,
      }),
    );
    return;
  }
  watchRuntime(state, target, rt);
  // The state may have changed while no one listened (paused by hand, guest powered off).
  try {
    const st = await rt.qmp.execute<{ running: boolean; status: string }>('query-status');
    if (st.running && target.state !== DomainState.RUNNING) {
      // A start whose last status write did not land was on its way to running/booted.
      const starting = target.state === DomainState.PAUSED && target.reason === DomainPausedReason.STARTING_UP;
      target.setState(DomainState.RUNNING, starting ? DomainRunningReason.BOOTED : DomainRunningReason.UNPAUSED);
    } else if (!st.running && target.state === DomainState.RUNNING) {
      target.setState(
        st.status === 'shutdown' ? DomainState.SHUTDOWN : DomainState.PAUSED,
        st.status === 'shutdown' ? 0 : DomainPausedReason.UNKNOWN,
      );
      // A guest that powered off while we were away is still waiting to be stopped.
      if (st.status === 'shutdown') {
        rt.gotShutdown = true;
        rt.proc.signal('SIGTERM');
      }
    }
    if (target.state !== status.state || target.reason !== status.reason) await saveStatus(state, target);
  } catch (err) {
    state.warn(err, target, 'query-status after reconnect');
  }
  // NIC_RX_FILTER_CHANGED sent while no one listened is lost, and QEMU sends no more until
  // asked: sync every trusted NIC once (floor filters re-added even if they look current).
  await target.job
    .run('reconnect rx-filters', async () => {
      if (target.runtime !== rt || !target.active) return;
      if (await refreshRxFilters(state, target, rt, { force: true })) await saveStatus(state, target);
    })
    .catch((err: unknown) => state.warn(err, target, 'rx-filter sync after reconnect'));
}

/**
 * Starts the domains marked autostart that are not running, once per boot of this state
 * directory (a marker file in the runtime directory, as libvirt's "autostarted").
 */
export async function autostartDomains(state: QemuDriverState, start: (obj: QemuDomainObj) => Promise<void>): Promise<void> {
  const marker = join(state.paths.status, 'autostarted');
  try {
    await access(marker);
    return;
  } catch {
    // not done yet in this boot
  }
  await writeFile(marker, '');
  const todo = [...state.domains].filter((o) => o.autostart && !o.active);
  await Promise.all(
    todo.map((o) =>
      start(o).catch((err: unknown) => state.warn(err, o, `Failed to autostart VM '${o.name}'`)),
    ),
  );
}
