// <controller>: the buses devices hang off (ide, fdc, scsi, sata, virtio-serial, ccid, usb, pci,
// xenbus, isa). libvirt keeps them grouped by type and sorted by index.
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { strToInt } from '../xmlProps.js';
import type { DeviceFormatEnv, DeviceParseEnv } from './deviceEnv.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './deviceInfo.js';
import { onOff, unsupported, xmlError } from './parseContext.js';
import { parseScaledElement } from './units.js';
import { parseVirtioOptions, virtioOptionAttrs, type VirtioOptions } from './virtioOptions.js';

export const CONTROLLER_TYPES = ['ide', 'fdc', 'scsi', 'sata', 'virtio-serial', 'ccid', 'usb', 'pci', 'xenbus', 'isa'] as const;
export type ControllerType = (typeof CONTROLLER_TYPES)[number];

const MODELS: Partial<Record<ControllerType, readonly string[]>> = {
  scsi: [
    'auto', 'buslogic', 'lsilogic', 'lsisas1068', 'vmpvscsi', 'ibmvscsi', 'virtio-scsi', 'lsisas1078',
    'virtio-transitional', 'virtio-non-transitional', 'ncr53c90', 'dc390', 'am53c974',
  ],
  usb: [
    'piix3-uhci', 'piix4-uhci', 'ehci', 'ich9-ehci1', 'ich9-uhci1', 'ich9-uhci2', 'ich9-uhci3', 'vt82c686b-uhci',
    'pci-ohci', 'nec-xhci', 'qusb1', 'qusb2', 'qemu-xhci', 'none',
  ],
  pci: [
    'pci-root', 'pcie-root', 'pci-bridge', 'dmi-to-pci-bridge', 'pcie-to-pci-bridge', 'pcie-root-port',
    'pcie-switch-upstream-port', 'pcie-switch-downstream-port', 'pci-expander-bus', 'pcie-expander-bus',
  ],
  ide: ['piix3', 'piix4', 'ich6'],
  'virtio-serial': ['virtio', 'virtio-transitional', 'virtio-non-transitional'],
  isa: [],
};

export const PCI_MODEL_NAMES = [
  'none', 'pci-bridge', 'i82801b11-bridge', 'ioh3420', 'x3130-upstream', 'xio3130-downstream', 'pxb', 'pxb-pcie',
  'pcie-root-port', 'spapr-pci-host-bridge', 'pcie-pci-bridge',
] as const;

export interface ControllerDef extends DeviceInfo {
  type: ControllerType;
  /** Assigned (lowest unused for the type) when absent. */
  index: number;
  model?: string;
  /** virtio-serial and usb. */
  ports?: number;
  /** virtio-serial. */
  vectors?: number;
  /** xenbus. */
  maxGrantFrames?: number;
  maxEventChannels?: number;
  driver?: { queues?: number; cmdPerLun?: number; maxSectors?: number; ioeventfd?: boolean; iothread?: number } & VirtioOptions;
  /** pci: <model name>. */
  modelName?: string;
  /** pci: <target …>. */
  target?: { chassisNr?: number; chassis?: number; port?: number; busNr?: number; index?: number; hotplug?: boolean; node?: number };
  /** pci-root/pcie-root: <pcihole64> in KiB. */
  pcihole64?: number;
}

/** Controller being parsed: index still unknown. */
type Parsed = Omit<ControllerDef, 'index'> & { index: number };

export function parseController(env: DeviceParseEnv, el: XmlElement): ControllerDef {
  const { ctx } = env;
  const type = (ctx.enumProp(el, 'type', CONTROLLER_TYPES) ?? 'ide') as ControllerType;
  const def: Parsed = { type, index: -1 };
  const model = ctx.attr(el, 'model');
  if (model !== undefined) {
    const models = MODELS[type];
    if (!models || !models.includes(model)) throw unsupported(`Unknown model type '${model}'`, { element: 'controller', attribute: 'model', value: model });
    def.model = model;
  }
  const idx = ctx.intProp(el, 'index', 10, { nonnegative: true });
  if (idx !== undefined) def.index = idx;
  const drv = ctx.child(el, 'driver');
  if (drv) {
    const d: NonNullable<ControllerDef['driver']> = {};
    const q = ctx.uintProp(drv, 'queues');
    const c = ctx.uintProp(drv, 'cmd_per_lun');
    const m = ctx.uintProp(drv, 'max_sectors');
    const io = ctx.switchProp(drv, 'ioeventfd');
    const it = ctx.uintProp(drv, 'iothread');
    if (q) d.queues = q;
    if (c) d.cmdPerLun = c;
    if (m) d.maxSectors = m;
    if (io !== undefined) d.ioeventfd = io;
    if (it) d.iothread = it;
    Object.assign(d, parseVirtioOptions(ctx, drv));
    def.driver = d;
  }
  const models = ctx.children(el, 'model');
  if (models.length > 1) throw xmlError('Multiple <model> elements in controller definition not allowed');
  if (models.length === 1) {
    if (type === 'pci') {
      const name = ctx.enumProp(models[0]!, 'name', PCI_MODEL_NAMES);
      if (name && name !== 'none') def.modelName = name;
    } else ctx.attr(models[0]!, 'name');
  }
  const targets = ctx.children(el, 'target');
  if (targets.length > 1) throw xmlError('Multiple <target> elements in controller definition not allowed');
  const t = targets[0];
  if (t && type === 'pci') {
    const tg: NonNullable<ControllerDef['target']> = {};
    const set = (k: 'chassisNr' | 'chassis' | 'port' | 'busNr' | 'index', a: string): void => {
      const v = ctx.intProp(t, a, 0, { nonnegative: true });
      if (v !== undefined) tg[k] = v;
    };
    set('chassisNr', 'chassisNr');
    set('chassis', 'chassis');
    set('port', 'port');
    set('busNr', 'busNr');
    const hp = ctx.switchProp(t, 'hotplug');
    if (hp !== undefined) tg.hotplug = hp;
    set('index', 'index');
    def.target = tg;
  }
  const nodeEl = t ? ctx.child(t, 'node') : undefined;
  if (nodeEl) {
    const text = ctx.text(nodeEl);
    const n = strToInt(text, 10);
    if (text && (n === undefined || n < 0)) throw xmlError('invalid NUMA node in target');
    if (n !== undefined && type === 'pci') (def.target ??= {}).node = n;
  }
  if (type === 'usb' && def.model === 'none') {
    for (const n of ['alias', 'address', 'master', 'acpi']) {
      const c = ctx.child(el, n);
      if (c) ctx.useSubtree(c);
    }
  } else {
    parseDeviceInfo(ctx, el, def, { userAlias: env.userAlias });
  }
  const ports = ctx.intProp(el, 'ports', 10, { nonnegative: true });
  switch (type) {
    case 'virtio-serial': {
      const v = ctx.intProp(el, 'vectors', 10, { nonnegative: true });
      if (v !== undefined) def.vectors = v;
      if (ports !== undefined) def.ports = ports;
      break;
    }
    case 'usb': {
      const mp = def.model === 'ich9-uhci1' ? 0 : def.model === 'ich9-uhci2' ? 2 : def.model === 'ich9-uhci3' ? 4 : -1;
      if (mp >= 0 && !def.master) def.master = { startport: mp };
      if (ports !== undefined) def.ports = ports;
      break;
    }
    case 'pci':
      if (def.model === 'pci-root' || def.model === 'pcie-root') {
        const ph = ctx.child(el, 'pcihole64');
        const bytes = parseScaledElement(ctx, ph, './pcihole64', { scale: 1024n, max: 1024n * 0xffffffffffffffffn });
        if (bytes !== undefined) def.pcihole64 = Number((bytes + 1023n) / 1024n);
      }
      break;
    case 'xenbus': {
      const g = ctx.intProp(el, 'maxGrantFrames', 10, { nonnegative: true });
      const e = ctx.intProp(el, 'maxEventChannels', 10, { nonnegative: true });
      if (g !== undefined) def.maxGrantFrames = g;
      if (e !== undefined) def.maxEventChannels = e;
      break;
    }
    default:
      break;
  }
  return def;
}

export function formatController(w: XmlWriter, def: ControllerDef, _env: DeviceFormatEnv): void {
  const attrs: Record<string, string | number | undefined> = { type: def.type, index: def.index, model: def.model };
  if (def.type === 'virtio-serial') {
    attrs.ports = def.ports;
    attrs.vectors = def.vectors;
  } else if (def.type === 'usb') attrs.ports = def.ports;
  else if (def.type === 'xenbus') {
    attrs.maxGrantFrames = def.maxGrantFrames;
    attrs.maxEventChannels = def.maxEventChannels;
  }
  w.element('controller', attrs, (c) => {
    if (def.type === 'pci') {
      if (def.modelName) c.empty('model', { name: def.modelName });
      const t = def.target ?? {};
      c.element(
        'target',
        {
          chassisNr: t.chassisNr,
          chassis: t.chassis,
          port: t.port !== undefined ? '0x' + t.port.toString(16) : undefined,
          busNr: t.busNr,
          index: t.index,
          hotplug: onOff(t.hotplug),
        },
        (tc) => {
          if (t.node !== undefined) tc.text('node', t.node);
        },
      );
    }
    const d = def.driver;
    if (d) {
      c.element('driver', {
        queues: d.queues,
        cmd_per_lun: d.cmdPerLun,
        max_sectors: d.maxSectors,
        ioeventfd: onOff(d.ioeventfd),
        iothread: d.iothread,
        ...virtioOptionAttrs(d),
      });
    }
    formatDeviceInfo(c, def);
    if (def.type === 'pci' && def.pcihole64 !== undefined) c.text('pcihole64', def.pcihole64, { unit: 'KiB' });
  });
}

/** virDomainControllerDefValidate. */
export function validateController(def: ControllerDef): void {
  if (def.type === 'pci') {
    const o = def.target ?? {};
    if ((def.model === 'pci-root' || def.model === 'pcie-root') && def.address) {
      throw unsupported('pci-root and pcie-root controllers should not have an address');
    }
    if (def.index > 255) throw unsupported(`PCI controller index ${def.index} too high, maximum is 255`);
    if (o.index !== undefined) {
      if (o.index < 0 || o.index > 30) throw unsupported(`PCI controller target index '${o.index}' out of range - must be 0-30`);
      if ((def.index === 0 && o.index !== 0) || (def.index !== 0 && o.index === 0)) {
        throw unsupported('Only the PCI controller with index 0 can have target index 0, and vice versa');
      }
    }
    if (o.chassisNr !== undefined && (o.chassisNr < 1 || o.chassisNr > 255)) {
      throw unsupported(`PCI controller chassisNr '${o.chassisNr}' out of range - must be 1-255`);
    }
    if (o.chassis !== undefined && (o.chassis < 0 || o.chassis > 255)) {
      throw unsupported(`PCI controller chassis '${o.chassis}' out of range - must be 0-255`);
    }
    if (o.port !== undefined && (o.port < 0 || o.port > 255)) throw unsupported(`PCI controller port '${o.port}' out of range - must be 0-255`);
    if (o.busNr !== undefined && (o.busNr < 1 || o.busNr > 254)) throw unsupported(`PCI controller busNr '${o.busNr}' out of range - must be 1-254`);
    if (o.node !== undefined && o.node >= 0 && def.index === 0) {
      throw unsupported("The PCI controller with index=0 can't be associated with a NUMA node");
    }
  }
}

/** virDomainControllerDefPostParse. */
export function postParseController(def: ControllerDef): void {
  if (def.driver?.iothread && !['virtio-scsi', 'virtio-transitional', 'virtio-non-transitional'].includes(def.model ?? '')) {
    throw xmlError("'iothread' attribute only supported for virtio scsi controllers");
  }
}

function isUsb2(c: ControllerDef): boolean {
  return c.type === 'usb' && ['ich9-ehci1', 'ich9-uhci1', 'ich9-uhci2', 'ich9-uhci3'].includes(c.model ?? '');
}

/** virDomainControllerInsertPreAlloced: where a parsed controller goes in the type-grouped list. */
export function insertController(list: ControllerDef[], c: ControllerDef): void {
  let insertAt = -1;
  for (let i = list.length - 1; i >= 0; i--) {
    const cur = list[i]!;
    if (cur.type !== c.type) continue;
    if (c.index === -1) {
      insertAt = i + 1;
      break;
    }
    if (cur.index > c.index) insertAt = i;
    else if (!c.master && cur.master && cur.index === c.index) insertAt = i;
    else if (insertAt === -1) insertAt = i + 1;
  }
  if (insertAt < 0) list.push(c);
  else list.splice(insertAt, 0, c);
}

function findController(list: ControllerDef[], type: ControllerType, index: number): boolean {
  return list.some((c) => c.type === type && c.index === index);
}

function unusedIndex(list: ControllerDef[], type: ControllerType): number {
  let i = 0;
  while (findController(list, type, i)) i++;
  return i;
}

/** virDomainAssignControllerIndexes: absent indexes get the lowest free one (USB2 companions share). */
export function assignControllerIndexes(list: ControllerDef[]): void {
  list.forEach((cont, outer) => {
    if (cont.index !== -1) return;
    let prev: ControllerDef | undefined;
    if (outer > 0 && isUsb2(cont)) {
      for (let p = outer - 1; p >= 0; p--) {
        if (list[p]!.type === 'usb') {
          prev = list[p];
          break;
        }
      }
      if (prev && !isUsb2(prev)) prev = undefined;
      if (prev && list.some((o) => o.type === 'usb' && o.index === prev!.index && o.model === cont.model)) prev = undefined;
      if (prev) cont.index = prev.index;
    }
    if (!prev) cont.index = unusedIndex(list, cont.type);
  });
}

/** virDomainDefMaybeAddController: adds a controller unless one with that type and index exists. */
export function maybeAddController(list: ControllerDef[], type: ControllerType, index: number, model?: string): void {
  if (index >= 0 && findController(list, type, index)) return;
  const c: ControllerDef = { type, index: index < 0 ? unusedIndex(list, type) : index };
  if (model) c.model = model;
  list.push(c);
}

/** virDomainDefRejectDuplicateControllers (several USB controllers may share an index). */
export function rejectDuplicateControllers(list: ControllerDef[]): void {
  const seen = new Set<string>();
  for (const c of list) {
    if (c.type === 'usb') continue;
    const key = `${c.type}/${c.index}`;
    if (seen.has(key)) throw xmlError(`Multiple '${c.type}' controllers with index '${c.index}'`);
    seen.add(key);
  }
}

/** The USB-none rules libvirt applies while reading controllers. */
export function checkUsbControllers(list: ControllerDef[]): void {
  let none = false;
  let other = false;
  let master = false;
  for (const c of list) {
    if (c.type !== 'usb') continue;
    if (c.model === 'none') {
      if (other || none) throw virtError(ErrorNumber.XML_DETAIL, ErrorDomain.DOMAIN, "Can't add another USB controller: USB is disabled for this domain");
      none = true;
    } else {
      if (none) throw virtError(ErrorNumber.XML_DETAIL, ErrorDomain.DOMAIN, "Can't add another USB controller: USB is disabled for this domain");
      other = true;
    }
    if (!c.master) master = true;
  }
  if (other && !master) throw virtError(ErrorNumber.XML_DETAIL, ErrorDomain.DOMAIN, 'No master USB controller specified');
}
