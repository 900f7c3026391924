// What the command-line builder is told about the host side of one start, and what the device
// builders share while they write their part.
import type { DomainDef } from '../../conf/domain/index.js';
import type { QemuCaps } from './capabilities.js';

export interface CommandLineContext {
  /** Capabilities of the emulator the definition names (def.devices.emulator). */
  caps: QemuCaps;
  /** The domain's name as QEMU shows it (-name guest=…); normally def.name. */
  vmName: string;
  /** Path of the QMP monitor's unix socket (QEMU listens, the driver connects). */
  qmpSocket: string;
  /**
   * The monitor socket as a descriptor QEMU inherits (the runtime creates and binds it, as
   * libvirt does): `-chardev socket,id=charmonitor,fd=N,…` instead of path=qmpSocket.
   */
  qmpFd?: number;
  /**
   * Directory for the unix sockets of chardevs tsvirt serves itself (pty consoles when
   * ptyAsSocket, see chardevSocketPath()). Must exist and be short enough for sun_path.
   */
  chardevSocketDir: string;
  /** The domain's private state directory (libvirt's /var/lib/libvirt/qemu/domain-ID-NAME). */
  libDir: string;
  /** Where the domain's logs go (libvirt's /var/log/libvirt/qemu). */
  logDir: string;
  /**
   * Interface alias → tap or macvtap fds the runtime opened, as numbers QEMU will see (one per
   * queue; the runtime passes them with QemuSpawnOptions.fds). Needed for every interface of
   * type ethernet, bridge, network and direct.
   */
  netFds: ReadonlyMap<string, readonly number[]>;
  /** Interface alias → /dev/vhost-net fds (one per queue), when vhost is used; absent = vhost off. */
  vhostFds?: ReadonlyMap<string, readonly number[]>;
  /**
   * Serve pty-type serials, consoles and channels on unix sockets in chardevSocketDir instead
   * of a host pty (what QemuConsole opens). Default false: a real pty, as libvirt.
   */
  ptyAsSocket?: boolean;
}

/** What every device builder gets: the domain being started and the start's context. */
export interface DeviceBuildEnv {
  def: DomainDef;
  caps: QemuCaps;
  ctx: CommandLineContext;
  /** bootindex of devices, from <boot order> or from <os><boot dev> (the first disk, cdrom, NIC). */
  bootIndex: ReadonlyMap<object, number>;
}
