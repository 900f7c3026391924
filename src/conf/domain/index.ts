// The public surface of the domain XML layer.
export {
  parseDomainXML,
  parseDomainElement,
  formatDomainXML,
  parseDeviceXML,
  formatDeviceXML,
  VIRT_TYPES,
} from './domain.js';
export type { DomainParseOptions, DomainFormatOptions } from './domain.js';
export type { DomainDef } from './domainDef.js';
export type { DomainDriverDefaults, DomainParserFeatures, DomainXmlNamespace, PostParseOptions } from './driverDefaults.js';
export type { DomainDevices, DomainDeviceDef, DeviceDefs, DeviceKind } from './domainDevices.js';
export { allDevices, parseDeviceElement, formatDeviceElement } from './devices.js';
export type { DeviceFormatEnv, DeviceParseEnv } from './deviceEnv.js';
export { ParseContext } from './parseContext.js';
export { formatCpuSet, parseCpuSet } from './cpuSet.js';
export { hostArch } from './os.js';

// general elements
export type { OsDef, OsLoaderDef, OsNvramDef, BootDev } from './os.js';
export type { FeaturesDef } from './features.js';
export type { CpuDef } from './cpu.js';
export type { ClockDef, TimerDef } from './clock.js';
export type { LifecycleDef, LifecycleAction, LockFailureAction } from './lifecycle.js';
export type { VcpuDef, NumatuneDef } from './vcpu.js';
export type { MemoryTuneDef } from './memory.js';
export type { IothreadsDef, CputuneDef } from './tunables.js';
export type { SeclabelDef } from './seclabel.js';

// device pieces
export type { DeviceInfo, DeviceBoot, DeviceRom } from './deviceInfo.js';
export type { DeviceAddress, PciAddress, DriveAddress, UsbAddress, VirtioSerialAddress, CcwAddress, IsaAddress } from './deviceAddress.js';
export { formatDeviceAddress, pciAddressString, pciAddressIsEmpty } from './deviceAddress.js';
export type { VirtioOptions } from './virtioOptions.js';

// devices
export type { DiskDef, StorageSource, DiskBus, NetworkHost } from './disk.js';
export { diskNameToIndex } from './disk.js';
export { checkDomainAssignDef, type AssignableDomain } from './domainAssignDef.js';
export type { ControllerDef, ControllerType } from './controller.js';
export { maybeAddController, insertController } from './controller.js';
export type { InterfaceDef, InterfaceSource, ActualNetDef, NetType, InterfaceVirtioDriver } from './interface.js';
export { validateActualInterface, actualInterfaceType, isVirtioModel } from './interface.js';
export type { ChrDef, ChrSourceDef, ChrTargetDef, ChrDeviceType, ChrType } from './chardev.js';
export type { GraphicsDef, GraphicsListen } from './graphics.js';
export type { VideoDef } from './video.js';
export type { InputDef } from './input.js';
export type { SoundDef, AudioDef } from './sound.js';
export type { HostdevDef, HostdevSubsys, HostdevPciSource, HostdevUsbSource } from './hostdev.js';
export type { WatchdogDef } from './watchdog.js';
export type { MemballoonDef } from './memballoon.js';
export type { RngDef } from './rng.js';
export type { PanicDef } from './panic.js';
export type { NetIpInfo, NetIpAddress, NetIpRoute } from './netIp.js';
