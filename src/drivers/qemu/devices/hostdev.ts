// <hostdev> on QEMU's command line: a host PCI device given to the guest with vfio-pci. The
// runtime detaches it from its host driver (managed='yes') before start.
import type { HostdevDef } from '../../../conf/domain/hostdev.js';
import { pciAddressString } from '../../../conf/domain/deviceAddress.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../../errors/index.js';
import type { DeviceBuildEnv } from '../commandLineContext.js';
import { addressProps, aliasOf, deviceArgs, type QemuProps } from './qemuProps.js';

export function hostdevDeviceProps(h: HostdevDef, env: DeviceBuildEnv): QemuProps {
  const id = aliasOf(h, 'hostdev');
  if (h.mode !== 'subsystem' || h.source.type !== 'pci') {
    throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, `host device type '${h.source.type}' is not supported by tsvirt's QEMU driver`, {
      element: 'hostdev',
    });
  }
  if (h.source.driver && h.source.driver !== 'vfio') {
    throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, `host PCI device driver '${h.source.driver}' is not supported, only vfio`, {
      element: 'hostdev/driver',
    });
  }
  const p: QemuProps = { driver: 'vfio-pci', host: pciAddressString(h.source.address), id };
  const bootindex = env.bootIndex.get(h);
  if (bootindex !== undefined) p.bootindex = bootindex;
  Object.assign(p, addressProps(env.def, h));
  if (h.rom?.enabled === false) p.romfile = '';
  else {
    if (h.rom?.bar !== undefined) p.rombar = h.rom.bar ? 1 : 0;
    if (h.rom?.file !== undefined) p.romfile = h.rom.file;
  }
  return p;
}

export function hostdevCommandLine(h: HostdevDef, env: DeviceBuildEnv): string[] {
  return deviceArgs(hostdevDeviceProps(h, env));
}
