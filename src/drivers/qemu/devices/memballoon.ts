// <memballoon> on QEMU's command line: the virtio balloon; model 'none' leaves it out.
import type { MemballoonDef } from '../../../conf/domain/memballoon.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../../errors/index.js';
import type { DeviceBuildEnv } from '../commandLineContext.js';
import { addressProps, aliasOf, deviceArgs, type QemuProps } from './qemuProps.js';

export function memballoonDeviceProps(b: MemballoonDef, env: DeviceBuildEnv): QemuProps | undefined {
  if (b.model === 'none') return undefined;
  const driver =
    b.model === 'virtio' ? 'virtio-balloon-pci' : b.model === 'virtio-transitional' ? 'virtio-balloon-pci-transitional' : b.model === 'virtio-non-transitional' ? 'virtio-balloon-pci-non-transitional' : undefined;
  if (!driver) throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, `Memory balloon device type '${b.model}' is not supported by this version of qemu`);
  const p: QemuProps = { driver, id: aliasOf(b, 'memballoon') };
  if (b.autodeflate !== undefined) p['deflate-on-oom'] = b.autodeflate;
  if (b.freePageReporting !== undefined) p['free-page-reporting'] = b.freePageReporting;
  return { ...p, ...addressProps(env.def, b) };
}

export function memballoonCommandLine(b: MemballoonDef, env: DeviceBuildEnv): string[] {
  const p = memballoonDeviceProps(b, env);
  return p ? deviceArgs(p) : [];
}
