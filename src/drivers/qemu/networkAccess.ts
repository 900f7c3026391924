// What the QEMU driver needs from the network driver: the network calls of the Driver interface
// (a qemu:/// connection serves networks too, as libvirt's does) and, for type='network'
// interfaces, a port on the network at start that is released at stop. Until the network driver
// is plugged in, every call says so.
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import type { Driver, NetworkEventCallback, NetworkRef } from '../driver.js';
import type { EventBroker } from '../events.js';

type NetworkCalls = Pick<
  Driver,
  | 'listAllNetworks'
  | 'numOfNetworks'
  | 'listNetworks'
  | 'numOfDefinedNetworks'
  | 'listDefinedNetworks'
  | 'networkLookupByName'
  | 'networkLookupByUUID'
  | 'networkDefineXML'
  | 'networkCreateXML'
  | 'networkUndefine'
  | 'networkCreate'
  | 'networkDestroy'
  | 'networkGetXMLDesc'
  | 'networkGetBridgeName'
  | 'networkGetAutostart'
  | 'networkSetAutostart'
  | 'networkIsActive'
  | 'networkIsPersistent'
  | 'networkGetDHCPLeases'
>;

export interface NetworkAccess extends NetworkCalls {
  /** Registers a network event callback on the connection's broker. */
  networkEventRegisterAny(broker: EventBroker, net: NetworkRef | null, eventId: number, cb: NetworkEventCallback): Promise<number>;
}

/** The stand-in used while no network driver is available. */
export function noNetworkDriver(): NetworkAccess {
  return new Proxy({} as NetworkAccess, {
    get: (_t, prop) => (..._args: unknown[]) => Promise.reject(virtError(ErrorNumber.NO_SUPPORT, ErrorDomain.NETWORK, `virNetwork ${String(prop)}: no network driver in this build`)),
  });
}
