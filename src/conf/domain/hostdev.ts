// <hostdev>: a host PCI, USB or SCSI device (or mediated device) passed to the guest. The
// subsystem source part is shared with <interface type='hostdev'> (an SR-IOV VF given to the
// guest as a NIC), which writes it with the address type included.
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import type { DeviceFormatEnv, DeviceParseEnv } from './deviceEnv.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './deviceInfo.js';
import { parsePciAddress, pciAddressIsEmpty, type PciAddress } from './deviceAddress.js';
import { ParseContext, internalError, unsupported, xmlError, yesNo, onOff } from './parseContext.js';
import { normalizeUuid } from '../uuid.js';

export const HOSTDEV_MODES = ['subsystem', 'capabilities'] as const;
export const HOSTDEV_SUBSYS_TYPES = ['usb', 'pci', 'scsi', 'scsi_host', 'mdev'] as const;
export const PCI_BACKENDS = ['default', 'kvm', 'vfio', 'xen'] as const;
export const STARTUP_POLICIES = ['default', 'mandatory', 'requisite', 'optional'] as const;
export const USB_GUEST_RESET = ['default', 'off', 'uninitialized', 'on'] as const;
export const MDEV_MODELS = ['vfio-pci', 'vfio-ccw', 'vfio-ap'] as const;
export const SCSI_HOST_MODELS = ['default', 'vhost-scsi-pci', 'vhost-scsi-pci-transitional', 'vhost-scsi-pci-non-transitional'] as const;
export const TEAMING_TYPES = ['none', 'persistent', 'transient'] as const;

export interface HostdevPciSource {
  type: 'pci';
  /** <source writeFiltering>. */
  writeFiltering?: boolean;
  /** Host PCI address of the device (the VF for an SR-IOV NIC). */
  address: Omit<PciAddress, 'type'>;
  /** <driver name='vfio|kvm|xen'/>. */
  driver?: 'kvm' | 'vfio' | 'xen';
}

export interface HostdevUsbSource {
  type: 'usb';
  startupPolicy?: Exclude<(typeof STARTUP_POLICIES)[number], 'default'>;
  autoAddress?: boolean;
  guestReset?: Exclude<(typeof USB_GUEST_RESET)[number], 'default'>;
  vendor?: number;
  product?: number;
  address?: { bus: number; device: number };
}

export interface HostdevScsiSource {
  type: 'scsi';
  sgio?: 'filtered' | 'unfiltered';
  rawio?: boolean;
  protocol?: 'adapter' | 'iscsi';
  adapterName?: string;
  address?: { bus: number; target: number; unit: number };
}

export interface HostdevScsiHostSource {
  type: 'scsi_host';
  model?: string;
  protocol: 'vhost';
  wwpn: string;
}

export interface HostdevMdevSource {
  type: 'mdev';
  model: (typeof MDEV_MODELS)[number];
  display?: boolean;
  ramfb?: boolean;
  uuid: string;
}

export type HostdevSubsys = HostdevPciSource | HostdevUsbSource | HostdevScsiSource | HostdevScsiHostSource | HostdevMdevSource;

export interface HostdevDef extends DeviceInfo {
  mode: 'subsystem' | 'capabilities';
  /** managed='yes': detach from the host driver at start, reattach at stop. */
  managed: boolean;
  source: HostdevSubsys;
  teaming?: { type: 'persistent' | 'transient'; persistent?: string };
  readonly?: boolean;
  shareable?: boolean;
}

/**
 * virDomainHostdevDefParseXMLSubsys: `node` is the <hostdev> or <interface> element, `type` the
 * subsystem type given by the caller (hostdev@type, or interface source/address@type).
 */
export function parseHostdevSubsys(ctx: ParseContext, node: XmlElement, type: string | undefined): { managed: boolean; source: HostdevSubsys } {
  let managed = false;
  try {
    managed = ctx.boolProp(node, 'managed') === true;
  } catch {
    managed = false; // libvirt ignores an invalid managed value here
  }
  const model = ctx.attr(node, 'model');
  if (!type) throw xmlError('missing source address type');
  if (!(HOSTDEV_SUBSYS_TYPES as readonly string[]).includes(type)) {
    throw unsupported(`unknown host device source address type '${type}'`, { element: 'source/address', attribute: 'type', value: type });
  }
  const sourceEl = ctx.child(node, 'source');
  if (!sourceEl) throw xmlError('Missing <source> element in hostdev device', { element: 'source' });
  if (type !== 'usb' && ctx.attr(sourceEl, 'startupPolicy') !== undefined) {
    throw unsupported('Setting startupPolicy is only allowed for USB devices');
  }
  const sgio = ctx.enumProp(node, 'sgio', ['default', 'filtered', 'unfiltered'] as const, { nonzero: true });
  if (sgio && type !== 'scsi') throw xmlError('sgio is only supported for scsi host device');
  const rawio = ctx.boolProp(node, 'rawio');
  if (rawio !== undefined && type !== 'scsi') throw xmlError('rawio is only supported for scsi host device');
  if (type !== 'mdev' && type !== 'scsi_host' && model !== undefined) {
    throw xmlError(`'model' attribute in <hostdev> is only supported when type='${type}'`);
  }
  switch (type) {
    case 'pci': {
      const src: HostdevPciSource = { type: 'pci', address: { domain: 0, bus: 0, slot: 0, function: 0 } };
      const wf = ctx.boolProp(sourceEl, 'writeFiltering');
      if (wf !== undefined) src.writeFiltering = wf;
      const addr = ctx.child(sourceEl, 'address');
      if (addr) {
        ctx.attr(addr, 'type');
        const { type: _t, ...a } = parsePciAddress(ctx, addr);
        src.address = a;
      }
      const drv = ctx.child(node, 'driver');
      if (drv) {
        const name = ctx.enumProp(drv, 'name', PCI_BACKENDS, { nonzero: true });
        if (name) src.driver = name as HostdevPciSource['driver'];
      }
      return { managed, source: src };
    }
    case 'usb':
      return { managed, source: parseUsbSource(ctx, sourceEl) };
    case 'scsi': {
      const src: HostdevScsiSource = { type: 'scsi' };
      if (sgio) src.sgio = sgio as 'filtered' | 'unfiltered';
      if (rawio !== undefined) src.rawio = rawio;
      const protocol = ctx.enumProp(sourceEl, 'protocol', ['adapter', 'iscsi'] as const);
      if (protocol) src.protocol = protocol;
      const adapter = ctx.child(sourceEl, 'adapter');
      const name = adapter ? ctx.attr(adapter, 'name') : undefined;
      if (!name) throw xmlError("'adapter' name attribute must be specified for scsi hostdev source");
      src.adapterName = name;
      const a = ctx.child(sourceEl, 'address');
      if (!a) throw xmlError("'address' must be specified for scsi hostdev source");
      src.address = {
        bus: ctx.uintProp(a, 'bus', 0, { required: true })!,
        target: ctx.uintProp(a, 'target', 0, { required: true })!,
        unit: ctx.uintProp(a, 'unit', 0, { required: true })!,
      };
      return { managed, source: src };
    }
    case 'scsi_host': {
      const m = ctx.enumProp(node, 'model', SCSI_HOST_MODELS, { nonzero: true });
      const protocol = ctx.attr(sourceEl, 'protocol');
      if (protocol !== 'vhost') throw unsupported(`Unknown scsi_host subsystem protocol '${protocol ?? ''}'`);
      const wwpn = ctx.attr(sourceEl, 'wwpn');
      if (!wwpn) throw xmlError('missing vHost-scsi hostdev source wwpn');
      const src: HostdevScsiHostSource = { type: 'scsi_host', protocol: 'vhost', wwpn };
      if (m) src.model = m;
      return { managed, source: src };
    }
    default: {
      const m = ctx.enumProp(node, 'model', MDEV_MODELS, { required: true })!;
      const display = ctx.switchProp(node, 'display');
      const ramfb = ctx.switchProp(node, 'ramfb');
      const a = ctx.child(sourceEl, 'address');
      const uuidStr = a ? ctx.attr(a, 'uuid') : undefined;
      const uuid = uuidStr ? normalizeUuid(uuidStr) : undefined;
      if (!uuid) throw xmlError('Missing or invalid mediated device uuid');
      const src: HostdevMdevSource = { type: 'mdev', model: m, uuid };
      if (display !== undefined) src.display = display;
      if (ramfb !== undefined) src.ramfb = ramfb;
      return { managed, source: src };
    }
  }
}

function parseUsbSource(ctx: ParseContext, el: XmlElement): HostdevUsbSource {
  const src: HostdevUsbSource = { type: 'usb' };
  const sp = ctx.enumProp(el, 'startupPolicy', STARTUP_POLICIES, { nonzero: true });
  if (sp) src.startupPolicy = sp as HostdevUsbSource['startupPolicy'];
  const aa = ctx.boolProp(el, 'autoAddress');
  if (aa !== undefined) src.autoAddress = aa;
  const gr = ctx.enumProp(el, 'guestReset', USB_GUEST_RESET, { nonzero: true });
  if (gr) src.guestReset = gr as HostdevUsbSource['guestReset'];
  const vendorEl = ctx.child(el, 'vendor');
  const productEl = ctx.child(el, 'product');
  if (vendorEl) {
    src.vendor = ctx.uintProp(vendorEl, 'id', 0, { required: true, nonzero: true })!;
    if (!productEl) throw internalError('missing product');
  }
  if (productEl) {
    src.product = ctx.uintProp(productEl, 'id', 0, { required: true })!;
    if (!vendorEl) throw internalError('missing vendor');
  }
  const a = ctx.child(el, 'address');
  if (a) {
    ctx.attr(a, 'type');
    src.address = { bus: ctx.uintProp(a, 'bus', 0, { required: true })!, device: ctx.uintProp(a, 'device', 0, { required: true })! };
  }
  return src;
}

const hex = (n: number, w: number): string => '0x' + n.toString(16).padStart(w, '0');

/** virDomainHostdevDefFormatSubsys: <driver> (PCI) and <source>. */
export function formatHostdevSubsys(w: XmlWriter, src: HostdevSubsys, env: DeviceFormatEnv, includeTypeInAddr: boolean): void {
  switch (src.type) {
    case 'pci':
      if (src.driver) w.empty('driver', { name: src.driver });
      w.element('source', { writeFiltering: yesNo(src.writeFiltering) }, (s) => {
        const a = src.address;
        s.empty('address', {
          type: includeTypeInAddr ? 'pci' : undefined,
          domain: hex(a.domain, 4),
          bus: hex(a.bus, 2),
          slot: hex(a.slot, 2),
          function: `0x${a.function}`,
        });
      });
      return;
    case 'usb':
      w.element(
        'source',
        {
          startupPolicy: src.startupPolicy,
          autoAddress: src.autoAddress && env.migratable ? 'yes' : undefined,
          guestReset: src.guestReset,
        },
        (s) => {
          if (src.vendor) {
            s.empty('vendor', { id: hex(src.vendor, 4) });
            s.empty('product', { id: hex(src.product ?? 0, 4) });
          }
          if (src.address && (src.address.bus || src.address.device)) {
            s.empty('address', { type: includeTypeInAddr ? 'usb' : undefined, bus: src.address.bus, device: src.address.device });
          }
        },
      );
      return;
    case 'scsi':
      w.element('source', { protocol: src.protocol === 'iscsi' ? 'iscsi' : undefined }, (s) => {
        s.empty('adapter', { name: src.adapterName });
        if (src.address) s.empty('address', { type: includeTypeInAddr ? 'scsi' : undefined, bus: src.address.bus, target: src.address.target, unit: src.address.unit });
      });
      return;
    case 'scsi_host':
      w.empty('source', { protocol: src.protocol, wwpn: src.wwpn });
      return;
    case 'mdev':
      w.element('source', undefined, (s) => s.empty('address', { uuid: src.uuid }));
      return;
  }
}

export function parseHostdev(env: DeviceParseEnv, el: XmlElement): HostdevDef {
  const { ctx } = env;
  const modeStr = ctx.attr(el, 'mode');
  const type = ctx.attr(el, 'type');
  let mode: HostdevDef['mode'] = 'subsystem';
  if (modeStr !== undefined) {
    if (!(HOSTDEV_MODES as readonly string[]).includes(modeStr)) {
      throw unsupported(`unknown hostdev mode '${modeStr}'`, { element: 'hostdev', attribute: 'mode', value: modeStr });
    }
    mode = modeStr as HostdevDef['mode'];
  }
  if (mode === 'capabilities') {
    throw unsupported('hostdev mode capabilities is not supported by tsvirt', { element: 'hostdev', attribute: 'mode', value: modeStr });
  }
  const { managed, source } = parseHostdevSubsys(ctx, el, type);
  const def: HostdevDef = { mode, managed, source };
  parseDeviceInfo(ctx, el, def, { allowBoot: true, allowRom: true, userAlias: env.userAlias });
  if (source.type === 'scsi') {
    if (ctx.child(el, 'readonly')) def.readonly = true;
    if (ctx.child(el, 'shareable')) def.shareable = true;
  }
  const teaming = parseTeaming(ctx, el);
  if (teaming) def.teaming = teaming;
  return def;
}

/** <teaming type persistent/> (interfaces and hostdevs). */
export function parseTeaming(ctx: ParseContext, el: XmlElement): HostdevDef['teaming'] {
  const t = ctx.child(el, 'teaming');
  if (!t) return undefined;
  const typeStr = ctx.attr(t, 'type');
  const persistent = ctx.attr(t, 'persistent');
  if (typeStr === undefined && persistent === undefined) return undefined;
  const i = typeStr === undefined ? -1 : (TEAMING_TYPES as readonly string[]).indexOf(typeStr);
  if (i <= 0) throw unsupported(`unknown teaming type '${typeStr ?? '(null)'}'`, { element: 'teaming', attribute: 'type', value: typeStr });
  const out: NonNullable<HostdevDef['teaming']> = { type: typeStr as 'persistent' | 'transient' };
  if (persistent !== undefined) out.persistent = persistent;
  return out;
}

export function formatHostdev(w: XmlWriter, def: HostdevDef, env: DeviceFormatEnv): void {
  const src = def.source;
  w.open('hostdev', {
    mode: def.mode,
    type: src.type,
    managed: def.managed ? 'yes' : 'no',
    sgio: src.type === 'scsi' ? src.sgio : undefined,
    rawio: src.type === 'scsi' ? yesNo(src.rawio) : undefined,
    model: src.type === 'scsi_host' ? src.model : src.type === 'mdev' ? src.model : undefined,
    display: src.type === 'mdev' ? onOff(src.display) : undefined,
    ramfb: src.type === 'mdev' ? onOff(src.ramfb) : undefined,
  });
  formatHostdevSubsys(w, src, env, false);
  if (def.teaming) w.empty('teaming', { type: def.teaming.type, persistent: def.teaming.persistent });
  if (def.readonly) w.empty('readonly');
  if (def.shareable) w.empty('shareable');
  formatDeviceInfo(w, def, { allowBoot: true, allowRom: true });
  w.close('hostdev');
}

/** virDomainHostdevDefValidate. */
export function validateHostdev(def: HostdevDef): void {
  const at = def.address?.type;
  switch (def.source.type) {
    case 'pci':
      if (at && at !== 'unassigned' && at !== 'pci') throw internalError("PCI host devices must use 'pci' or 'unassigned' address type");
      break;
    case 'scsi':
      if (at && at !== 'drive') throw unsupported("SCSI host device must use 'drive' address type");
      if (def.source.sgio === 'unfiltered') throw unsupported('unfiltered sgio is no longer supported');
      break;
    case 'scsi_host':
      if (at && at !== 'pci' && at !== 'ccw') throw unsupported("SCSI_host host device must use 'pci' or 'ccw' address type");
      break;
    case 'usb':
      if (at && at !== 'usb') throw unsupported("USB host device must use 'usb' address type");
      break;
    default:
      break;
  }
  if (def.teaming) {
    if (def.teaming.type !== 'transient') throw unsupported("teaming hostdev devices must have type='transient'");
    if (!def.teaming.persistent) throw unsupported('missing required persistent attribute in hostdev teaming element');
    if (def.source.type !== 'pci') throw unsupported('teaming is only supported for pci hostdev devices');
  }
}

/** Whether a PCI source address was given at all. */
export function hostdevPciAddressGiven(src: HostdevPciSource): boolean {
  return !pciAddressIsEmpty(src.address);
}

export { virtError, ErrorDomain, ErrorNumber };
