// <video> on QEMU's command line: the display adapter (cirrus-vga, VGA, virtio-vga, bochs, …).
// The primary adapter takes the VGA variant of its model; model 'none' has no device.
import type { VideoDef } from '../../../conf/domain/video.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../../errors/index.js';
import type { DeviceBuildEnv } from '../commandLineContext.js';
import { addressProps, aliasOf, deviceArgs, type QemuProps } from './qemuProps.js';

const PRIMARY: Record<string, string> = {
  vga: 'VGA',
  cirrus: 'cirrus-vga',
  vmvga: 'vmware-svga',
  qxl: 'qxl-vga',
  virtio: 'virtio-vga',
  bochs: 'bochs-display',
  ramfb: 'ramfb',
};
const SECONDARY: Record<string, string> = { qxl: 'qxl', virtio: 'virtio-gpu-pci', bochs: 'bochs-display', vga: 'secondary-vga' };

export function videoDeviceProps(v: VideoDef, env: DeviceBuildEnv, primary: boolean): QemuProps | undefined {
  const t = v.model.type ?? 'cirrus';
  if (t === 'none') return undefined;
  const driver = (primary ? PRIMARY : SECONDARY)[t];
  if (!driver) {
    throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, `video type ${t} is not supported with QEMU`, {
      element: 'video/model',
      attribute: 'type',
      value: t,
    });
  }
  const p: QemuProps = { driver, id: aliasOf(v, 'video') };
  const mib = (kib: number | undefined): number | undefined => (kib ? Math.floor(kib / 1024) : undefined);
  if (t === 'vga' || t === 'vmvga') {
    const vgamem = mib(v.model.vram);
    if (vgamem) p.vgamem_mb = vgamem;
  } else if (t === 'qxl') {
    if (v.model.ram) p.ram_size = v.model.ram * 1024;
    if (v.model.vram) p.vram_size = v.model.vram * 1024;
    if (v.model.vram64) p.vram64_size_mb = mib(v.model.vram64);
    if (v.model.vgamem) p.vgamem_mb = mib(v.model.vgamem);
  } else if (t === 'virtio' && v.model.heads) {
    p.max_outputs = v.model.heads;
  }
  if (t !== 'ramfb') Object.assign(p, addressProps(env.def, v));
  return p;
}

export function videoCommandLine(v: VideoDef, env: DeviceBuildEnv, primary: boolean): string[] {
  const p = videoDeviceProps(v, env, primary);
  return p ? deviceArgs(p) : [];
}
