// Pieces every device builder writes the same way: where a device sits on the guest's buses
// (bus/addr properties), QEMU's option quoting, and the JSON form of -device/-object values.
import type { DeviceInfo, DomainDef } from '../../../conf/domain/index.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../../errors/index.js';
import { controllerAlias } from '../deviceAliases.js';

/** Properties of a -device, -netdev, -blockdev or -object value, in the order QEMU gets them. */
export type QemuProps = Record<string, unknown>;

/** QEMU's option syntax doubles commas inside a value. */
export function escapeOpt(v: string): string {
  return v.replace(/,/g, ',,');
}

/** A JSON -device/-object/-netdev/-blockdev argument (QEMU 7.2 takes JSON for all four). */
export function jsonArg(props: QemuProps): string {
  return JSON.stringify(props);
}

/** Drops properties whose value is undefined, keeping the order of the rest. */
export function compact(props: QemuProps): QemuProps {
  const out: QemuProps = {};
  for (const [k, v] of Object.entries(props)) if (v !== undefined) out[k] = v;
  return out;
}

/** The alias of a device, which the builder needs as QEMU's id. */
export function aliasOf(info: DeviceInfo, what: string): string {
  if (!info.alias) throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, `${what} has no alias`);
  return info.alias;
}

/**
 * bus/addr of a device on PCI or USB (qemuBuildDeviceAddressProps): {"bus":"pci.0","addr":"0x3"},
 * {"bus":"usb.0","port":"1"}; nothing for devices without an address.
 */
export function addressProps(def: DomainDef, info: DeviceInfo): QemuProps {
  const a = info.address;
  if (!a) return {};
  if (a.type === 'pci') {
    const cont = def.devices.controllers?.find((c) => c.type === 'pci' && c.index === a.bus);
    const bus = cont?.alias ?? (cont ? controllerAlias(cont) : `pci.${a.bus}`);
    const out: QemuProps = { bus };
    if (a.multifunction !== undefined) out.multifunction = a.multifunction;
    out.addr = a.function ? `0x${a.slot.toString(16)}.0x${a.function.toString(16)}` : `0x${a.slot.toString(16)}`;
    return out;
  }
  if (a.type === 'usb') {
    const cont = def.devices.controllers?.find((c) => c.type === 'usb' && c.index === a.bus);
    const bus = cont?.alias ?? `usb${a.bus === 0 ? '' : a.bus}`;
    return a.port ? { bus: `${bus}.0`, port: a.port } : { bus: `${bus}.0` };
  }
  if (a.type === 'virtio-serial') {
    const cont = def.devices.controllers?.find((c) => c.type === 'virtio-serial' && c.index === a.controller);
    const bus = cont?.alias ?? `virtio-serial${a.controller}`;
    return { bus: `${bus}.${a.bus}`, nr: a.port };
  }
  return {};
}

/** The -device argument pair for a JSON device. */
export function deviceArgs(props: QemuProps): string[] {
  return ['-device', jsonArg(props)];
}
