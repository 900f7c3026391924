// Domain-wide checks after defaults are in (libvirt's domain_validate.c): the driver's checks
// first, then every device, then the generic domain rules.
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import type { DomainDef } from './domainDef.js';
import type { DomainDriverDefaults } from './driverDefaults.js';
import { allDevices, validateDevice } from './devices.js';
import { unsupported } from './parseContext.js';

export function validateDomain(def: DomainDef, driver: DomainDriverDefaults): void {
  driver.domainValidate?.(def);
  for (const dev of allDevices(def)) {
    driver.deviceValidate?.(dev, def);
    validateDevice(dev, def);
  }
  validateDomainInternal(def, driver);
}

function validateDomainInternal(def: DomainDef, driver: DomainDriverDefaults): void {
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
