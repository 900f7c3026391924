// <serial>, <parallel>, <console>, <channel> on QEMU's command line: a -chardev for the host
// side (pty, file, unix or tcp socket, …) and a -device for the guest side (isa-serial,
// virtconsole, virtserialport, …). Console 0 of an HVM guest is serial 0 and has no own args.
import { join } from 'node:path';
import type { ChrDef, ChrSourceDef } from '../../../conf/domain/chardev.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../../errors/index.js';
import { consoleChardevArg } from '../console.js';
import type { CommandLineContext, DeviceBuildEnv } from '../commandLineContext.js';
import { addressProps, aliasOf, deviceArgs, escapeOpt, type QemuProps } from './qemuProps.js';

function unsupported(detail: string, value?: string): Error {
  return virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, detail, { value });
}

/** The unix socket a pty chardev is served on when ctx.ptyAsSocket: '<dir>/<chardev id>.sock'. */
export function chardevSocketPath(ctx: Pick<CommandLineContext, 'chardevSocketDir'>, chardevId: string): string {
  return join(ctx.chardevSocketDir, `${chardevId}.sock`);
}

function logSuffix(src: ChrSourceDef): string {
  if (!src.log) return '';
  let s = `,logfile=${escapeOpt(src.log.file)}`;
  if (src.log.append !== undefined) s += `,logappend=${src.log.append ? 'on' : 'off'}`;
  return s;
}

/** The -chardev value of a character device's host side (qemuBuildChardevCommand). */
export function chardevArg(id: string, src: ChrSourceDef, ctx: CommandLineContext): string {
  const q = escapeOpt;
  switch (src.type) {
    case 'pty':
      if (ctx.ptyAsSocket) {
        return consoleChardevArg(id, chardevSocketPath(ctx, id), src.log ? { logFile: src.log.file, logAppend: src.log.append } : {});
      }
      return `pty,id=${q(id)}${logSuffix(src)}`;
    case 'null':
    case 'vc':
    case 'stdio':
      return `${src.type},id=${q(id)}${logSuffix(src)}`;
    case 'file': {
      let s = `file,id=${q(id)},path=${q(src.path ?? '')}`;
      if (src.append !== undefined) s += `,append=${src.append ? 'on' : 'off'}`;
      return s + logSuffix(src);
    }
    case 'pipe':
      return `pipe,id=${q(id)},path=${q(src.path ?? '')}${logSuffix(src)}`;
    case 'dev':
      return `tty,id=${q(id)},path=${q(src.path ?? '')}${logSuffix(src)}`;
    case 'unix': {
      let s = `socket,id=${q(id)},path=${q(src.path ?? '')}`;
      if (src.mode !== 'connect') s += ',server=on,wait=off';
      else if (src.reconnect?.enabled) s += `,reconnect=${src.reconnect.timeout ?? 0}`;
      return s + logSuffix(src);
    }
    case 'tcp': {
      let s = `socket,id=${q(id)},host=${q(src.host ?? '')},port=${q(src.service ?? '')}`;
      if (src.protocol === 'telnet') s += ',telnet=on';
      if (src.mode !== 'connect') s += ',server=on,wait=off';
      else if (src.reconnect?.enabled) s += `,reconnect=${src.reconnect.timeout ?? 0}`;
      return s + logSuffix(src);
    }
    case 'udp': {
      let s = `udp,id=${q(id)},host=${q(src.connectHost ?? '')},port=${q(src.connectService ?? '')}`;
      if (src.bindHost || src.bindService) s += `,localaddr=${q(src.bindHost ?? '')},localport=${q(src.bindService ?? '')}`;
      return s + logSuffix(src);
    }
    default:
      throw unsupported(`Unsupported char device type '${src.type}'`, src.type);
  }
}

const SERIAL_DRIVERS: Record<string, string> = {
  'isa-serial': 'isa-serial',
  'usb-serial': 'usb-serial',
  'pci-serial': 'pci-serial',
  'isa-debug': 'isa-debugcon',
};

/** The -device value of a character device's guest side; undefined when it has none. */
export function chrDeviceProps(chr: ChrDef, env: DeviceBuildEnv): QemuProps | undefined {
  const alias = aliasOf(chr, chr.deviceType);
  const chardev = `char${alias}`;
  switch (chr.deviceType) {
    case 'serial': {
      const t = chr.target.type ?? 'isa-serial';
      const driver = SERIAL_DRIVERS[chr.target.model ?? t] ?? SERIAL_DRIVERS[t];
      if (!driver) throw unsupported(`serial target type '${t}' is not supported`, t);
      const p: QemuProps = { driver, chardev, id: alias };
      if (driver === 'isa-serial') p.index = chr.target.port ?? 0;
      if (driver === 'isa-debugcon') p.iobase = 0x402;
      return { ...p, ...addressProps(env.def, chr) };
    }
    case 'parallel':
      return { driver: 'isa-parallel', chardev, id: alias, index: chr.target.port ?? 0 };
    case 'console':
      if (chr.target.type === 'serial') return undefined;
      if (chr.target.type !== 'virtio') throw unsupported(`console target type '${chr.target.type}' is not supported`, chr.target.type);
      return { driver: 'virtconsole', ...addressProps(env.def, chr), chardev, id: alias };
    case 'channel': {
      if (chr.target.type !== 'virtio') throw unsupported(`channel target type '${chr.target.type}' is not supported`, chr.target.type);
      const p: QemuProps = { driver: 'virtserialport', ...addressProps(env.def, chr), chardev, id: alias };
      if (chr.target.name) p.name = chr.target.name;
      return p;
    }
    default:
      return undefined;
  }
}

/** -chardev and -device of one character device. */
export function chrCommandLine(chr: ChrDef, env: DeviceBuildEnv): string[] {
  // console 0 standing for serial 0 is written with the serial
  if (chr.deviceType === 'console' && chr.target.type === 'serial') return [];
  const alias = aliasOf(chr, chr.deviceType);
  // a listening unix socket without a path gets one in the chardev directory, named after the
  // channel (qemuDomainPrepareChannel); the live definition shows it
  if (chr.source.type === 'unix' && !chr.source.path && chr.source.mode !== 'connect') {
    chr.source.path = join(env.ctx.chardevSocketDir, chr.target.name ?? `char${alias}.sock`);
  }
  const out = ['-chardev', chardevArg(`char${alias}`, chr.source, env.ctx)];
  const dev = chrDeviceProps(chr, env);
  if (dev) out.push(...deviceArgs(dev));
  return out;
}
