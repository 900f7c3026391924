// From a domain definition to QEMU's command line, in the order libvirt 9.0 writes it
// (qemuBuildCommandLine): machine, accelerator, CPU, memory, SMP, the QMP monitor, clock, boot,
// then every device — each kind built by its own module in devices/. What tsvirt does not do
// (seccomp sandbox, the master-key secret, CPU feature probing) is left out.
import type { DomainDef } from '../../conf/domain/index.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import type { CommandLineContext, DeviceBuildEnv } from './commandLineContext.js';
import { assignDeviceAliases } from './deviceAliases.js';
import { assignDomainAddresses, machineChipset } from './deviceAddresses.js';
import { findMachine } from './domainDefaults.js';
import { chrCommandLine } from './devices/chardev.js';
import { controllerCommandLine, controllersInOrder } from './devices/controller.js';
import { diskCommandLine, prepareDiskForStart } from './devices/disk.js';
import { audioCommandLine, graphicsCommandLine } from './devices/graphics.js';
import { hostdevCommandLine } from './devices/hostdev.js';
import { inputCommandLine } from './devices/input.js';
import { interfaceCommandLine, validateInterfaceForStart } from './devices/interface.js';
import { memballoonCommandLine } from './devices/memballoon.js';
import { panicCommandLine } from './devices/panic.js';
import { escapeOpt, jsonArg } from './devices/qemuProps.js';
import { rngCommandLine } from './devices/rng.js';
import { soundCommandLine } from './devices/sound.js';
import { videoCommandLine } from './devices/video.js';
import { watchdogCommandLine } from './devices/watchdog.js';

export type { CommandLineContext, DeviceBuildEnv } from './commandLineContext.js';

export interface QemuCommandLine {
  /** The emulator to run (def.devices.emulator). */
  binary: string;
  /** Its arguments, without argv[0]. */
  args: string[];
}

const X86 = new Set(['i686', 'x86_64']);

function unsupported(detail: string, fault?: { element?: string; attribute?: string; value?: string }): Error {
  return virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, detail, fault);
}

/**
 * What a start checks before it touches the host (qemuValidateDomainDef and the per-device
 * start checks): the accelerator is usable, the machine exists, every interface can be
 * connected as configured. The runtime calls it before creating taps; buildQemuCommandLine
 * calls it again.
 */
export function validateDomainForStart(def: DomainDef, caps: CommandLineContext['caps']): void {
  if (def.type === 'kvm' && !caps.kvm.enabled) {
    throw unsupported(`Emulator '${caps.binary}' does not support virt type 'kvm'`, { element: 'domain', attribute: 'type', value: 'kvm' });
  }
  if (def.type !== 'kvm' && def.type !== 'qemu') {
    throw unsupported(`Emulator '${caps.binary}' does not support virt type '${def.type}'`, { element: 'domain', attribute: 'type', value: def.type });
  }
  if (!def.os.machine || !findMachine(caps, def.os.machine)) {
    throw unsupported(`Emulator '${caps.binary}' does not support machine type '${def.os.machine ?? ''}'`, {
      element: 'os/type',
      attribute: 'machine',
      value: def.os.machine,
    });
  }
  if (def.maxMemory && (def.maxMemory.size || def.maxMemory.slots)) {
    throw unsupported('memory hotplug (<maxMemory>) is not supported by tsvirt', { element: 'maxMemory' });
  }
  if (def.cpu?.mode === 'host-passthrough' && def.type !== 'kvm') {
    throw unsupported(`CPU mode 'host-passthrough' for ${def.os.arch} qemu domain on ${def.os.arch} host is not supported by hypervisor`, {
      element: 'cpu',
      attribute: 'mode',
    });
  }
  // what tsvirt's command line cannot express is refused, never silently dropped
  const d = def.devices;
  for (const [what, list] of [
    ['tpm', d.tpms],
    ['redirdev', d.redirdevs],
    ['hub', d.hubs],
  ] as const) {
    if (list?.length) throw unsupported(`${what} devices are not supported by tsvirt's QEMU driver`, { element: what });
  }
  if (d.iommu) throw unsupported("iommu devices are not supported by tsvirt's QEMU driver", { element: 'iommu' });
  if (d.vsock) throw unsupported("vsock devices are not supported by tsvirt's QEMU driver", { element: 'vsock' });
  if (def.cpu?.numa?.length) throw unsupported("guest NUMA topology is not supported by tsvirt's QEMU driver", { element: 'cpu/numa' });
  const mb = def.memoryBacking;
  if (mb?.hugepages) throw unsupported("huge page backed memory is not supported by tsvirt's QEMU driver", { element: 'memoryBacking/hugepages' });
  if (mb?.source && mb.source !== 'anonymous') {
    throw unsupported(`memory source type '${mb.source}' is not supported by tsvirt's QEMU driver`, { element: 'memoryBacking/source', value: mb.source });
  }
  if (mb?.access === 'shared') throw unsupported("shared guest memory is not supported by tsvirt's QEMU driver", { element: 'memoryBacking/access' });
  for (const k of d.disks ?? []) {
    if (k.iotune && Object.keys(k.iotune).length) {
      throw unsupported(`disk I/O throttling (<iotune>) of disk '${k.target.dev}' is not supported by tsvirt's QEMU driver`, { element: 'disk/iotune' });
    }
    if (k.transient) throw unsupported(`transient disk '${k.target.dev}' is not supported by tsvirt's QEMU driver`, { element: 'disk/transient' });
  }
  const seen = new Set<string>();
  for (const g of def.devices.graphics ?? []) {
    if (seen.has(g.type)) throw unsupported('only 1 graphics device of each type (sdl, vnc, spice, headless, dbus) is supported', { element: 'graphics' });
    seen.add(g.type);
  }
  for (const n of def.devices.interfaces ?? []) validateInterfaceForStart(n);
}

/**
 * Which device boots in which order: <boot order> where given, else <os><boot dev>: the first
 * disk for 'hd', the first cdrom, floppy or NIC for 'cdrom', 'fd', 'network' (libvirt 9.0's
 * qemuProcessPrepareDomainDiskBootorder and the NIC's counterpart).
 */
export function bootIndexes(def: DomainDef): Map<object, number> {
  const out = new Map<object, number>();
  const d = def.devices;
  const explicit = [...(d.disks ?? []), ...(d.interfaces ?? []), ...(d.hostdevs ?? [])].filter((x) => x.boot);
  if (explicit.length) {
    for (const x of explicit) out.set(x, x.boot!.order);
    return out;
  }
  def.os.boot.forEach((dev, i) => {
    let target: object | undefined;
    if (dev === 'network') target = (d.interfaces ?? [])[0];
    else {
      const want = dev === 'hd' ? 'disk' : dev === 'cdrom' ? 'cdrom' : 'floppy';
      target = (d.disks ?? []).find((k) => k.device === want);
    }
    if (target && !out.has(target)) out.set(target, i + 1);
  });
  return out;
}

function machineArg(def: DomainDef, ramId: string | undefined): string {
  let s = `${def.os.machine!},usb=off`;
  if (def.features.vmport !== undefined) s += `,vmport=${def.features.vmport ? 'on' : 'off'}`;
  s += `,dump-guest-core=${def.memoryDumpCore ? 'on' : 'off'}`;
  if (ramId) s += `,memory-backend=${ramId}`;
  return s;
}

function cpuArg(def: DomainDef): string | undefined {
  const cpu = def.cpu;
  if (!cpu) return undefined;
  let s: string;
  switch (cpu.mode) {
    case 'host-passthrough':
    case 'host-model':
      // without CPU model probing, host-model runs as the host's CPU (what it expands to on a
      // homogeneous host)
      s = 'host';
      if (cpu.migratable !== undefined) s += `,migratable=${cpu.migratable ? 'on' : 'off'}`;
      break;
    case 'maximum':
      s = 'max';
      break;
    default:
      if (!cpu.model) return undefined;
      s = cpu.model;
  }
  for (const f of cpu.features) {
    s += `,${f.name}=${f.policy === 'disable' || f.policy === 'forbid' ? 'off' : 'on'}`;
  }
  return s;
}

function smpArg(def: DomainDef): string {
  const max = def.vcpu.count;
  const cur = def.vcpu.current ?? max;
  const t = def.cpu?.topology;
  let s = `${cur}`;
  if (cur !== max) s += `,maxcpus=${max}`;
  if (t) {
    s += `,sockets=${t.sockets}`;
    s += `,dies=${t.dies}`;
    s += `,cores=${t.cores},threads=${t.threads}`;
  } else s += `,sockets=${max},cores=1,threads=1`;
  return s;
}

function rtcArg(def: DomainDef): string {
  const c = def.clock;
  let s: string;
  switch (c.offset) {
    case 'localtime':
      s = 'base=localtime';
      break;
    case 'variable': {
      const secs = Number(c.adjustment ?? 0n);
      const when = new Date(Date.now() + secs * 1000);
      s = `base=${when.toISOString().slice(0, 19)}`;
      break;
    }
    case 'utc':
      s = 'base=utc';
      break;
    default:
      throw unsupported(`unsupported clock offset '${c.offset}'`, { element: 'clock', attribute: 'offset', value: c.offset });
  }
  const rtc = c.timers.find((t) => t.name === 'rtc');
  if (rtc?.tickpolicy === 'catchup') s += ',driftfix=slew';
  return s;
}

/** The PIT's lost-tick policy and a missing HPET (qemuBuildClockCommandLine). */
function timerArgs(def: DomainDef): string[] {
  const out: string[] = [];
  for (const t of def.clock.timers) {
    if (t.name === 'pit' && t.tickpolicy) {
      if (t.tickpolicy === 'delay' || t.tickpolicy === 'discard') out.push('-global', `kvm-pit.lost_tick_policy=${t.tickpolicy}`);
      else throw unsupported(`unsupported pit tickpolicy '${t.tickpolicy}'`, { element: 'clock/timer', attribute: 'tickpolicy', value: t.tickpolicy });
    }
  }
  if (def.clock.timers.some((t) => t.name === 'hpet' && t.present === false)) out.push('-no-hpet');
  return out;
}

/** <pm>: S3/S4 offered to the guest, on the chipset's power management function. */
function pmArgs(def: DomainDef): string[] {
  const pm = def.pm;
  if (!pm) return [];
  const dev = machineChipset(def.os.machine) === 'q35' ? 'ICH9-LPC' : 'PIIX4_PM';
  const out: string[] = [];
  if (pm.suspendToMem !== undefined) out.push('-global', `${dev}.disable_s3=${pm.suspendToMem ? 0 : 1}`);
  if (pm.suspendToDisk !== undefined) out.push('-global', `${dev}.disable_s4=${pm.suspendToDisk ? 0 : 1}`);
  return out;
}

function bootArg(def: DomainDef): string {
  const parts: string[] = [];
  const bm = def.os.bootmenu;
  if (bm?.enable !== undefined) {
    parts.push(`menu=${bm.enable ? 'on' : 'off'}`);
    if (bm.timeout !== undefined) parts.push(`splash-time=${bm.timeout}`);
  }
  if (def.os.bios?.rebootTimeout !== undefined) parts.push(`reboot-timeout=${def.os.bios.rebootTimeout}`);
  parts.push('strict=on');
  return parts.join(',');
}

/**
 * Builds QEMU's command line for starting `def`. `def` is the live definition: the builder fills
 * in what libvirt fills in at start and keeps in the live XML — device aliases, addresses still
 * missing (devices added since define), memory rounded up to whole MiB.
 */
export function buildQemuCommandLine(def: DomainDef, ctx: CommandLineContext): QemuCommandLine {
  const caps = ctx.caps;
  validateDomainForStart(def, caps);
  assignDomainAddresses(def);
  assignDeviceAliases(def);
  // QEMU sizes x86 RAM in whole MiB (qemuDomainAlignMemorySizes)
  def.memory = Math.ceil(def.memory / 1024) * 1024;
  if (def.currentMemory > def.memory) def.currentMemory = def.memory;

  const machine = findMachine(caps, def.os.machine!)!;
  const ramId = machine.defaultRamId;
  const env: DeviceBuildEnv = { def, caps, ctx, bootIndex: bootIndexes(def) };
  const a: string[] = [];
  const d = def.devices;

  a.push('-name', `guest=${escapeOpt(ctx.vmName)},debug-threads=on`);
  a.push('-S');
  a.push('-machine', machineArg(def, ramId));
  a.push('-accel', def.type === 'kvm' ? 'kvm' : 'tcg');
  const cpu = cpuArg(def);
  if (cpu) a.push('-cpu', cpu);
  if (def.os.loader?.path) {
    if (def.os.loader.type === 'pflash') throw unsupported('pflash firmware is not supported by tsvirt', { element: 'os/loader' });
    a.push('-bios', def.os.loader.path);
  }
  a.push('-m', String(def.memory / 1024));
  if (ramId) a.push('-object', jsonArg({ 'qom-type': 'memory-backend-ram', id: ramId, size: def.memory * 1024 }));
  a.push('-overcommit', `mem-lock=${def.memoryBacking?.locked ? 'on' : 'off'}`);
  a.push('-smp', smpArg(def));
  a.push('-uuid', def.uuid);
  if (!(d.graphics ?? []).length) a.push('-display', 'none');
  a.push('-no-user-config', '-nodefaults');
  const monitor = ctx.qmpFd !== undefined ? `fd=${ctx.qmpFd}` : `path=${escapeOpt(ctx.qmpSocket)}`;
  a.push('-chardev', `socket,id=charmonitor,${monitor},server=on,wait=off`);
  a.push('-mon', 'chardev=charmonitor,id=monitor,mode=control');
  a.push('-rtc', rtcArg(def));
  a.push(...timerArgs(def));
  a.push('-no-shutdown');
  if (X86.has(def.os.arch) && !def.features.acpi) a.push('-no-acpi');
  a.push(...pmArgs(def));
  a.push('-boot', bootArg(def));
  if (def.os.kernel) a.push('-kernel', def.os.kernel);
  if (def.os.initrd) a.push('-initrd', def.os.initrd);
  if (def.os.cmdline) a.push('-append', def.os.cmdline);
  if (def.os.dtb) a.push('-dtb', def.os.dtb);

  for (const c of controllersInOrder(d.controllers ?? [])) a.push(...controllerCommandLine(c, env));
  const disks = d.disks ?? [];
  disks.forEach((k, i) => {
    a.push(...diskCommandLine(k, env, disks.length - i));
    prepareDiskForStart(k, disks.length - i);
  });
  // a hostdev interface is passed through with the hostdevs, ahead of them
  const netHostdevs = (d.interfaces ?? []).filter((n) => n.type === 'hostdev');
  for (const n of d.interfaces ?? []) if (n.type !== 'hostdev') a.push(...interfaceCommandLine(n, env));
  for (const s of d.serials ?? []) a.push(...chrCommandLine(s, env));
  for (const p of d.parallels ?? []) a.push(...chrCommandLine(p, env));
  for (const c of d.channels ?? []) a.push(...chrCommandLine(c, env));
  for (const c of d.consoles ?? []) a.push(...chrCommandLine(c, env));
  for (const i of d.inputs ?? []) a.push(...inputCommandLine(i, env));
  for (const au of d.audios ?? []) a.push(...audioCommandLine(au));
  for (const g of d.graphics ?? []) a.push(...graphicsCommandLine(g, env));
  (d.videos ?? []).forEach((v, i) => a.push(...videoCommandLine(v, env, i === 0)));
  for (const s of d.sounds ?? []) a.push(...soundCommandLine(s, env));
  for (const w of d.watchdogs ?? []) a.push(...watchdogCommandLine(w, env));
  for (const n of netHostdevs) a.push(...interfaceCommandLine(n, env));
  for (const h of d.hostdevs ?? []) a.push(...hostdevCommandLine(h, env));
  if (d.memballoon) a.push(...memballoonCommandLine(d.memballoon, env));
  for (const r of d.rngs ?? []) a.push(...rngCommandLine(r, env));
  // after the (left out) -sandbox, as libvirt
  for (const p of d.panics ?? []) a.push(...panicCommandLine(p));
  a.push('-msg', 'timestamp=on');

  const binary = d.emulator ?? caps.binary;
  return { binary, args: a };
}
