// <hub type='usb'/>: a USB hub.
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import type { DeviceFormatEnv, DeviceParseEnv } from './deviceEnv.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './deviceInfo.js';
import { internalError, unsupported } from './parseContext.js';

export interface HubDef extends DeviceInfo {
  type: 'usb';
}

export function parseHub(env: DeviceParseEnv, el: XmlElement): HubDef {
  const type = env.ctx.attr(el, 'type');
  if (!type) throw internalError('missing hub device type');
  if (type !== 'usb') throw unsupported(`unknown hub device type '${type}'`);
  const def: HubDef = { type: 'usb' };
  parseDeviceInfo(env.ctx, el, def, { userAlias: env.userAlias });
  return def;
}

export function formatHub(w: XmlWriter, def: HubDef, _env: DeviceFormatEnv): void {
  w.element('hub', { type: def.type }, (c) => formatDeviceInfo(c, def));
}
