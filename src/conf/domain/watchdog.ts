// <watchdog model action/>: an emulated hardware watchdog and what to do when it fires.
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import type { DeviceFormatEnv, DeviceParseEnv } from './deviceEnv.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './deviceInfo.js';
import { internalError, unsupported } from './parseContext.js';

export const WATCHDOG_MODELS = ['i6300esb', 'ib700', 'diag288'] as const;
export const WATCHDOG_ACTIONS = ['reset', 'shutdown', 'poweroff', 'pause', 'dump', 'none', 'inject-nmi'] as const;

export interface WatchdogDef extends DeviceInfo {
  model: (typeof WATCHDOG_MODELS)[number];
  /** Default 'reset'. */
  action: (typeof WATCHDOG_ACTIONS)[number];
}

export function parseWatchdog(env: DeviceParseEnv, el: XmlElement): WatchdogDef {
  const { ctx } = env;
  const model = ctx.attr(el, 'model');
  if (model === undefined) throw internalError('watchdog must contain model name', { element: 'watchdog', attribute: 'model' });
  if (!(WATCHDOG_MODELS as readonly string[]).includes(model)) {
    throw unsupported(`unknown watchdog model '${model}'`, { element: 'watchdog', attribute: 'model', value: model });
  }
  const action = ctx.attr(el, 'action') ?? 'reset';
  if (!(WATCHDOG_ACTIONS as readonly string[]).includes(action)) {
    throw unsupported(`unknown watchdog action '${action}'`, { element: 'watchdog', attribute: 'action', value: action });
  }
  const def: WatchdogDef = { model: model as WatchdogDef['model'], action: action as WatchdogDef['action'] };
  parseDeviceInfo(ctx, el, def, { userAlias: env.userAlias });
  return def;
}

export function formatWatchdog(w: XmlWriter, def: WatchdogDef, _env: DeviceFormatEnv): void {
  w.element('watchdog', { model: def.model, action: def.action }, (c) => formatDeviceInfo(c, def));
}
