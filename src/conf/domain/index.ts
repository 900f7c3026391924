// The public surface of the domain XML layer.
export { parseDomainXML, parseDomainElement, formatDomainXML, parseDeviceXML, formatDeviceXML, VIRT_TYPES } from './domain.js';
export type { DomainParseOptions, DomainFormatOptions } from './domain.js';
export type { DomainDef } from './domainDef.js';
export type { DomainDriverDefaults, DomainParserFeatures, DomainXmlNamespace, PostParseOptions } from './driverDefaults.js';
export type { DomainDevices, DomainDeviceDef, DeviceDefs, DeviceKind } from './devices.js';
export { allDevices } from './devices.js';
export type { OsDef, OsLoaderDef, OsNvramDef, BootDev } from './os.js';
export type { FeaturesDef } from './features.js';
export type { CpuDef } from './cpu.js';
export type { ClockDef, TimerDef } from './clock.js';
export type { LifecycleDef, LifecycleAction, LockFailureAction } from './lifecycle.js';
export type { VcpuDef, NumatuneDef } from './vcpu.js';
export type { MemoryTuneDef } from './memory.js';
export type { DeviceInfo, DeviceBoot, DeviceRom } from './deviceInfo.js';
export type { DeviceAddress, PciAddress, DriveAddress, UsbAddress, VirtioSerialAddress } from './deviceAddress.js';
export { ParseContext } from './parseContext.js';
export { formatCpuSet, parseCpuSet } from './cpuSet.js';
