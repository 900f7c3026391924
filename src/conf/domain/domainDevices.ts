// The device lists of a domain and the one-device union, by kind.
import type { ChrDef } from './chardev.js';
import type { ControllerDef } from './controller.js';
import type { DiskDef } from './disk.js';
import type { HostdevDef } from './hostdev.js';
import type { HubDef } from './hub.js';
import type { IommuDef } from './iommu.js';
import type { RedirdevDef } from './redirdev.js';
import type { TpmDef } from './tpm.js';
import type { VsockDef } from './vsock.js';
import type { InterfaceDef } from './interface.js';
import type { GraphicsDef } from './graphics.js';
import type { InputDef } from './input.js';
import type { MemballoonDef } from './memballoon.js';
import type { RngDef } from './rng.js';
import type { AudioDef, SoundDef } from './sound.js';
import type { VideoDef } from './video.js';
import type { PanicDef } from './panic.js';
import type { WatchdogDef } from './watchdog.js';

/** Per-kind device definitions, keyed by XML element name. */
export interface DeviceDefs {
  disk: DiskDef;
  controller: ControllerDef;
  interface: InterfaceDef;
  serial: ChrDef;
  parallel: ChrDef;
  console: ChrDef;
  channel: ChrDef;
  input: InputDef;
  tpm: TpmDef;
  graphics: GraphicsDef;
  sound: SoundDef;
  audio: AudioDef;
  video: VideoDef;
  hostdev: HostdevDef;
  redirdev: RedirdevDef;
  hub: HubDef;
  watchdog: WatchdogDef;
  memballoon: MemballoonDef;
  rng: RngDef;
  panic: PanicDef;
  iommu: IommuDef;
  vsock: VsockDef;
}

export type DeviceKind = keyof DeviceDefs;

/** One device of any kind, as parseDeviceXML returns it. */
export type DomainDeviceDef = { [K in DeviceKind]: { kind: K; def: DeviceDefs[K] } }[DeviceKind];

export interface DomainDevices {
  emulator?: string;
  disks?: DiskDef[];
  controllers?: ControllerDef[];
  interfaces?: InterfaceDef[];
  serials?: ChrDef[];
  parallels?: ChrDef[];
  consoles?: ChrDef[];
  channels?: ChrDef[];
  inputs?: InputDef[];
  tpms?: TpmDef[];
  graphics?: GraphicsDef[];
  sounds?: SoundDef[];
  audios?: AudioDef[];
  videos?: VideoDef[];
  hostdevs?: HostdevDef[];
  redirdevs?: RedirdevDef[];
  hubs?: HubDef[];
  watchdogs?: WatchdogDef[];
  memballoon?: MemballoonDef;
  rngs?: RngDef[];
  panics?: PanicDef[];
  iommu?: IommuDef;
  vsock?: VsockDef;
}

