// <panic model/>: a guest panic notifier device.
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import type { DeviceFormatEnv, DeviceParseEnv } from './deviceEnv.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './deviceInfo.js';
import { unsupported } from './parseContext.js';

export const PANIC_MODELS = ['default', 'isa', 'pseries', 'hyperv', 's390'] as const;

export interface PanicDef extends DeviceInfo {
  model?: Exclude<(typeof PANIC_MODELS)[number], 'default'>;
}

export function parsePanic(env: DeviceParseEnv, el: XmlElement): PanicDef {
  const { ctx } = env;
  const def: PanicDef = {};
  parseDeviceInfo(ctx, el, def, { userAlias: env.userAlias });
  const model = ctx.attr(el, 'model');
  if (model !== undefined) {
    if (!(PANIC_MODELS as readonly string[]).includes(model)) {
      throw unsupported(`unknown panic model '${model}'`, { element: 'panic', attribute: 'model', value: model });
    }
    if (model !== 'default') def.model = model as PanicDef['model'];
  }
  return def;
}

export function formatPanic(w: XmlWriter, def: PanicDef, _env: DeviceFormatEnv): void {
  w.element('panic', { model: def.model }, (c) => formatDeviceInfo(c, def));
}
