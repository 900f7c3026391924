// tsvirt's public library API: libvirt's object model in TypeScript.
//
//   const conn = await open('test:///default');
//   const dom = await conn.domainLookupByName('test');
//   await dom.destroy();
export { open, openReadOnly, defaultURI, type OpenOptions } from './open.js';
export {
  Connection,
  Domain,
  Network,
  StoragePool,
  canonicalUUID,
  type DomainEventHandler,
  type DomainEventMessage,
  type NetworkEventHandler,
  type NetworkEventMessage,
} from './connection.js';
export { driverTable, selectDriver, openInProcess, type DriverEntry, type DriverOpenOptions } from './driverTable.js';
export { daemonSocketDir, daemonSocketPath, runningDaemonSocket, RW_SOCKET_NAME, RO_SOCKET_NAME } from './daemonSocket.js';
export * from '../drivers/constants.js';
export type {
  DomainInfo,
  DomainInterfaceAddresses,
  NetworkDHCPLease,
  NodeInfo,
  SecurityLabel,
  SecurityModel,
  TypedParam,
  DomainEvent,
  NetworkEvent,
} from '../drivers/driver.js';
export { VirtError, ErrorNumber, ErrorDomain } from '../errors/index.js';
