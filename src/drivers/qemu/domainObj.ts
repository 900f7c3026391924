// One domain as the QEMU driver holds it: its definitions, state and reason, and, while it runs,
// the QEMU process, its monitor and what was changed on the host for it.
import type { DomainDef } from '../../conf/domain/index.js';
import { DomainShutoffReason, DomainState } from '../constants.js';
import type { DomainRef } from '../driver.js';
import type { ConsoleEndpoint } from './ptyConsole.js';
import { DomainJob } from './domainJob.js';
import type { NetHostRecord } from './interfaceHost.js';
import type { QemuProcess } from './qemuProcess.js';
import type { QmpClient } from './qmp.js';

/** What a running domain has that a stopped one has not. */
export interface DomainRuntime {
  proc: QemuProcess;
  /** The monitor; undefined once it closed. */
  qmp: QmpClient | undefined;
  monitorPath: string;
  /** Sockets and other per-run files: <runDir>/qemu/domain-<id>-<name>. */
  dir: string;
  logFile: string;
  /** Host-side changes per interface, in interface order, to undo at stop. */
  net: NetHostRecord[];
  /** Console sessions by chardev alias ('serial0', 'console0'): a pty or a unix socket. */
  consoles: Map<string, ConsoleEndpoint>;
  /** The guest powered itself off (QMP SHUTDOWN): its exit is a shutdown, not a crash. */
  gotShutdown: boolean;
  /** destroy() is killing it: the exit handler leaves the teardown to destroy. */
  beingDestroyed: boolean;
  /** A reboot done as power-off + reset + cont (ACPI reboot, on_poweroff='restart'). */
  fakeReboot: boolean;
  /** That reboot's reset is under way. */
  rebooting?: boolean;
  /** The guest panicked and the on_crash action is running. */
  crashed: boolean;
  /** The reason the next QMP STOP / RESUME gets (set by suspend/resume/start). */
  pausedReason: number | undefined;
  runningReason: number | undefined;
  /** The driver is letting go of this QEMU (connection closed): its monitor closing is not death. */
  detaching: boolean;
  /** The teardown, once started (so it runs once). */
  stopping: Promise<void> | undefined;
  /** The chain of status-file writes (each waits for the one before). */
  statusWrites: Promise<void>;
  /** Waiters for QMP DEVICE_DELETED, by device alias. */
  deviceDeleted: Map<string, () => void>;
  /** Block node names of each disk with media, by alias (blockdev-del after unplug). */
  diskNodes: Map<string, { storage: string; format: string }>;
  /** The next libvirt-N block node number for a hotplugged disk. */
  nextNodeIndex: number;
  /** A DEVICE_DELETED nobody waited for (the guest finished an unplug late). */
  onDeviceDeleted?: (alias: string) => void;
}

/** What a runtime is made from: the QEMU and what was set up for it (start) or read back (reattach). */
export type RuntimeInit = Pick<
  DomainRuntime,
  'proc' | 'monitorPath' | 'dir' | 'logFile' | 'net' | 'consoles' | 'gotShutdown' | 'diskNodes' | 'nextNodeIndex'
> &
  Partial<Pick<DomainRuntime, 'crashed'>>;

/** A runtime with no monitor yet and nothing under way: what start and reattach both begin with. */
export function newRuntime(init: RuntimeInit): DomainRuntime {
  return {
    ...init,
    qmp: undefined,
    beingDestroyed: false,
    fakeReboot: false,
    crashed: init.crashed ?? false,
    pausedReason: undefined,
    runningReason: undefined,
    detaching: false,
    stopping: undefined,
    statusWrites: Promise.resolve(),
    deviceDeleted: new Map(),
  };
}

/** A persistent config read at start-up whose parse waits until someone needs the definition. */
interface PendingConfig {
  xml: string;
  name: string;
  uuid: string;
  parse(xml: string): DomainDef;
}

export class QemuDomainObj {
  #def: DomainDef | undefined;
  #pending: PendingConfig | undefined;
  /** While active and persistent: the persistent definition (what the next start uses). */
  newDef: DomainDef | null = null;
  persistent: boolean;
  autostart = false;
  id = -1;
  state: number = DomainState.SHUTOFF;
  reason: number = DomainShutoffReason.UNKNOWN;
  runtime: DomainRuntime | undefined;
  readonly job = new DomainJob();
  /** Dropped from the list (undefined while stopped, or a transient domain that stopped). */
  removed = false;

  constructor(def: DomainDef | PendingConfig, persistent: boolean) {
    if ('xml' in def) this.#pending = def;
    else this.#def = def;
    this.persistent = persistent;
  }

  /**
   * A persistent domain from its config file, parsed on first use of `def` (start-up reads
   * names and UUIDs only: a daemon with a thousand defined domains answers at once).
   */
  static fromConfig(pending: PendingConfig): QemuDomainObj {
    return new QemuDomainObj(pending, true);
  }

  /** The running definition while active; the persistent one otherwise. */
  get def(): DomainDef {
    if (!this.#def) {
      const p = this.#pending!;
      this.#def = p.parse(p.xml);
      this.#pending = undefined;
    }
    return this.#def;
  }

  set def(def: DomainDef) {
    this.#def = def;
    this.#pending = undefined;
  }

  get name(): string {
    return this.#def ? this.#def.name : this.#pending!.name;
  }

  get uuid(): string {
    return this.#def ? this.#def.uuid : this.#pending!.uuid;
  }

  get active(): boolean {
    return this.id > 0;
  }

  ref(): DomainRef {
    return { name: this.name, uuid: this.uuid, id: this.active ? this.id : -1 };
  }

  /** The persistent definition: newDef while running, else def. */
  get persistentDef(): DomainDef {
    return this.newDef ?? this.def;
  }

  setState(state: number, reason: number): void {
    this.state = state;
    this.reason = reason;
  }
}
