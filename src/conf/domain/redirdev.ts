// <redirdev>: a USB device redirected from a client (spice usbredir, tcp, …).
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import type { DeviceFormatEnv, DeviceParseEnv } from './deviceEnv.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './deviceInfo.js';
import { CHR_TYPES, formatChrSource, parseChrSource, validateChrSource, type ChrSourceDef, type ChrType } from './chardev.js';
import { internalError, unsupported, xmlError } from './parseContext.js';

export interface RedirdevDef extends DeviceInfo {
  bus: 'usb';
  source: ChrSourceDef;
}

export function parseRedirdev(env: DeviceParseEnv, el: XmlElement): RedirdevDef {
  const { ctx } = env;
  const bus = ctx.attr(el, 'bus');
  if (bus !== undefined && bus !== 'usb') throw unsupported(`unknown redirdev bus '${bus}'`);
  const type = ctx.attr(el, 'type');
  if (type === undefined) throw internalError('missing type in redirdev');
  if (!(CHR_TYPES as readonly string[]).includes(type)) throw unsupported(`unknown redirdev character device type '${type}'`);
  const def: RedirdevDef = { bus: 'usb', source: { type: type as ChrType } };
  parseChrSource(ctx, el, def.source);
  if (def.source.type === 'dbus' && !def.source.channel) def.source.channel = 'org.qemu.usbredir';
  parseDeviceInfo(ctx, el, def, { allowBoot: true, userAlias: env.userAlias });
  if (def.address && def.address.type !== 'usb') throw xmlError('Invalid address for a USB device');
  return def;
}

export function formatRedirdev(w: XmlWriter, def: RedirdevDef, env: DeviceFormatEnv): void {
  w.open('redirdev', { bus: def.bus, type: def.source.type });
  formatChrSource(w, def.source, env);
  formatDeviceInfo(w, def, { allowBoot: true });
  w.close('redirdev');
}

export function validateRedirdev(def: RedirdevDef, dom: { devices: { controllers?: { type: string; model?: string }[] } }): void {
  // virDomainDefHasUSB: a USB controller that is not model='none'
  if (!dom.devices.controllers?.some((c) => c.type === 'usb' && c.model !== 'none')) {
    throw unsupported('cannot add redirected USB device: USB is disabled for this domain');
  }
  validateChrSource(def.source);
}
