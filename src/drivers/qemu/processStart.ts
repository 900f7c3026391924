// Starting a domain (libvirt's qemuProcessStart, without its slow parts): the host side of each
// interface (and its vhost-net), the command line, QEMU spawned as our child (not daemonized)
// with its own log and the monitor socket we made (connected at once), the ptys QEMU made, the
// few things done while paused, `cont`.
// A failure at any step reports QEMU's own error line when QEMU was the one to fail, and undoes
// every host change made so far.
import { closeSync, mkdirSync, rmSync } from 'node:fs';
import { access, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DomainDef } from '../../conf/domain/index.js';
import type { ChrDef } from '../../conf/domain/chardev.js';
import { ErrorDomain, ErrorNumber, fromSystemError, virtError } from '../../errors/index.js';
import { unixListenSocket } from '../../host/syscalls.js';
import { closeFds } from '../../host/tap.js';
import {
  DomainEventStartedDetailType,
  DomainEventSuspendedDetailType,
  DomainEventType,
  DomainPausedReason,
  DomainRunningReason,
  DomainShutoffReason,
  DomainState,
} from '../constants.js';
import { buildQemuCommandLine, validateDomainForStart, type CommandLineContext } from './commandLine.js';
import { assignDomainAddresses } from './deviceAddresses.js';
import { assignDeviceAliases } from './deviceAliases.js';
import { chardevSocketPath } from './devices/chardev.js';
import { diskBlockdevProps, diskHasSource } from './devices/disk.js';
import { QemuConsole } from './console.js';
import { ptyPaths, QemuPtyConsole, type ConsoleEndpoint } from './ptyConsole.js';
import { newRuntime, type DomainRuntime, type QemuDomainObj } from './domainObj.js';
import type { QemuDriverState } from './driverState.js';
import { activateInterface, prepareInterface, releaseInterface, type PreparedInterface } from './interfaceHost.js';
import { watchRuntime } from './monitorEvents.js';
import { openVhostNet } from './vhostNet.js';
import { QemuProcess, qemuStartError } from './qemuProcess.js';
import { QmpClient } from './qmp.js';
import { saveStatus } from './runtimeStatus.js';
import { refreshRxFilters } from './rxFilterChange.js';

export interface StartOptions {
  /** VIR_DOMAIN_START_PAUSED: leave the CPUs stopped. */
  paused?: boolean;
}

/** The per-run directory of a domain: sockets (monitor, consoles). */
export function domainRunDir(state: QemuDriverState, id: number, name: string): string {
  // libvirt's domain-<id>-<name>, name cut short so socket paths stay within sun_path.
  return join(state.paths.status, `domain-${id}-${name.slice(0, 20).replace(/[/\s]/g, '_')}`);
}

/** The character devices of a definition that a console session can open. */
function chardevs(def: DomainDef): ChrDef[] {
  const d = def.devices;
  return [...(d.serials ?? []), ...(d.parallels ?? []), ...(d.consoles ?? []), ...(d.channels ?? [])];
}

/**
 * What QEMU made of each pty chardev (qemuProcessLookupPTYs): the slave's path from
 * query-chardev goes into the live definition (<source path='/dev/pts/N'/>; console 0 shows it
 * as tty= too).
 */
export function recordPtyPaths(def: DomainDef, chardevInfo: readonly { label: string; filename: string }[]): void {
  const paths = ptyPaths(chardevInfo);
  for (const chr of chardevs(def)) {
    if (chr.source.type !== 'pty' || !chr.alias) continue;
    const path = paths.get(`char${chr.alias}`);
    if (path) chr.source.path = path;
  }
}

/** Where a console session of each chardev opens, by alias: its pty, or a unix socket QEMU serves. */
export function consoleEndpoints(def: DomainDef, ctx: Pick<CommandLineContext, 'chardevSocketDir' | 'ptyAsSocket'>): Map<string, ConsoleEndpoint> {
  const out = new Map<string, ConsoleEndpoint>();
  for (const chr of chardevs(def)) {
    if (!chr.alias || out.has(chr.alias)) continue;
    if (chr.source.type === 'pty') {
      if (ctx.ptyAsSocket) out.set(chr.alias, new QemuConsole(chardevSocketPath(ctx, `char${chr.alias}`)));
      else if (chr.source.path) out.set(chr.alias, new QemuPtyConsole(chr.source.path));
    } else if (chr.source.type === 'unix' && chr.source.mode !== 'connect' && chr.source.path) {
      out.set(chr.alias, new QemuConsole(chr.source.path));
    }
  }
  return out;
}

/**
 * Starts a defined domain (the caller holds its job and has checked it is not running). On
 * success the domain runs (or is paused) and STARTED went out; on failure nothing is left on
 * the host and the domain is shut off with reason 'failed'.
 */
export async function startDomain(state: QemuDriverState, obj: QemuDomainObj, opts: StartOptions = {}): Promise<void> {
  const persistentDef = obj.def;
  const live: DomainDef = structuredClone(persistentDef);
  const caps = await state.capsFor(live);
  const id = state.allocateId();
  live.id = id;
  const dir = domainRunDir(state, id, live.name);
  const monitorPath = join(dir, 'monitor.sock');
  const logFile = state.logPath(live.name);
  const ictx = state.interfaceContext();
  const prepared: PreparedInterface[] = [];
  let proc: QemuProcess | undefined;
  let qmp: QmpClient | undefined;
  let rt: DomainRuntime | undefined;
  let monitorFd: number | undefined;
  const vhostOpened: number[] = [];

  obj.def = live;
  obj.newDef = obj.persistent ? persistentDef : null;
  obj.id = id;
  obj.setState(DomainState.PAUSED, DomainPausedReason.STARTING_UP);
  try {
    if (monitorPath.length > 107) {
      throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, `UNIX socket path '${monitorPath}' too long`, { value: monitorPath });
    }
    const binary = live.devices.emulator ?? caps.binary;
    await access(binary).catch((err: unknown) => {
      throw fromSystemError(err, ErrorDomain.QEMU, `Cannot check QEMU binary ${binary}`, { value: binary });
    });
    // Checks, addresses and aliases first: nothing on the host changes for a domain QEMU cannot run.
    validateDomainForStart(live, caps);
    assignDomainAddresses(live);
    assignDeviceAliases(live);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });

    // Host side of each interface, in order; QEMU sees their descriptors from 3 on: the tap
    // fds, then the vhost-net fds of the same interface.
    const netFds = new Map<string, number[]>();
    const vhostFds = new Map<string, number[]>();
    const spawnFds = new Map<number, number>();
    let nextFd = 3;
    const pass = (fds: readonly number[]): number[] =>
      fds.map((fd) => {
        const n = nextFd++;
        spawnFds.set(n, fd);
        return n;
      });
    for (const net of live.devices.interfaces ?? []) {
      const p = await prepareInterface(ictx, net, live);
      prepared.push(p);
      if (p.tapfds.length > 0 && net.alias) {
        netFds.set(net.alias, pass(p.tapfds));
        const vh = openVhostNet(live, net, (e) => state.warn(e, obj));
        vhostOpened.push(...vh);
        if (vh.length) vhostFds.set(net.alias, pass(vh));
      }
    }

    // The monitor socket is ours: bound and listening before QEMU runs, handed over as a
    // descriptor (as libvirt), so the driver connects at once and QEMU answers when it is up.
    try {
      monitorFd = unixListenSocket(monitorPath);
    } catch (err) {
      throw fromSystemError(err, ErrorDomain.QEMU, `Unable to create the monitor socket '${monitorPath}'`, { value: monitorPath });
    }
    const qmpFd = nextFd++;
    spawnFds.set(qmpFd, monitorFd);

    const ctx: CommandLineContext = {
      caps,
      vmName: live.name,
      qmpSocket: monitorPath,
      qmpFd,
      chardevSocketDir: dir,
      libDir: state.paths.lib,
      logDir: state.paths.log,
      netFds,
      vhostFds,
    };
    const cmd = buildQemuCommandLine(live, ctx);
    // The block nodes the command line gave each disk (libvirt-N-…, the last disk N = 1).
    const disks = live.devices.disks ?? [];
    const diskNodes = new Map<string, { storage: string; format: string }>();
    disks.forEach((d, i) => {
      if (d.alias && diskHasSource(d)) diskNodes.set(d.alias, diskBlockdevProps(d, disks.length - i).names);
    });

    try {
      proc = await QemuProcess.spawn({ binary: cmd.binary, args: cmd.args, logFile, fds: spawnFds, cwd: dir });
    } finally {
      // QEMU has its copies now (or never will): ours would keep a failed start's taps alive,
      // and a QEMU that dies must take the monitor's listening socket with it.
      for (const p of prepared) closeFds(p.tapfds);
      closeFds(vhostOpened);
      closeSync(monitorFd);
      monitorFd = undefined;
    }
    const exited = new AbortController();
    void proc.exited.then(() => exited.abort());

    rt = newRuntime({
      proc,
      monitorPath,
      dir,
      logFile,
      net: prepared.map((p) => p.record),
      // filled in once QEMU says where its ptys are
      consoles: new Map(),
      gotShutdown: false,
      diskNodes,
      nextNodeIndex: disks.length + 1,
    });
    obj.runtime = rt;
    // The status file is written while QEMU starts up (it names the pid): a driver that dies
    // from here on finds and cleans up after this QEMU.
    const firstStatus = saveStatus(state, obj);

    try {
      qmp = await QmpClient.connect(monitorPath, { vmName: live.name, signal: exited.signal, timeoutMs: 30_000 });
    } catch (err) {
      // A QEMU that fails to start may still be on its way out when the connect gives up.
      if (await proc.waitExit(1000)) throw qemuStartError(live.name, await proc.readLog(), 'startup');
      throw err;
    }
    rt.qmp = qmp;
    watchRuntime(state, obj, rt);
    if (chardevs(live).some((c) => c.source.type === 'pty')) {
      recordPtyPaths(live, await qmp.execute<{ label: string; filename: string }[]>('query-chardev'));
    }
    rt.consoles = consoleEndpoints(live, ctx);

    // While paused: what must happen before the guest runs.
    for (const r of rt.net) await activateInterface(ictx, r);
    // The host side of trusted NICs starts out following the guest (libvirt's RefreshState).
    await refreshRxFilters(state, obj, rt);
    for (const net of live.devices.interfaces ?? []) {
      if (net.link?.state === 'down' && net.alias) await qmp.execute('set_link', { name: net.alias, up: false });
    }
    // on_reboot='destroy': a guest reboot powers off instead (libvirt passes -no-reboot).
    if (live.onReboot === 'destroy' && !cmd.args.includes('-no-reboot')) {
      await qmp.execute('set-action', { reboot: 'shutdown' });
    }

    if (opts.paused) {
      obj.setState(DomainState.PAUSED, DomainPausedReason.USER);
    } else {
      rt.runningReason = DomainRunningReason.BOOTED;
      await qmp.execute('cont');
      // RESUME normally came before the reply and did this (with the RESUMED event).
      if (obj.state !== DomainState.RUNNING) {
        obj.setState(DomainState.RUNNING, DomainRunningReason.BOOTED);
        state.lifecycle(obj, DomainEventType.RESUMED, 0);
      }
      rt.runningReason = undefined;
    }
    await firstStatus;
    // Not waited for: a driver that dies before it lands finds the QEMU through the first
    // status file and asks QEMU for its state.
    void saveStatus(state, obj);
  } catch (err) {
    if (monitorFd !== undefined) closeSync(monitorFd);
    closeFds(vhostOpened);
    // QEMU died under a monitor command: its own words explain why.
    const died = proc !== undefined && qmp !== undefined && (qmp.closed || !proc.running) && (await proc.waitExit(1000));
    await undoStart(state, obj, { persistentDef, prepared, proc, qmp, rt, dir });
    if (died) throw qemuStartError(live.name, await proc!.readLog(), 'startup');
    // A system call's failure (a file, a socket) is SYSTEM_ERROR naming the errno; anything
    // else unexpected is INTERNAL_ERROR.
    throw fromSystemError(err, ErrorDomain.QEMU, `failed to start domain '${live.name}'`, { object: live.name });
  }
  state.lifecycle(obj, DomainEventType.STARTED, DomainEventStartedDetailType.BOOTED);
  if (opts.paused) state.lifecycle(obj, DomainEventType.SUSPENDED, DomainEventSuspendedDetailType.PAUSED);
}

async function undoStart(
  state: QemuDriverState,
  obj: QemuDomainObj,
  s: {
    persistentDef: DomainDef;
    prepared: PreparedInterface[];
    proc: QemuProcess | undefined;
    qmp: QmpClient | undefined;
    rt: DomainRuntime | undefined;
    dir: string;
  },
): Promise<void> {
  if (s.rt) {
    s.rt.stopping = Promise.resolve();
    s.rt.detaching = true;
    for (const c of s.rt.consoles.values()) c.close();
  }
  s.qmp?.close();
  if (s.proc?.running) await s.proc.kill({ graceMs: 1000 }).catch((e: unknown) => state.warn(e, obj));
  for (const p of s.prepared) closeFds(p.tapfds);
  const ictx = state.interfaceContext();
  for (const p of [...s.prepared].reverse()) await releaseInterface({ ...ictx, warn: (e) => state.warn(e, obj) }, p.record);
  if (s.rt) await s.rt.statusWrites;
  await rm(state.statusPath(obj.name), { force: true }).catch(() => undefined);
  await rm(s.dir, { recursive: true, force: true }).catch(() => undefined);
  if (s.proc) await s.proc.logLine('shutting down, reason=failed');
  obj.runtime = undefined;
  obj.def = s.persistentDef;
  obj.newDef = null;
  obj.id = -1;
  obj.setState(DomainState.SHUTOFF, DomainShutoffReason.FAILED);
}
