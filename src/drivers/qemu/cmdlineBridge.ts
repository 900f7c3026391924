// TEMPORARY: the QEMU driver's seam to the qemu-cmdline branch (domain defaults, aliases, the
// command line). Until that branch is merged this holds a minimal stand-in good for the test
// guest; once merged, this file only re-exports qemu-cmdline's functions.
import type { DomainDef, DomainDeviceDef, DomainDriverDefaults } from '../../conf/domain/index.js';
import type { InterfaceDef } from '../../conf/domain/interface.js';
import { isVirtioModel } from '../../conf/domain/interface.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import type { QemuCaps } from './capabilities.js';
import { join } from 'node:path';

export interface QemuCapsSource {
  forBinary(path: string): QemuCaps | undefined;
  forArch(arch: string): QemuCaps | undefined;
}

export function qemuCapsSource(all: Iterable<QemuCaps>): QemuCapsSource {
  const byBinary = new Map<string, QemuCaps>();
  const byArch = new Map<string, QemuCaps>();
  for (const c of all) {
    byBinary.set(c.binary, c);
    if (!byArch.has(c.arch)) byArch.set(c.arch, c);
  }
  return { forBinary: (p) => byBinary.get(p), forArch: (a) => byArch.get(a) ?? (a === 'i686' ? byArch.get('x86_64') : undefined) };
}

export function capsForDomain(caps: QemuCapsSource, def: DomainDef): QemuCaps {
  const c = def.devices.emulator ? caps.forBinary(def.devices.emulator) : caps.forArch(def.os.arch);
  if (!c) {
    throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, `No emulator found for arch '${def.os.arch}'`);
  }
  return c;
}

export function qemuDomainDefaults(caps: QemuCapsSource): DomainDriverDefaults {
  return {
    features: { userAlias: true, netModelString: true },
    defArch: 'x86_64',
    netPrefix: 'vnet',
    domainPostParseBasic(def) {
      if (!def.devices.emulator) def.devices.emulator = capsForDomain(caps, def).binary;
    },
    domainPostParse(def) {
      const c = capsForDomain(caps, def);
      if (!def.os.machine) {
        const m = c.machines.find((x) => x.isDefault);
        def.os.machine = m?.name ?? 'pc';
      } else {
        const m = c.machines.find((x) => x.alias === def.os.machine);
        if (m) def.os.machine = m.name;
      }
    },
  };
}

export interface CommandLineContext {
  caps: QemuCaps;
  vmName: string;
  qmpSocket: string;
  chardevSocketDir: string;
  libDir: string;
  logDir: string;
  netFds: ReadonlyMap<string, readonly number[]>;
  vhostFds?: ReadonlyMap<string, readonly number[]>;
  ptyAsSocket?: boolean;
}

export function chardevSocketPath(ctx: CommandLineContext, alias: string): string {
  return join(ctx.chardevSocketDir, `${alias}.sock`);
}

export function assignDeviceAliases(def: DomainDef): void {
  (def.devices.interfaces ?? []).forEach((n, i) => {
    if (!n.alias) n.alias = `net${i}`;
  });
  (def.devices.serials ?? []).forEach((s, i) => {
    if (!s.alias) s.alias = `serial${i}`;
  });
  (def.devices.consoles ?? []).forEach((s, i) => {
    if (!s.alias) s.alias = i === 0 && def.devices.serials?.length ? 'serial0' : `console${i}`;
  });
}

export function assignHotplugAlias(def: DomainDef, dev: DomainDeviceDef): void {
  if (dev.kind === 'interface' && !dev.def.alias) {
    const used = new Set((def.devices.interfaces ?? []).map((n) => n.alias));
    let i = 0;
    while (used.has(`net${i}`)) i++;
    dev.def.alias = `net${i}`;
  }
  if (dev.kind === 'disk' && !dev.def.alias) {
    const m = /^vd([a-z]+)$/.exec(dev.def.target.dev);
    dev.def.alias = `virtio-disk${m ? m[1]!.charCodeAt(0) - 97 : 0}`;
  }
}

export function assignHotplugAddress(def: DomainDef, dev: DomainDeviceDef): void {
  const info = dev.def as { address?: { type: string } };
  if (info.address || (dev.kind !== 'interface' && dev.kind !== 'disk')) return;
  if (dev.kind === 'disk' && dev.def.target.bus !== 'virtio') return;
  const used = new Set<number>([0, 1, 2]);
  const visit = (x: unknown): void => {
    const a = (x as { address?: { type?: string; bus?: number; slot?: number } }).address;
    if (a?.type === 'pci' && a.bus === 0 && a.slot !== undefined) used.add(a.slot);
  };
  for (const list of Object.values(def.devices)) {
    if (Array.isArray(list)) list.forEach(visit);
    else if (list && typeof list === 'object') visit(list);
  }
  let slot = 3;
  while (used.has(slot) && slot < 32) slot++;
  (dev.def as { address?: unknown }).address = { type: 'pci', domain: 0, bus: 0, slot, function: 0 };
}

export function interfaceUsesTapFd(net: InterfaceDef): boolean {
  const t = net.type === 'network' && net.actual ? net.actual.type : net.type;
  return t === 'ethernet' || t === 'bridge' || t === 'network' || t === 'direct';
}

export function validateInterfaceForStart(_net: InterfaceDef): void {}

const q = (v: string): string => v.replace(/,/g, ',,');

export function netdevProps(net: InterfaceDef, ctx: CommandLineContext): Record<string, unknown> {
  const id = `host${net.alias}`;
  if (interfaceUsesTapFd(net)) {
    const fds = ctx.netFds.get(net.alias!) ?? [];
    return fds.length > 1
      ? { type: 'tap', fds: fds.join(':'), id, vhost: false }
      : { type: 'tap', fd: String(fds[0]), id, vhost: false };
  }
  if (net.type === 'user') return { type: 'user', id };
  throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, `interface type '${net.type}' is not supported`);
}

export function netDeviceProps(net: InterfaceDef): Record<string, unknown> {
  const model = net.model ?? 'rtl8139';
  const driver = isVirtioModel(model) ? 'virtio-net-pci' : model === 'e1000' ? 'e1000' : model;
  const props: Record<string, unknown> = { driver, netdev: `host${net.alias}`, id: net.alias, mac: net.mac.address };
  if (net.link?.state === 'down') props.link_state = 'down'; // not a real QEMU prop name; see below
  delete props.link_state;
  if (net.rom?.enabled === false || isVirtioModel(model)) props.romfile = '';
  return props;
}

export function buildQemuCommandLine(def: DomainDef, ctx: CommandLineContext): { binary: string; args: string[] } {
  const accel = def.type === 'kvm' ? 'kvm' : 'tcg';
  const args = [
    '-name', `guest=${ctx.vmName},debug-threads=on`,
    '-S',
    '-machine', `${def.os.machine ?? 'pc'},usb=off,dump-guest-core=off`,
    '-accel', accel,
    '-m', String(Math.floor(def.memory / 1024)),
    '-smp', String(def.vcpu.current ?? def.vcpu.count),
    '-uuid', def.uuid,
    '-display', 'none',
    '-no-user-config',
    '-nodefaults',
    '-chardev', `socket,id=charmonitor,path=${q(ctx.qmpSocket)},server=on,wait=off`,
    '-mon', 'chardev=charmonitor,id=monitor,mode=control',
    '-rtc', 'base=utc',
    '-no-shutdown',
    '-boot', 'strict=on',
  ];
  if (def.onReboot === 'destroy') args.push('-no-reboot');
  if (def.os.kernel) args.push('-kernel', def.os.kernel);
  if (def.os.initrd) args.push('-initrd', def.os.initrd);
  if (def.os.cmdline) args.push('-append', def.os.cmdline);
  for (const net of def.devices.interfaces ?? []) {
    args.push('-netdev', JSON.stringify(netdevProps(net, ctx)));
    args.push('-device', JSON.stringify(netDeviceProps(net)));
  }
  for (const s of def.devices.serials ?? []) {
    const id = `char${s.alias}`;
    if (s.source.type === 'pty' && ctx.ptyAsSocket) {
      args.push('-chardev', `socket,id=${id},path=${q(chardevSocketPath(ctx, s.alias!))},server=on,wait=off`);
    } else if (s.source.type === 'pty') {
      args.push('-chardev', `pty,id=${id}`);
    } else if (s.source.type === 'unix' && s.source.path) {
      args.push('-chardev', `socket,id=${id},path=${q(s.source.path)},server=on,wait=off`);
    } else {
      args.push('-chardev', `null,id=${id}`);
    }
    args.push('-device', JSON.stringify({ driver: 'isa-serial', chardev: id, id: s.alias, index: s.target.port ?? 0 }));
  }
  for (const p of def.devices.panics ?? []) {
    void p;
    args.push('-device', JSON.stringify({ driver: 'pvpanic' }));
  }
  args.push('-msg', 'timestamp=on');
  return { binary: def.devices.emulator ?? ctx.caps.binary, args };
}
