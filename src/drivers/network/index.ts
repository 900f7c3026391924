// The network driver: libvirt's virtual networks on this host and the ports guest interfaces
// plug into. NetworkDriverState is shared per directory pair in a process; NetworkDriver is the
// Driver interface's network half for one connection.
export { NetworkDriver, type NetworkDriverMethods } from './networkDriver.js';
export { NetworkDriverState, type NetworkDriverStateOptions } from './networkDriverState.js';
export {
  type DirectMode,
  type NetworkPort,
  type NetworkPortPlug,
  type NetworkPortRequest,
  formatNetworkPortXML,
  parseNetworkPortXML,
  portActualNetDef,
} from './networkPort.js';
export { NetworkFirewall, firewallScript, firewallTableName, networkFirewallRules } from './firewall.js';
export { dnsmasqConfig, parseDnsmasqLeases } from './dnsmasq.js';
export { type CommandRunner, type CommandResult, spawnCommandRunner } from './commandRunner.js';
