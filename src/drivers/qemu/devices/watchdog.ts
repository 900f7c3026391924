// <watchdog> on QEMU's command line: the i6300esb (PCI) or ib700 (ISA) timer, and what QEMU
// does when it fires (-watchdog-action).
import type { WatchdogDef } from '../../../conf/domain/watchdog.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../../errors/index.js';
import type { DeviceBuildEnv } from '../commandLineContext.js';
import { addressProps, aliasOf, deviceArgs, type QemuProps } from './qemuProps.js';

export function watchdogDeviceProps(w: WatchdogDef, env: DeviceBuildEnv): QemuProps {
  const id = aliasOf(w, 'watchdog');
  if (w.model === 'i6300esb') return { driver: 'i6300esb', id, ...addressProps(env.def, w) };
  if (w.model === 'ib700') return { driver: 'ib700', id };
  throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, `watchdog model '${w.model}' is not supported on this machine`, {
    element: 'watchdog',
    attribute: 'model',
    value: w.model,
  });
}

/** QEMU's -watchdog-action for the XML's action; 'dump' pauses and the driver dumps. */
export function watchdogAction(w: WatchdogDef): string {
  switch (w.action) {
    case 'dump':
      return 'pause';
    case 'inject-nmi':
      return 'inject-nmi';
    default:
      return w.action;
  }
}

export function watchdogCommandLine(w: WatchdogDef, env: DeviceBuildEnv): string[] {
  return [...deviceArgs(watchdogDeviceProps(w, env)), '-watchdog-action', watchdogAction(w)];
}
