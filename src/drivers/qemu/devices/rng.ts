// <rng> on QEMU's command line: the entropy source as -object (rng-random reading a host file,
// rng-builtin, rng-egd over a chardev) and virtio-rng-pci taking from it.
import type { RngDef } from '../../../conf/domain/rng.js';
import type { DeviceBuildEnv } from '../commandLineContext.js';
import { chardevArg } from './chardev.js';
import { addressProps, aliasOf, deviceArgs, jsonArg, type QemuProps } from './qemuProps.js';

export function rngObjectProps(rng: RngDef): QemuProps {
  const alias = aliasOf(rng, 'rng');
  const id = `obj${alias}`;
  switch (rng.backend.model) {
    case 'random':
      return { 'qom-type': 'rng-random', id, filename: rng.backend.file ?? '/dev/random' };
    case 'builtin':
      return { 'qom-type': 'rng-builtin', id };
    case 'egd':
      return { 'qom-type': 'rng-egd', id, chardev: `char${alias}` };
  }
}

export function rngDeviceProps(rng: RngDef, env: DeviceBuildEnv): QemuProps {
  const alias = aliasOf(rng, 'rng');
  const driver = rng.model === 'virtio' ? 'virtio-rng-pci' : `virtio-rng-pci-${rng.model === 'virtio-transitional' ? 'transitional' : 'non-transitional'}`;
  const p: QemuProps = { driver, rng: `obj${alias}`, id: alias };
  if (rng.rate) {
    p['max-bytes'] = rng.rate.bytes;
    p.period = rng.rate.period ?? 1000;
  }
  return { ...p, ...addressProps(env.def, rng) };
}

export function rngCommandLine(rng: RngDef, env: DeviceBuildEnv): string[] {
  const out: string[] = [];
  if (rng.backend.model === 'egd' && rng.backend.egd) out.push('-chardev', chardevArg(`char${aliasOf(rng, 'rng')}`, rng.backend.egd, env.ctx));
  out.push('-object', jsonArg(rngObjectProps(rng)), ...deviceArgs(rngDeviceProps(rng, env)));
  return out;
}
