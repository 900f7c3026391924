// <input> on QEMU's command line: USB and virtio tablets, mice and keyboards. The PS/2 mouse and
// keyboard are the i8042's, built into PC machines, and have no arguments.
import type { InputDef } from '../../../conf/domain/input.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../../errors/index.js';
import type { DeviceBuildEnv } from '../commandLineContext.js';
import { addressProps, aliasOf, deviceArgs, type QemuProps } from './qemuProps.js';

const USB: Record<string, string> = { mouse: 'usb-mouse', tablet: 'usb-tablet', keyboard: 'usb-kbd' };
const VIRTIO: Record<string, string> = { mouse: 'virtio-mouse', tablet: 'virtio-tablet', keyboard: 'virtio-keyboard' };

export function inputDeviceProps(input: InputDef, env: DeviceBuildEnv): QemuProps | undefined {
  const id = aliasOf(input, 'input');
  if (input.bus === 'ps2') return undefined;
  if (input.bus === 'usb' && USB[input.type]) return { driver: USB[input.type], id, ...addressProps(env.def, input) };
  if (input.bus === 'virtio' && VIRTIO[input.type]) {
    const suffix = input.model === 'virtio-transitional' ? '-pci-transitional' : input.model === 'virtio-non-transitional' ? '-pci-non-transitional' : '-pci';
    return { driver: `${VIRTIO[input.type]}${suffix}`, id, ...addressProps(env.def, input) };
  }
  if (input.type === 'passthrough' && input.bus === 'virtio' && input.source?.evdev) {
    return { driver: 'virtio-input-host-pci', id, evdev: input.source.evdev, ...addressProps(env.def, input) };
  }
  throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, `input device ${input.type} on bus ${input.bus} is not supported`, {
    element: 'input',
  });
}

export function inputCommandLine(input: InputDef, env: DeviceBuildEnv): string[] {
  const p = inputDeviceProps(input, env);
  return p ? deviceArgs(p) : [];
}
