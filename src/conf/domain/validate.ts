// Domain-wide checks after defaults are in (libvirt's domain_validate.c): the driver's checks
// first, then every device, then the generic domain rules.
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import type { DomainDef } from './domainDef.js';
import type { DomainDriverDefaults } from './driverDefaults.js';
import { allDevices, validateDevice } from './devices.js';
import { unsupported } from './parseContext.js';
import type { HostdevSubsys } from './hostdev.js';

export function validateDomain(def: DomainDef, driver: DomainDriverDefaults): void {
  driver.domainValidate?.(def);
  for (const dev of allDevices(def)) {
    driver.deviceValidate?.(dev, def);
    validateDevice(dev, def);
  }
  validateDomainInternal(def, driver);
}

function validateDomainInternal(def: DomainDef, driver: DomainDriverDefaults): void {
  const disks = def.devices.disks ?? [];
  for (let i = 0; i < disks.length; i++) {
    for (let j = i + 1; j < disks.length; j++) {
      if (disks[i]!.target.dev === disks[j]!.target.dev) {
        const src = (d: (typeof disks)[number]): string => d.source.path ?? d.source.name ?? '(null)';
        throw virtError(
          ErrorNumber.XML_ERROR,
          ErrorDomain.DOMAIN,
          `target '${disks[i]!.target.dev}' duplicated for disk sources '${src(disks[i]!)}' and '${src(disks[j]!)}'`,
          { element: 'disk/target', attribute: 'dev', value: disks[i]!.target.dev },
        );
      }
    }
  }
  const hostdevs = def.devices.hostdevs ?? [];
  for (let i = 0; i < hostdevs.length; i++) {
    for (let j = i + 1; j < hostdevs.length; j++) {
      if (sameHostdevSource(hostdevs[i]!.source, hostdevs[j]!.source)) {
        throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.DOMAIN, 'Hostdev already exists in the domain configuration', { element: 'hostdev' });
      }
    }
  }
  if (def.cpu?.topology) {
    const t = def.cpu.topology;
    const n = BigInt(t.sockets) * BigInt(t.dies) * BigInt(t.cores) * BigInt(t.threads);
    if (n > 0xffffffffn) throw unsupported(`cpu topology results in more than ${0xffffffff} cpus`);
  }
  for (const [event, action] of [
    ['poweroff', def.onPoweroff],
    ['reboot', def.onReboot],
  ] as const) {
    if (action === 'coredump-destroy' || action === 'coredump-restart') {
      throw unsupported(`Lifecycle event '${event}' doesn't support '${action}' action`, { element: `on_${event}`, value: action });
    }
  }
  validateOs(def, driver);
  // unset pool sizes count as -1, as in libvirt (so a minimum alone is refused)
  const pool = (p: { threadPoolMin?: number; threadPoolMax?: number }): void => {
    const mn = p.threadPoolMin ?? -1;
    const mx = p.threadPoolMax ?? -1;
    if (mx === 0) throw unsupported('thread_pool_max must be a positive integer');
    if (mn > mx) throw unsupported('thread_pool_min must be smaller or equal to thread_pool_max');
  };
  for (const t of def.iothreads?.ids ?? []) pool(t);
  if (def.iothreads?.defaultIothread) pool(def.iothreads.defaultIothread);
  const bm = def.os.bootmenu;
  if (bm?.timeout !== undefined && bm.timeout > 65535) {
    throw unsupported('invalid value for boot menu timeout, must be in range [0,65535]', { element: 'os/bootmenu', attribute: 'timeout' });
  }
  const rt = def.os.bios?.rebootTimeout;
  if (rt !== undefined && (rt < -1 || rt > 65535)) {
    throw unsupported('invalid value for rebootTimeout, must be in range [-1,65535]', { element: 'os/bios', attribute: 'rebootTimeout' });
  }
  const mt = def.memtune;
  if (mt?.hardLimit !== undefined && mt.swapHardLimit !== undefined && mt.hardLimit > mt.swapHardLimit) {
    throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.DOMAIN, 'memory hard_limit tunable value must be lower than or equal to swap_hard_limit');
  }
}

function validateOs(def: DomainDef, driver: DomainDriverDefaults): void {
  if (!def.os.firmware) return;
  const detail = (m: string): never => {
    throw virtError(ErrorNumber.XML_DETAIL, ErrorDomain.DOMAIN, m, { element: 'os' });
  };
  if (!driver.features?.fwAutoselect) detail('firmware auto selection not implemented for this driver');
  const l = def.os.loader;
  if (!l) return;
  if (l.readonly !== undefined) detail("loader attribute 'readonly' cannot be specified when firmware autoselection is enabled");
  if (l.type) detail("loader attribute 'type' cannot be specified when firmware autoselection is enabled");
  if (l.path) detail('loader path cannot be specified when firmware autoselection is enabled');
  if (def.os.nvram?.template) detail("nvram attribute 'template' cannot be specified when firmware autoselection is enabled");
  if (l.secure === false) detail("loader attribute 'secure' cannot be specified when firmware autoselection is enabled");
}

function sameHostdevSource(a: HostdevSubsys, b: HostdevSubsys): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'pci' && b.type === 'pci') {
    return a.address.domain === b.address.domain && a.address.bus === b.address.bus && a.address.slot === b.address.slot && a.address.function === b.address.function;
  }
  if (a.type === 'usb' && b.type === 'usb') {
    if (a.vendor !== undefined || b.vendor !== undefined) return a.vendor === b.vendor && a.product === b.product && a.address?.bus === b.address?.bus && a.address?.device === b.address?.device;
    return a.address?.bus === b.address?.bus && a.address?.device === b.address?.device;
  }
  if (a.type === 'mdev' && b.type === 'mdev') return a.uuid === b.uuid;
  if (a.type === 'scsi_host' && b.type === 'scsi_host') return a.wwpn === b.wwpn;
  if (a.type === 'scsi' && b.type === 'scsi') {
    return a.adapterName === b.adapterName && a.address?.bus === b.address?.bus && a.address?.target === b.address?.target && a.address?.unit === b.address?.unit;
  }
  return false;
}
