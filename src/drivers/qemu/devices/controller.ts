// <controller> on QEMU's command line: USB host controllers, SCSI/SATA HBAs, virtio-serial,
// PCI bridges. The chipset's own controllers (pci-root, the PIIX3's IDE, the FDC) have none.
import type { ControllerDef } from '../../../conf/domain/controller.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../../errors/index.js';
import type { DeviceBuildEnv } from '../commandLineContext.js';
import { machineChipset } from '../deviceAddresses.js';
import { addressProps, aliasOf, deviceArgs, type QemuProps } from './qemuProps.js';

const USB_DRIVERS: Record<string, string> = {
  'piix3-uhci': 'piix3-usb-uhci',
  'piix4-uhci': 'piix4-usb-uhci',
  ehci: 'usb-ehci',
  'ich9-ehci1': 'ich9-usb-ehci1',
  'ich9-uhci1': 'ich9-usb-uhci1',
  'ich9-uhci2': 'ich9-usb-uhci2',
  'ich9-uhci3': 'ich9-usb-uhci3',
  'vt82c686b-uhci': 'vt82c686b-usb-uhci',
  'pci-ohci': 'pci-ohci',
  'nec-xhci': 'nec-usb-xhci',
  'qemu-xhci': 'qemu-xhci',
};

const SCSI_DRIVERS: Record<string, string> = {
  lsilogic: 'lsi',
  'virtio-scsi': 'virtio-scsi-pci',
  'virtio-transitional': 'virtio-scsi-pci-transitional',
  'virtio-non-transitional': 'virtio-scsi-pci-non-transitional',
  lsisas1068: 'mptsas1068',
  lsisas1078: 'megasas',
  vmpvscsi: 'pvscsi',
  am53c974: 'am53c974',
  dc390: 'dc-390',
};

const PCI_DRIVERS: Record<string, string> = {
  'pci-bridge': 'pci-bridge',
  'pcie-root-port': 'pcie-root-port',
  'pcie-pci-bridge': 'pcie-pci-bridge',
  ioh3420: 'ioh3420',
  'i82801b11-bridge': 'i82801b11-bridge',
  'x3130-upstream': 'x3130-upstream',
  'xio3130-downstream': 'xio3130-downstream',
  pxb: 'pxb',
  'pxb-pcie': 'pxb-pcie',
};

function unsupported(detail: string): Error {
  return virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, detail, { element: 'controller' });
}

/** The -device value of a controller, or undefined when the machine has it built in. */
export function controllerDeviceProps(c: ControllerDef, env: DeviceBuildEnv): QemuProps | undefined {
  const chipset = machineChipset(env.def.os.machine);
  const id = aliasOf(c, 'controller');
  const addr = addressProps(env.def, c);
  switch (c.type) {
    case 'pci': {
      if (c.model === 'pci-root' || c.model === 'pcie-root') return undefined;
      const name = c.modelName ?? c.model ?? '';
      const driver = PCI_DRIVERS[name];
      if (!driver) throw unsupported(`PCI controller model '${c.model}' is not supported`);
      const t = c.target ?? {};
      const p: QemuProps = { driver };
      if (driver === 'pci-bridge') p.chassis_nr = t.chassisNr ?? c.index;
      if (driver === 'pcie-root-port' || driver === 'ioh3420' || driver === 'xio3130-downstream') {
        p.port = t.port ?? 0;
        p.chassis = t.chassis ?? c.index;
      }
      if (t.hotplug === false) p.hotplug = false;
      p.id = id;
      return { ...p, ...addr };
    }
    case 'usb': {
      if (c.model === 'none') return undefined;
      const driver = USB_DRIVERS[c.model ?? 'piix3-uhci'];
      if (!driver) throw unsupported(`USB controller model '${c.model}' is not supported`);
      const p: QemuProps = { driver };
      if (c.master) {
        p.masterbus = `${c.index === 0 ? 'usb' : `usb${c.index}`}.0`;
        p.firstport = c.master.startport;
      }
      if (c.ports && (driver === 'qemu-xhci' || driver === 'nec-usb-xhci')) {
        p.p2 = c.ports;
        p.p3 = c.ports;
      }
      // a USB2 companion is part of its master's bus, not a bus of its own
      if (!c.master) p.id = id;
      return { ...p, ...addr };
    }
    case 'scsi': {
      const driver = SCSI_DRIVERS[c.model ?? 'lsilogic'];
      if (!driver) throw unsupported(`SCSI controller model '${c.model}' is not supported`);
      const p: QemuProps = { driver, id };
      if (driver.startsWith('virtio-scsi')) {
        const d = c.driver ?? {};
        if (d.queues) p.num_queues = d.queues;
        if (d.cmdPerLun) p.cmd_per_lun = d.cmdPerLun;
        if (d.maxSectors) p.max_sectors = d.maxSectors;
        if (d.ioeventfd !== undefined) p.ioeventfd = d.ioeventfd;
      }
      return { ...p, ...addr };
    }
    case 'sata':
      // q35's first SATA controller is the ICH9's own
      if (chipset === 'q35' && c.index === 0) return undefined;
      return { driver: 'ahci', id, ...addr };
    case 'virtio-serial': {
      const driver =
        c.model === 'virtio-transitional' ? 'virtio-serial-pci-transitional' : c.model === 'virtio-non-transitional' ? 'virtio-serial-pci-non-transitional' : 'virtio-serial-pci';
      const p: QemuProps = { driver, id };
      if (c.ports !== undefined) p.max_ports = c.ports;
      if (c.vectors !== undefined) p.vectors = c.vectors;
      return { ...p, ...addr };
    }
    case 'ide':
      if (chipset === 'i440fx' && c.index === 0) return undefined;
      if (chipset === 'q35') throw unsupported('IDE controllers are unsupported for this QEMU binary or machine type');
      throw unsupported(`IDE controller with index ${c.index} is not supported`);
    case 'fdc':
    case 'isa':
      return undefined;
    default:
      throw unsupported(`controller type '${c.type}' is not supported by tsvirt's QEMU driver`);
  }
}

// libvirt writes controllers grouped by type in this order
const ORDER = ['pci', 'usb', 'scsi', 'ide', 'sata', 'virtio-serial', 'fdc', 'ccid', 'isa', 'xenbus'];

/** The controllers of a domain in command-line order. */
export function controllersInOrder(list: readonly ControllerDef[]): ControllerDef[] {
  return ORDER.flatMap((t) => list.filter((c) => c.type === t));
}

export function controllerCommandLine(c: ControllerDef, env: DeviceBuildEnv): string[] {
  const p = controllerDeviceProps(c, env);
  return p ? deviceArgs(p) : [];
}
