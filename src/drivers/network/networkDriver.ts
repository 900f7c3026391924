// The network half of the Driver interface for one connection, on a shared
// NetworkDriverState. The QEMU driver's connections (and an embedded or daemon connection) hold
// one of these and delegate every network method to it one to one; flag checks, argument checks
// and error texts are libvirt's network driver's (error domain NETWORK).
import { ErrorDomain } from '../../errors/index.js';
import { NetworkCreateFlags, NetworkDefineFlags, NetworkXMLFlags } from '../constants.js';
import type { Driver, NetworkDHCPLease, NetworkEventCallback, NetworkRef } from '../driver.js';
import { EventBroker } from '../events.js';
import { checkFlags, checkNonNegativeArg } from '../flags.js';
import { ALL_NETWORK_LIST_FLAGS, networkMatchesListFlags } from '../listFlags.js';
import type { NetworkDriverState } from './networkDriverState.js';

const NET = ErrorDomain.NETWORK;

/** The Driver methods this class implements, with exactly the Driver's signatures. */
export type NetworkDriverMethods = Pick<
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
  | 'networkEventRegisterAny'
  | 'networkEventDeregisterAny'
>;

export class NetworkDriver implements NetworkDriverMethods {
  private closed = false;

  /**
   * `events`: the connection's broker; lifecycle events of every network reach it until close().
   * A connection that has none gets its own.
   */
  constructor(
    readonly state: NetworkDriverState,
    readonly events: EventBroker = new EventBroker(),
  ) {
    state.attachEvents(events);
  }

  /** Stops event delivery to this connection. The state and its networks stay. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.state.detachEvents(this.events);
  }

  async listAllNetworks(flags: number): Promise<NetworkRef[]> {
    checkFlags(flags, ALL_NETWORK_LIST_FLAGS, 'networkConnectListAllNetworks', NET);
    return this.state
      .list()
      .filter((n) => networkMatchesListFlags(flags, n))
      .map((n) => n.ref);
  }

  async numOfNetworks(): Promise<number> {
    return this.state.list().filter((n) => n.active).length;
  }

  async listNetworks(maxnames: number): Promise<string[]> {
    checkNonNegativeArg('maxnames', maxnames, 'virConnectListNetworks', NET);
    return this.state
      .list()
      .filter((n) => n.active)
      .map((n) => n.ref.name)
      .slice(0, maxnames);
  }

  async numOfDefinedNetworks(): Promise<number> {
    return this.state.list().filter((n) => !n.active).length;
  }

  async listDefinedNetworks(maxnames: number): Promise<string[]> {
    checkNonNegativeArg('maxnames', maxnames, 'virConnectListDefinedNetworks', NET);
    return this.state
      .list()
      .filter((n) => !n.active)
      .map((n) => n.ref.name)
      .slice(0, maxnames);
  }

  async networkLookupByName(name: string): Promise<NetworkRef> {
    return this.state.lookupByName(name);
  }

  async networkLookupByUUID(uuid: string): Promise<NetworkRef> {
    return this.state.lookupByUUID(uuid);
  }

  async networkDefineXML(xml: string, flags: number): Promise<NetworkRef> {
    checkFlags(flags, NetworkDefineFlags.VALIDATE, 'networkDefineXMLFlags', NET);
    return this.state.defineXML(xml, (flags & NetworkDefineFlags.VALIDATE) !== 0);
  }

  async networkCreateXML(xml: string, flags: number): Promise<NetworkRef> {
    checkFlags(flags, NetworkCreateFlags.VALIDATE, 'networkCreateXMLFlags', NET);
    return this.state.createXML(xml, (flags & NetworkCreateFlags.VALIDATE) !== 0);
  }

  async networkUndefine(net: NetworkRef): Promise<void> {
    await this.state.undefine(net);
  }

  async networkCreate(net: NetworkRef): Promise<void> {
    await this.state.create(net);
  }

  async networkDestroy(net: NetworkRef): Promise<void> {
    await this.state.destroy(net);
  }

  async networkGetXMLDesc(net: NetworkRef, flags: number): Promise<string> {
    checkFlags(flags, NetworkXMLFlags.INACTIVE, 'networkGetXMLDesc', NET);
    return this.state.getXMLDesc(net, (flags & NetworkXMLFlags.INACTIVE) !== 0);
  }

  async networkGetBridgeName(net: NetworkRef): Promise<string> {
    return this.state.getBridgeName(net);
  }

  async networkGetAutostart(net: NetworkRef): Promise<boolean> {
    return this.state.getAutostart(net);
  }

  async networkSetAutostart(net: NetworkRef, autostart: boolean): Promise<void> {
    await this.state.setAutostart(net, autostart);
  }

  async networkIsActive(net: NetworkRef): Promise<boolean> {
    return this.state.isActive(net);
  }

  async networkIsPersistent(net: NetworkRef): Promise<boolean> {
    return this.state.isPersistent(net);
  }

  async networkGetDHCPLeases(net: NetworkRef, mac: string | null, flags: number): Promise<NetworkDHCPLease[]> {
    checkFlags(flags, 0, 'networkGetDHCPLeases', NET);
    return this.state.getDHCPLeases(net, mac);
  }

  async networkEventRegisterAny(net: NetworkRef | null, eventId: number, cb: NetworkEventCallback): Promise<number> {
    return this.events.networkRegister(net, eventId, cb);
  }

  async networkEventDeregisterAny(callbackId: number): Promise<void> {
    this.events.networkDeregister(callbackId);
  }
}
