// The defaults every driver gets after parsing (libvirt's domain_postparse.c), wrapped around the
// driver's own callbacks in libvirt's order: basic → controller indexes → driver domain defaults
// → ISA serial ports → per-device (driver, then generic) → common domain defaults → addresses.
import type { DomainDef } from './domainDef.js';
import type { DomainDriverDefaults, PostParseOptions } from './driverDefaults.js';
import { checkTimers } from './clock.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { unsupported, xmlError } from './parseContext.js';
import { DEVICE_POST_PARSE, allDevices, deviceBootOrders, domainPostParseDevices } from './devices.js';

export function postParseDomain(def: DomainDef, driver: DomainDriverDefaults, opts: PostParseOptions): void {
  domainPostParseDevices.afterParse?.(def);
  driver.domainPostParseBasic?.(def, opts);
  domainPostParseDevices.assignControllerIndexes?.(def);
  driver.domainPostParse?.(def, opts);
  domainPostParseDevices.isaSerialPorts?.(def);
  for (const dev of allDevices(def)) {
    driver.devicePostParse?.(dev, def, opts);
    DEVICE_POST_PARSE(dev, def, driver);
  }
  postParseCommon(def, driver, opts);
  driver.assignAddresses?.(def, opts);
  checkFeatures(def, driver);
}

function postParseCommon(def: DomainDef, driver: DomainDriverDefaults, opts: PostParseOptions): void {
  if (def.os.type === 'exe' && !def.os.init) throw xmlError('init binary must be specified');
  postParseMemory(def);
  postParseOs(def);
  // virDomainDefPostParseMemtune: without guest NUMA a hugepage nodeset of just node 0 means all
  for (const p of def.memoryBacking?.hugepages ?? []) {
    if (!def.cpu?.numa && p.nodeset && !p.nodeset.some((n) => n > 0)) delete p.nodeset;
  }
  domainPostParseDevices.rejectDuplicates?.(def);
  if (def.os.type === 'hvm' && !driver.features?.noBootOrder) postParseBootOrder(def);
  checkTimers(def.clock);
  domainPostParseDevices.implicitDevices?.(def, driver, opts);
  if (def.cpu && def.cpu.mode === 'custom' && !def.cpu.model && def.cpu.check) {
    throw unsupported('check attribute specified for CPU with no model');
  }
}

/** virDomainDefPostParseMemory. */
function postParseMemory(def: DomainDef): void {
  // without <memory>, the sum of the NUMA cells is the memory size
  if (def.memory === 0 && def.cpu?.numa) def.memory = def.cpu.numa.reduce((a, c) => a + c.memory, 0);
  if (def.memory === 0) {
    throw xmlError('Memory size must be specified via <memory> or in the <numa> configuration', { element: 'memory' });
  }
  if (def.currentMemory > def.memory || def.currentMemory === 0) def.currentMemory = def.memory;
  const mm = def.maxMemory;
  if (mm && (mm.size || mm.slots) && !(mm.size && mm.slots)) {
    throw xmlError('both maximum memory size and memory slot count must be specified', { element: 'maxMemory' });
  }
  if (mm && mm.size && mm.size < def.memory) {
    throw xmlError('maximum memory size must be equal or greater than the actual memory size', { element: 'maxMemory' });
  }
}

/** virDomainDefPostParseOs: a loader with a path defaults to type 'rom'. */
function postParseOs(def: DomainDef): void {
  const ff = def.os.firmwareFeatures;
  if (ff && ff['enrolled-keys'] === true) {
    if (ff['secure-boot'] === false) {
      throw virtError(
        ErrorNumber.XML_DETAIL,
        ErrorDomain.DOMAIN,
        "firmware feature 'enrolled-keys' cannot be enabled when firmware feature 'secure-boot' is disabled",
      );
    }
    ff['secure-boot'] = true;
  }
  const l = def.os.loader;
  if (l && l.path && !l.type) l.type = 'rom';
}

/** virDomainDefBootOrderPostParse: per-device boot orders are unique and exclude <os><boot>. */
function postParseBootOrder(def: DomainDef): void {
  const seen = new Set<number>();
  for (const order of deviceBootOrders(def)) {
    if (seen.has(order)) throw unsupported(`boot order '${order}' used for more than one device`);
    seen.add(order);
  }
  if (def.os.boot.length > 0 && seen.size > 0) {
    throw unsupported('per-device boot elements cannot be used together with os/boot elements');
  }
  if (def.os.boot.length === 0 && seen.size === 0) def.os.boot.push('hd');
}

/** virDomainDefPostParseCheckFeatures: what the driver does not support. */
function checkFeatures(def: DomainDef, driver: DomainDriverDefaults): void {
  const f = driver.features ?? {};
  if (!f.memoryHotplug && def.maxMemory && (def.maxMemory.size || def.maxMemory.slots)) {
    throw unsupported('memory hotplug tunables <maxMemory> are not supported by this hypervisor driver');
  }
  if (!f.nameSlash && def.name.includes('/')) throw xmlError(`name ${def.name} cannot contain '/'`, { element: 'name', value: def.name });
}
