// The QEMU driver: one QemuDriver per connection, all connections of one URI in this process
// sharing one QemuDriverState (domains, monitors, lock). Each connection has its own events.
// qemu:///system and qemu:///session manage the state directories of DESIGN.md; an embedded
// qemu:///embed?root=DIR keeps everything under DIR and runs in this process. Guests outlive
// the process that started them; the next open of the same URI reattaches.
import { readFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import type { Duplex } from 'node:stream';
import { ErrorDomain, ErrorNumber, VirtError, virtError } from '../../errors/index.js';
import { formatConnectURI, type ConnectURI } from '../connectUri.js';
import {
  DomainConsoleFlags,
  DomainCreateFlags,
  DomainDefineFlags,
  DomainDestroyFlagsValues,
  DomainEventDefinedDetailType,
  DomainEventStoppedDetailType,
  DomainEventType,
  DomainEventUndefinedDetailType,
  DomainModificationImpact,
  DomainPausedReason,
  DomainRebootFlagValues,
  DomainRunningReason,
  DomainShutdownFlagValues,
  DomainShutoffReason,
  DomainState,
  DomainUndefineFlagsValues,
  DomainXMLFlags,
  DrvFeature,
  LIB_VERSION,
} from '../constants.js';
import type {
  CloseCallback,
  DomainCapabilitiesQuery,
  DomainEventCallback,
  DomainInfo,
  DomainInterfaceAddresses,
  DomainRef,
  Driver,
  NetworkDHCPLease,
  NetworkEventCallback,
  NetworkRef,
  NodeInfo,
  SecurityLabel,
  SecurityModel,
  StoragePoolRef,
  TypedParam,
} from '../driver.js';
import { EventBroker } from '../events.js';
import { NetworkDriver } from '../network/index.js';
import { checkFlags } from '../flags.js';
import { ALL_DOMAIN_LIST_FLAGS, domainMatchesListFlags } from '../listFlags.js';
import { oneDef } from '../modificationImpact.js';
import { hostArch, type DomainDef } from '../../conf/domain/index.js';
import { checkIllegalChars } from '../../conf/xmlProps.js';
import { QemuDomainObj } from './domainObj.js';
import { acquireDriverState, releaseDriverState, type QemuDriverOptions, type QemuDriverState } from './driverState.js';
import { attachDevice, detachDevice, updateDevice } from './hotplug.js';
import { getInterfaceParameters, setInterfaceParameters } from './interfaceTune.js';
import { monitorDrained } from './monitorEvents.js';
import { startDomain } from './processStart.js';
import { stopDomain } from './processStop.js';
import { qemuDirsForURI } from './qemuDirs.js';
import { autostartDomains, reconnectDomains } from './reconnect.js';
import { saveStatus } from './runtimeStatus.js';

const Q = ErrorDomain.QEMU;
/** libvirt's default wait for QEMU to die after SIGTERM before SIGKILL (qemuProcessKill). */
const DESTROY_GRACE_MS = 10_000;

function notRunning(): VirtError {
  return virtError(ErrorNumber.OPERATION_INVALID, Q, 'domain is not running');
}

export class QemuDriver implements Driver {
  readonly state: QemuDriverState;
  readonly #uri: string;
  readonly #events = new EventBroker();
  readonly #networks: NetworkDriver;
  readonly #closeCallbacks = new Set<CloseCallback>();
  #closed = false;

  constructor(state: QemuDriverState, uri: string) {
    this.state = state;
    this.#uri = uri;
    state.attachBroker(this.#events);
    this.#networks = new NetworkDriver(state.networks(), this.#events);
  }

  // ---- connection ----

  async getURI(): Promise<string> {
    return this.#uri;
  }

  async getType(): Promise<string> {
    return 'QEMU';
  }

  async getVersion(): Promise<number> {
    const caps = this.state.capsSource.forArch(hostArch()) ?? this.state.allCaps[0];
    if (!caps) throw virtError(ErrorNumber.INTERNAL_ERROR, Q, 'Cannot find suitable emulator for host architecture');
    return caps.version;
  }

  async getLibVersion(): Promise<number> {
    return LIB_VERSION;
  }

  async getHostname(): Promise<string> {
    return hostname();
  }

  async getCapabilities(): Promise<string> {
    return this.state.capabilitiesXML();
  }

  async getDomainCapabilities(q: DomainCapabilitiesQuery, flags: number): Promise<string> {
    checkFlags(flags, 1 /* VIR_CONNECT_GET_DOMAIN_CAPABILITIES_DISABLE_DEPRECATED_FEATURES */, 'qemuConnectGetDomainCapabilities', Q);
    return this.state.domainCapabilitiesXML(q);
  }

  async getMaxVcpus(type: string | null): Promise<number> {
    if (type !== null && !['qemu', 'kvm', 'kqemu'].includes(type.toLowerCase())) {
      throw virtError(ErrorNumber.INVALID_ARG, Q, `unknown type '${type}'`, { value: type });
    }
    const caps = this.state.capsSource.forArch(hostArch());
    const def = caps?.machines.find((m) => m.isDefault);
    return def?.maxCpus ?? 255;
  }

  async nodeGetInfo(): Promise<NodeInfo> {
    return nodeInfo();
  }

  async nodeGetSecurityModel(): Promise<SecurityModel> {
    return { model: 'none', doi: '0' };
  }

  async supportsFeature(feature: number): Promise<boolean> {
    return (
      feature === DrvFeature.TYPED_PARAM_STRING ||
      feature === DrvFeature.XML_MIGRATABLE ||
      feature === DrvFeature.FD_PASSING ||
      feature === DrvFeature.NETWORK_UPDATE_HAS_CORRECT_ORDER
    );
  }

  async isSecure(): Promise<boolean> {
    return true;
  }

  async isEncrypted(): Promise<boolean> {
    return false;
  }

  async isAlive(): Promise<boolean> {
    return !this.#closed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#events.clear();
    this.#networks.close();
    this.state.detachBroker(this.#events);
    this.#closeCallbacks.clear();
    await releaseDriverState(this.state);
  }

  async registerCloseCallback(cb: CloseCallback): Promise<void> {
    this.#closeCallbacks.add(cb);
  }

  async unregisterCloseCallback(cb: CloseCallback): Promise<void> {
    if (!this.#closeCallbacks.delete(cb)) {
      throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, 'A different callback was requested');
    }
  }

  // ---- domains: listing and lookup ----

  async listAllDomains(flags: number): Promise<DomainRef[]> {
    checkFlags(flags, ALL_DOMAIN_LIST_FLAGS, 'qemuConnectListAllDomains', Q);
    const out: DomainRef[] = [];
    for (const obj of this.state.domains) if (domainMatchesListFlags(flags, obj)) out.push(obj.ref());
    return out;
  }

  async numOfDomains(): Promise<number> {
    return [...this.state.domains].filter((d) => d.active).length;
  }

  async listDomains(maxids: number): Promise<number[]> {
    return [...this.state.domains]
      .filter((d) => d.active)
      .map((d) => d.id)
      .slice(0, Math.max(0, maxids));
  }

  async numOfDefinedDomains(): Promise<number> {
    return [...this.state.domains].filter((d) => !d.active).length;
  }

  async listDefinedDomains(maxnames: number): Promise<string[]> {
    return [...this.state.domains]
      .filter((d) => !d.active)
      .map((d) => d.name)
      .slice(0, Math.max(0, maxnames));
  }

  async domainLookupByName(name: string): Promise<DomainRef> {
    const obj = this.state.findByName(name);
    if (!obj) throw virtError(ErrorNumber.NO_DOMAIN, Q, `no domain with matching name '${name}'`, { object: name });
    return obj.ref();
  }

  async domainLookupByUUID(uuid: string): Promise<DomainRef> {
    const obj = this.state.findByUuid(uuid);
    if (!obj) throw virtError(ErrorNumber.NO_DOMAIN, Q, `no domain with matching uuid '${uuid.toLowerCase()}'`, { value: uuid });
    return obj.ref();
  }

  async domainLookupByID(id: number): Promise<DomainRef> {
    const obj = this.state.findById(id);
    if (!obj) throw virtError(ErrorNumber.NO_DOMAIN, Q, `no domain with matching id ${id}`, { value: String(id) });
    return obj.ref();
  }

  // ---- domains: definition and lifecycle ----

  async domainDefineXML(xml: string, flags: number): Promise<DomainRef> {
    checkFlags(flags, DomainDefineFlags.VALIDATE, 'qemuDomainDefineXMLFlags', Q);
    const st = this.state;
    await st.probeEmulatorOf(xml);
    const def = st.parseInactive(xml, { validate: (flags & DomainDefineFlags.VALIDATE) !== 0 });
    // The name becomes a file name and a line in logs (libvirt's qemuDomainDefineXMLFlags).
    checkIllegalChars('name', def.name, '\n');
    const existing = st.checkDefConflicts(def, { live: false });
    const run = async (): Promise<DomainRef> => {
      await st.saveConfig(def);
      let obj: QemuDomainObj;
      let updated = false;
      if (existing && !existing.removed) {
        obj = existing;
        updated = true;
        if (obj.active) obj.newDef = def;
        else obj.def = def;
        obj.persistent = true;
      } else {
        obj = new QemuDomainObj(def, true);
        st.add(obj);
      }
      if (obj.active) await saveStatus(st, obj);
      st.lifecycle(obj, DomainEventType.DEFINED, updated ? DomainEventDefinedDetailType.UPDATED : DomainEventDefinedDetailType.ADDED);
      return obj.ref();
    };
    return existing ? existing.job.run('define', run) : run();
  }

  async domainCreateXML(xml: string, flags: number): Promise<DomainRef> {
    checkFlags(flags, DomainCreateFlags.PAUSED | DomainCreateFlags.AUTODESTROY | DomainCreateFlags.VALIDATE, 'qemuDomainCreateXML', Q);
    const st = this.state;
    await st.probeEmulatorOf(xml);
    const def = st.parseInactive(xml, { validate: (flags & DomainCreateFlags.VALIDATE) !== 0 });
    const existing = st.checkDefConflicts(def, { live: true });
    if (existing) {
      // A persistent shut-off domain runs the new definition; its own waits as the next config.
      return existing.job.run('create', async () => {
        if (existing.active) {
          throw virtError(ErrorNumber.OPERATION_INVALID, Q, `domain '${existing.name}' is already active`, { object: existing.name });
        }
        const saved = existing.def;
        existing.def = def;
        try {
          await startDomain(st, existing, { paused: (flags & DomainCreateFlags.PAUSED) !== 0 });
        } catch (err) {
          existing.def = saved;
          throw err;
        }
        existing.newDef = saved;
        await saveStatus(st, existing);
        return existing.ref();
      });
    }
    const obj = new QemuDomainObj(def, false);
    st.add(obj);
    return obj.job.run('create', async () => {
      try {
        await startDomain(st, obj, { paused: (flags & DomainCreateFlags.PAUSED) !== 0 });
      } catch (err) {
        st.remove(obj);
        throw err;
      }
      return obj.ref();
    });
  }

  async domainUndefine(dom: DomainRef, flags: number): Promise<void> {
    checkFlags(
      flags,
      DomainUndefineFlagsValues.MANAGED_SAVE |
        DomainUndefineFlagsValues.SNAPSHOTS_METADATA |
        DomainUndefineFlagsValues.NVRAM |
        DomainUndefineFlagsValues.KEEP_NVRAM |
        DomainUndefineFlagsValues.CHECKPOINTS_METADATA |
        DomainUndefineFlagsValues.TPM |
        DomainUndefineFlagsValues.KEEP_TPM,
      'qemuDomainUndefineFlags',
      Q,
    );
    const st = this.state;
    const obj = st.lookup(dom);
    await obj.job.run('undefine', async () => {
      if (!obj.persistent) {
        throw virtError(ErrorNumber.OPERATION_INVALID, Q, 'cannot undefine transient domain');
      }
      await st.deleteConfig(obj.name);
      obj.autostart = false;
      st.lifecycle(obj, DomainEventType.UNDEFINED, DomainEventUndefinedDetailType.REMOVED);
      if (obj.active) {
        obj.persistent = false;
        obj.newDef = null;
        await saveStatus(st, obj);
      } else {
        st.remove(obj);
      }
    });
  }

  async domainCreate(dom: DomainRef, flags: number): Promise<DomainRef> {
    checkFlags(
      flags,
      DomainCreateFlags.PAUSED | DomainCreateFlags.AUTODESTROY | DomainCreateFlags.BYPASS_CACHE | DomainCreateFlags.FORCE_BOOT | DomainCreateFlags.RESET_NVRAM,
      'qemuDomainCreateWithFlags',
      Q,
    );
    const obj = this.state.lookup(dom);
    return obj.job.run('start', async () => {
      if (obj.active) throw virtError(ErrorNumber.OPERATION_INVALID, Q, 'domain is already running');
      await startDomain(this.state, obj, { paused: (flags & DomainCreateFlags.PAUSED) !== 0 });
      return obj.ref();
    });
  }

  async domainDestroy(dom: DomainRef, flags: number): Promise<void> {
    checkFlags(flags, DomainDestroyFlagsValues.GRACEFUL | DomainDestroyFlagsValues.REMOVE_LOGS, 'qemuDomainDestroyFlags', Q);
    const st = this.state;
    const obj = st.lookup(dom);
    // Marked before the job is taken, so a QEMU that dies while we wait is ours to tear down.
    const rt0 = obj.runtime;
    if (rt0) rt0.beingDestroyed = true;
    try {
      await obj.job.run('destroy', async () => {
        const rt = obj.runtime;
        if (!rt) throw notRunning();
        rt.beingDestroyed = true;
        try {
          await rt.proc.kill({ graceMs: DESTROY_GRACE_MS, graceful: (flags & DomainDestroyFlagsValues.GRACEFUL) !== 0 });
        } catch (err) {
          rt.beingDestroyed = false;
          throw err;
        }
        // QEMU's last words (SHUTDOWN on SIGTERM) come before the STOPPED event.
        await monitorDrained(rt, 1000);
        await stopDomain(st, obj, DomainShutoffReason.DESTROYED, { eventDetail: DomainEventStoppedDetailType.DESTROYED });
      });
    } finally {
      if (rt0 && obj.runtime === rt0) rt0.beingDestroyed = false;
    }
  }

  async domainShutdown(dom: DomainRef, flags: number): Promise<void> {
    checkFlags(flags, DomainShutdownFlagValues.ACPI_POWER_BTN | DomainShutdownFlagValues.GUEST_AGENT, 'qemuDomainShutdownFlags', Q);
    const obj = this.state.lookup(dom);
    await obj.job.run('shutdown', async () => {
      const rt = this.#running(obj);
      if (flags === DomainShutdownFlagValues.GUEST_AGENT) {
        throw virtError(ErrorNumber.ARGUMENT_UNSUPPORTED, Q, 'QEMU guest agent is not configured');
      }
      if (obj.state !== DomainState.RUNNING && obj.state !== DomainState.PAUSED && obj.state !== DomainState.SHUTDOWN) {
        throw virtError(ErrorNumber.OPERATION_INVALID, Q, 'domain is not running');
      }
      // on_poweroff='restart' turns a shutdown into a reboot (qemuDomainShutdownFlags).
      rt.fakeReboot = obj.def.onPoweroff === 'restart' || obj.def.onPoweroff === 'rename-restart';
      await this.#qmp(rt).execute('system_powerdown');
    });
  }

  async domainReboot(dom: DomainRef, flags: number): Promise<void> {
    checkFlags(flags, DomainRebootFlagValues.ACPI_POWER_BTN | DomainRebootFlagValues.GUEST_AGENT, 'qemuDomainReboot', Q);
    const obj = this.state.lookup(dom);
    await obj.job.run('reboot', async () => {
      const rt = this.#running(obj);
      if (flags === DomainRebootFlagValues.GUEST_AGENT) {
        throw virtError(ErrorNumber.ARGUMENT_UNSUPPORTED, Q, 'QEMU guest agent is not configured');
      }
      // on_reboot='destroy'/'preserve' makes a reboot request a shutdown.
      rt.fakeReboot = !(obj.def.onReboot === 'destroy' || obj.def.onReboot === 'preserve');
      await this.#qmp(rt).execute('system_powerdown');
    });
  }

  async domainReset(dom: DomainRef, flags: number): Promise<void> {
    checkFlags(flags, 0, 'qemuDomainReset', Q);
    const obj = this.state.lookup(dom);
    await obj.job.run('reset', async () => {
      const rt = this.#running(obj);
      await this.#qmp(rt).execute('system_reset');
      rt.gotShutdown = false;
      if (obj.state === DomainState.CRASHED) obj.setState(DomainState.PAUSED, DomainPausedReason.CRASHED);
      await saveStatus(this.state, obj);
    });
  }

  async domainSuspend(dom: DomainRef): Promise<void> {
    const obj = this.state.lookup(dom);
    await obj.job.run('suspend', async () => {
      const rt = this.#running(obj);
      if (obj.state === DomainState.PMSUSPENDED) throw virtError(ErrorNumber.OPERATION_INVALID, Q, 'domain is pm-suspended');
      if (obj.state === DomainState.PAUSED) return;
      rt.pausedReason = DomainPausedReason.USER;
      await this.#qmp(rt).execute('stop');
      // STOP normally came before the reply and did this (with the SUSPENDED event).
      if ((obj.state as number) === DomainState.RUNNING) {
        obj.setState(DomainState.PAUSED, DomainPausedReason.USER);
        this.state.lifecycle(obj, DomainEventType.SUSPENDED, 0);
      }
      rt.pausedReason = undefined;
      await saveStatus(this.state, obj);
    });
  }

  async domainResume(dom: DomainRef): Promise<void> {
    const obj = this.state.lookup(dom);
    await obj.job.run('resume', async () => {
      const rt = this.#running(obj);
      if (obj.state === DomainState.PMSUSPENDED) throw virtError(ErrorNumber.OPERATION_INVALID, Q, 'domain is pm-suspended');
      if (obj.state !== DomainState.PAUSED) return;
      rt.runningReason = DomainRunningReason.UNPAUSED;
      await this.#qmp(rt).execute('cont');
      // RESUME normally came before the reply and did this (with the RESUMED event).
      if ((obj.state as number) !== DomainState.RUNNING) {
        obj.setState(DomainState.RUNNING, DomainRunningReason.UNPAUSED);
        this.state.lifecycle(obj, DomainEventType.RESUMED, 0);
      }
      rt.runningReason = undefined;
      await saveStatus(this.state, obj);
    });
  }

  #running(obj: QemuDomainObj) {
    const rt = obj.runtime;
    if (!rt || !obj.active) throw notRunning();
    return rt;
  }

  #qmp(rt: NonNullable<QemuDomainObj['runtime']>) {
    if (!rt.qmp) throw virtError(ErrorNumber.OPERATION_INVALID, Q, 'monitor must not be NULL');
    return rt.qmp;
  }

  // ---- domains: queries ----

  async domainGetXMLDesc(dom: DomainRef, flags: number): Promise<string> {
    const all = DomainXMLFlags.SECURE | DomainXMLFlags.INACTIVE | DomainXMLFlags.UPDATE_CPU | DomainXMLFlags.MIGRATABLE;
    checkFlags(flags, all, 'qemuDomainGetXMLDesc', Q);
    const obj = this.state.lookup(dom);
    const inactive = (flags & DomainXMLFlags.INACTIVE) !== 0 || (flags & DomainXMLFlags.MIGRATABLE) !== 0;
    const def = inactive ? obj.persistentDef : obj.def;
    return this.state.formatDef(def, {
      inactive: inactive || !obj.active,
      secure: (flags & DomainXMLFlags.SECURE) !== 0,
      migratable: (flags & DomainXMLFlags.MIGRATABLE) !== 0,
      id: obj.active && !inactive ? obj.id : undefined,
    });
  }

  async domainGetInfo(dom: DomainRef): Promise<DomainInfo> {
    const obj = this.state.lookup(dom);
    const def = obj.def;
    const cpuTime = obj.runtime?.proc.cpuTime() ?? 0n;
    return {
      state: obj.state,
      maxMem: def.memory,
      memory: def.currentMemory,
      nrVirtCpu: def.vcpu.current ?? def.vcpu.count,
      cpuTime,
    };
  }

  async domainGetState(dom: DomainRef, flags: number): Promise<{ state: number; reason: number }> {
    checkFlags(flags, 0, 'qemuDomainGetState', Q);
    const obj = this.state.lookup(dom);
    return { state: obj.state, reason: obj.reason };
  }

  async domainGetOSType(dom: DomainRef): Promise<string> {
    return this.state.lookup(dom).def.os.type;
  }

  async domainGetMaxMemory(dom: DomainRef): Promise<number> {
    return this.state.lookup(dom).def.memory;
  }

  async domainGetVcpusFlags(dom: DomainRef, flags: number): Promise<number> {
    checkFlags(flags, DomainModificationImpact.LIVE | DomainModificationImpact.CONFIG | 4 | 8, 'qemuDomainGetVcpusFlags', Q);
    const obj = this.state.lookup(dom);
    const def = oneDef(obj, flags);
    return flags & 4 ? def.vcpu.count : (def.vcpu.current ?? def.vcpu.count);
  }

  async domainGetAutostart(dom: DomainRef): Promise<boolean> {
    return this.state.lookup(dom).autostart;
  }

  async domainSetAutostart(dom: DomainRef, autostart: boolean): Promise<void> {
    const obj = this.state.lookup(dom);
    await obj.job.run('autostart', async () => {
      if (!obj.persistent) throw virtError(ErrorNumber.OPERATION_INVALID, Q, 'cannot set autostart for transient domain');
      await this.state.setAutostartLink(obj.name, autostart);
      obj.autostart = autostart;
    });
  }

  async domainIsActive(dom: DomainRef): Promise<boolean> {
    return this.state.lookup(dom).active;
  }

  async domainIsPersistent(dom: DomainRef): Promise<boolean> {
    return this.state.lookup(dom).persistent;
  }

  async domainIsUpdated(dom: DomainRef): Promise<boolean> {
    this.state.lookup(dom);
    return false;
  }

  async domainHasManagedSaveImage(dom: DomainRef, flags: number): Promise<boolean> {
    checkFlags(flags, 0, 'qemuDomainHasManagedSaveImage', Q);
    this.state.lookup(dom);
    return false;
  }

  async domainSnapshotNum(dom: DomainRef, flags: number): Promise<number> {
    checkFlags(flags, 0x7ff, 'qemuDomainSnapshotNum', Q);
    this.state.lookup(dom);
    return 0;
  }

  async domainGetSecurityLabel(dom: DomainRef): Promise<SecurityLabel> {
    this.state.lookup(dom);
    return { label: '', enforcing: false };
  }

  async domainGetMessages(dom: DomainRef, flags: number): Promise<string[]> {
    checkFlags(flags, 3, 'qemuDomainGetMessages', Q);
    this.state.lookup(dom);
    return [];
  }

  async domainInterfaceAddresses(dom: DomainRef, source: number, flags: number): Promise<DomainInterfaceAddresses[]> {
    checkFlags(flags, 0, 'qemuDomainInterfaceAddresses', Q);
    const obj = this.state.lookup(dom);
    if (!obj.active) throw notRunning();
    switch (source) {
      case 0:
        return this.state.leaseAddresses(obj.def);
      case 1:
        throw virtError(ErrorNumber.ARGUMENT_UNSUPPORTED, Q, 'QEMU guest agent is not configured');
      case 2:
        return arpAddresses(obj.def);
      default:
        throw virtError(ErrorNumber.ARGUMENT_UNSUPPORTED, Q, `Unknown IP address data source ${source}`);
    }
  }

  // ---- domains: devices ----

  async domainAttachDeviceFlags(dom: DomainRef, xml: string, flags: number): Promise<void> {
    await attachDevice(this.state, this.state.lookup(dom), xml, flags);
  }

  async domainDetachDeviceFlags(dom: DomainRef, xml: string, flags: number): Promise<void> {
    await detachDevice(this.state, this.state.lookup(dom), xml, flags);
  }

  async domainUpdateDeviceFlags(dom: DomainRef, xml: string, flags: number): Promise<void> {
    await updateDevice(this.state, this.state.lookup(dom), xml, flags);
  }

  async domainSetInterfaceParameters(dom: DomainRef, device: string, params: TypedParam[], flags: number): Promise<void> {
    await setInterfaceParameters(this.state, this.state.lookup(dom), device, params, flags);
  }

  async domainGetInterfaceParameters(dom: DomainRef, device: string, flags: number): Promise<TypedParam[]> {
    return getInterfaceParameters(this.state, this.state.lookup(dom), device, flags);
  }

  async domainOpenConsole(dom: DomainRef, devName: string | null, flags: number): Promise<Duplex> {
    checkFlags(flags, DomainConsoleFlags.FORCE | DomainConsoleFlags.SAFE, 'qemuDomainOpenConsole', Q);
    const obj = this.state.lookup(dom);
    const rt = this.#running(obj);
    const def = obj.def;
    let alias: string | undefined;
    if (devName) {
      const all = [...(def.devices.consoles ?? []), ...(def.devices.serials ?? []), ...(def.devices.parallels ?? [])];
      const chr = all.find((c) => c.alias === devName);
      alias = chr?.alias;
    } else {
      alias = def.devices.consoles?.[0]?.alias ?? def.devices.serials?.[0]?.alias;
    }
    if (!alias) {
      throw virtError(ErrorNumber.INTERNAL_ERROR, Q, `cannot find character device ${devName ?? '<null>'}`, { value: devName ?? '' });
    }
    const console = rt.consoles.get(alias);
    if (!console) {
      throw virtError(ErrorNumber.INTERNAL_ERROR, Q, `character device ${devName ?? alias} is not using a PTY`, { value: alias });
    }
    return console.open({ force: (flags & DomainConsoleFlags.FORCE) !== 0 });
  }

  // ---- networks: the network driver's, on the same directories ----

  async listAllNetworks(flags: number): Promise<NetworkRef[]> {
    return this.#networks.listAllNetworks(flags);
  }

  async numOfNetworks(): Promise<number> {
    return this.#networks.numOfNetworks();
  }

  async listNetworks(maxnames: number): Promise<string[]> {
    return this.#networks.listNetworks(maxnames);
  }

  async numOfDefinedNetworks(): Promise<number> {
    return this.#networks.numOfDefinedNetworks();
  }

  async listDefinedNetworks(maxnames: number): Promise<string[]> {
    return this.#networks.listDefinedNetworks(maxnames);
  }

  async networkLookupByName(name: string): Promise<NetworkRef> {
    return this.#networks.networkLookupByName(name);
  }

  async networkLookupByUUID(uuid: string): Promise<NetworkRef> {
    return this.#networks.networkLookupByUUID(uuid);
  }

  async networkDefineXML(xml: string, flags: number): Promise<NetworkRef> {
    return this.#networks.networkDefineXML(xml, flags);
  }

  async networkCreateXML(xml: string, flags: number): Promise<NetworkRef> {
    return this.#networks.networkCreateXML(xml, flags);
  }

  async networkUndefine(net: NetworkRef): Promise<void> {
    return this.#networks.networkUndefine(net);
  }

  async networkCreate(net: NetworkRef): Promise<void> {
    return this.#networks.networkCreate(net);
  }

  async networkDestroy(net: NetworkRef): Promise<void> {
    return this.#networks.networkDestroy(net);
  }

  async networkGetXMLDesc(net: NetworkRef, flags: number): Promise<string> {
    return this.#networks.networkGetXMLDesc(net, flags);
  }

  async networkGetBridgeName(net: NetworkRef): Promise<string> {
    return this.#networks.networkGetBridgeName(net);
  }

  async networkGetAutostart(net: NetworkRef): Promise<boolean> {
    return this.#networks.networkGetAutostart(net);
  }

  async networkSetAutostart(net: NetworkRef, autostart: boolean): Promise<void> {
    return this.#networks.networkSetAutostart(net, autostart);
  }

  async networkIsActive(net: NetworkRef): Promise<boolean> {
    return this.#networks.networkIsActive(net);
  }

  async networkIsPersistent(net: NetworkRef): Promise<boolean> {
    return this.#networks.networkIsPersistent(net);
  }

  async networkGetDHCPLeases(net: NetworkRef, mac: string | null, flags: number): Promise<NetworkDHCPLease[]> {
    return this.#networks.networkGetDHCPLeases(net, mac, flags);
  }

  // ---- storage ----

  async listAllStoragePools(_flags: number): Promise<StoragePoolRef[]> {
    return [];
  }

  // ---- events ----

  async domainEventRegisterAny(dom: DomainRef | null, eventId: number, cb: DomainEventCallback): Promise<number> {
    if (dom) this.state.lookup(dom);
    return this.#events.domainRegister(dom, eventId, cb);
  }

  async domainEventDeregisterAny(callbackId: number): Promise<void> {
    this.#events.domainDeregister(callbackId);
  }

  async networkEventRegisterAny(net: NetworkRef | null, eventId: number, cb: NetworkEventCallback): Promise<number> {
    if (net) await this.#networks.networkLookupByUUID(net.uuid);
    return this.#networks.networkEventRegisterAny(net, eventId, cb);
  }

  async networkEventDeregisterAny(callbackId: number): Promise<void> {
    return this.#networks.networkEventDeregisterAny(callbackId);
  }
}

function nodeInfo(): NodeInfo {
  const list = cpus();
  const mhz = Math.round(list[0]?.speed ?? 0);
  let sockets = 1;
  let cores = list.length;
  let threads = 1;
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const physIds = new Set([...info.matchAll(/^physical id\s*:\s*(\d+)/gm)].map((m) => m[1]));
    const coresPer = Number(/^cpu cores\s*:\s*(\d+)/m.exec(info)?.[1] ?? 0);
    const siblings = Number(/^siblings\s*:\s*(\d+)/m.exec(info)?.[1] ?? 0);
    if (physIds.size > 0) sockets = physIds.size;
    if (coresPer > 0) cores = coresPer;
    if (coresPer > 0 && siblings > 0) threads = Math.max(1, Math.round(siblings / coresPer));
  } catch {
    // keep the simple figures
  }
  return { model: hostArch(), memory: Math.floor(totalmem() / 1024), cpus: list.length, mhz, nodes: 1, sockets, cores, threads };
}

/** Addresses of the domain's NICs from the host's neighbour table (VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP). */
function arpAddresses(def: DomainDef): DomainInterfaceAddresses[] {
  let table = '';
  try {
    table = readFileSync('/proc/net/arp', 'utf8');
  } catch {
    return [];
  }
  const byMac = new Map<string, string[]>();
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || f[3] === '00:00:00:00:00:00') continue;
    const list = byMac.get(f[3]!.toLowerCase()) ?? [];
    list.push(f[0]!);
    byMac.set(f[3]!.toLowerCase(), list);
  }
  const out: DomainInterfaceAddresses[] = [];
  for (const net of def.devices.interfaces ?? []) {
    const addrs = byMac.get(net.mac.address.toLowerCase());
    if (!addrs) continue;
    out.push({ name: net.target?.dev ?? '', hwaddr: net.mac.address, addrs: addrs.map((a) => ({ type: 0, addr: a, prefix: 0 })) });
  }
  return out;
}

/** Opens a qemu:/// connection (the API's driver table calls this). */
export async function openQemuDriver(uri: ConnectURI, opts: { readonly: boolean; driverOptions?: QemuDriverOptions } = { readonly: false }): Promise<QemuDriver> {
  const dirs = qemuDirsForURI(uri);
  const state = await acquireDriverState(dirs, opts.driverOptions ?? {}, async (s) => {
    await reconnectDomains(s);
    await autostartDomains(s, (obj) => obj.job.run('autostart', () => startDomain(s, obj)));
  });
  const canonical =
    dirs.mode === 'embed' ? formatConnectURI({ ...uri, params: [['root', dirs.root!]] }) : `qemu://${uri.path}`;
  return new QemuDriver(state, canonical);
}
