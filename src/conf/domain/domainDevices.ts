// The device lists of a domain and the one-device union, by kind.
import type { MemballoonDef } from './memballoon.js';
import type { PanicDef } from './panic.js';
import type { WatchdogDef } from './watchdog.js';

/** Per-kind device definitions, keyed by XML element name. */
export interface DeviceDefs {
  watchdog: WatchdogDef;
  memballoon: MemballoonDef;
  panic: PanicDef;
}

export type DeviceKind = keyof DeviceDefs;

/** One device of any kind, as parseDeviceXML returns it. */
export type DomainDeviceDef = { [K in DeviceKind]: { kind: K; def: DeviceDefs[K] } }[DeviceKind];

export interface DomainDevices {
  emulator?: string;
  watchdogs?: WatchdogDef[];
  memballoon?: MemballoonDef;
  panics?: PanicDef[];
}

