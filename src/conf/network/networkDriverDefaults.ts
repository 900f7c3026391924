// What a driver adds to a network definition after parsing it on define/create. The conf layer
// fills only what libvirt's parser fills (UUID, forward mode, stp/delay when printed); each
// driver then applies its own rules through this hook. libvirt's test driver adds nothing; its
// network driver (bridge_driver.c networkValidate) names the bridge virbrN, generates the
// bridge MAC and refuses configurations it cannot run. Host facts come in through the context
// so this stays free of host access.
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { generateMacAddrString } from '../macAddr.js';
import { checkIllegalChars } from '../xmlProps.js';
import type { NetworkDef, NetworkPortGroup } from './networkDef.js';
import { networkForwardMode, networkHasManagedBridge } from './networkDef.js';
import type { PciAddress } from './pciAddress.js';

export interface NetworkDefineContext {
  /** A bridge name used by another network (not the one being defined). */
  bridgeInUse(name: string): boolean;
  /** A network device of that name exists on the host (virNetDevExists). */
  netdevExists?(name: string): boolean;
  /** The sysfs path of a PCI device, when it is an SR-IOV virtual function; undefined otherwise. */
  virtualFunctionPath?(addr: PciAddress): { path: string; isVirtualFunction: boolean };
}

export interface NetworkDriverDefaults {
  /** The driver registers the <dnsmasq:options> namespace (libvirt's network driver does). */
  dnsmasqNamespace?: boolean;
  /** Fills driver defaults into a freshly parsed definition and refuses what the driver cannot run. */
  postParse(def: NetworkDef, ctx: NetworkDefineContext): void;
}

/** libvirt's test driver: the definition stays as parsed. */
export const testDriverNetworkDefaults: NetworkDriverDefaults = {
  postParse() {},
};

const MAX_BRIDGE_ID = 256;

function internal(msg: string) {
  return virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NETWORK, msg);
}
function unsupported(msg: string) {
  return virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.NETWORK, msg);
}

/**
 * networkBridgeNameValidate: a given name must not be another network's; no name (or a name
 * with one %d, a template) gets the first free virbrN / template instance, skipping names of
 * existing host devices.
 */
export function assignNetworkBridgeName(def: NetworkDef, ctx: NetworkDefineContext): void {
  const name = def.bridge?.name;
  if (name !== undefined && !name.includes('%d')) {
    if (ctx.bridgeInUse(name)) throw internal(`bridge name '${name}' already in use.`);
    return;
  }
  let templ = 'virbr%d';
  if (name !== undefined && name.indexOf('%') === name.lastIndexOf('%') && name[name.indexOf('%') + 1] === 'd') templ = name;
  for (let id = 0; id <= MAX_BRIDGE_ID; id++) {
    const candidate = templ.replace('%d', String(id));
    if (!ctx.bridgeInUse(candidate) && !ctx.netdevExists?.(candidate)) {
      def.bridge = { ...def.bridge, name: candidate };
      return;
    }
  }
  throw internal(`Bridge generation exceeded max id ${MAX_BRIDGE_ID}`);
}

/** virNetworkSetBridgeMacAddr: a generated 52:54:00:xx:xx:xx when none was given. */
export function ensureNetworkBridgeMac(def: NetworkDef): void {
  if (!def.mac) def.mac = generateMacAddrString();
}

/** libvirt's network driver (networkValidate in bridge_driver.c, libvirt 9.0 messages). */
export const networkDriverNetworkDefaults: NetworkDriverDefaults = {
  dnsmasqNamespace: true,
  postParse(def, ctx) {
    checkIllegalChars('name', def.name, '\n');
    const mode = networkForwardMode(def);
    let bandwidthAllowed = false;
    if (networkHasManagedBridge(def)) {
      assignNetworkBridgeName(def, ctx);
      ensureNetworkBridgeMac(def);
      bandwidthAllowed = true;
    } else {
      if (mode === 'bridge' && def.bridge?.name !== undefined) bandwidthAllowed = true;
      const refuse = (what: string) => unsupported(`Unsupported <${what}> element in network ${def.name} with forward mode='${mode}'`);
      if (def.mac) throw refuse('mac');
      if (def.ip.length) throw refuse('ip');
      if (def.dns && (def.dns.txt.length || def.dns.host.length || def.dns.srv.length)) throw refuse('dns');
      if (def.domain?.name !== undefined) throw refuse('domain');
    }
    if (def.bandwidth && !bandwidthAllowed) {
      throw unsupported(`Unsupported network-wide <bandwidth> element in network ${def.name} with forward mode='${mode}'`);
    }

    const fwd = def.forward;
    if (fwd) {
      if (mode === 'hostdev' && fwd.interface.length) {
        throw unsupported(
          `hostdev network '${def.name}' lists '${fwd.interface[0]!.dev}' in the device pool, but hostdev networks require all devices to be listed by PCI address, not network device name`,
        );
      }
      for (const a of fwd.address) {
        if (mode !== 'hostdev') {
          throw unsupported(
            `network '${def.name}' has forward mode '${mode}'  but lists a device by PCI address in the device pool. This is only supported for networks with forward mode 'hostdev'`,
          );
        }
        const vf = ctx.virtualFunctionPath?.(a);
        if (vf && !vf.isVirtualFunction) throw unsupported(`device '${vf.path}' in network '${def.name}' is not an SR-IOV Virtual Function`);
      }
      if ((fwd.pf ? 1 : 0) + (fwd.interface.length ? 1 : 0) + (fwd.address.length ? 1 : 0) > 1) {
        throw unsupported(`<address>, <interface>, and <pf> elements of <forward> in network ${def.name} are mutually exclusive`);
      }
    }

    let v4 = false;
    let v6 = false;
    for (const ip of def.ip) {
      if (!ip.dhcp || !(ip.dhcp.range.length || ip.dhcp.host.length)) continue;
      const isV6 = ip.address.includes(':');
      if (isV6 ? v6 : v4) {
        const fam = isV6 ? 'IPv6' : 'IPv4';
        throw unsupported(`Multiple ${fam} dhcp sections found -- dhcp is supported only for a single ${fam} address on each network`);
      }
      if (isV6) v6 = true;
      else v4 = true;
    }

    // Only hostdev pools and Open vSwitch bridges can put a port on a VLAN.
    const vlanAllowed =
      mode === 'hostdev' || mode === 'passthrough' || (mode === 'bridge' && def.virtualport?.type === 'openvswitch');
    const vlanUsed = (def.vlan?.tag.length ?? 0) > 0;
    let badVlanUse = false;
    let defaultPg: NetworkPortGroup | undefined;
    def.portgroup.forEach((pg, i) => {
      if (vlanUsed || (pg.vlan?.tag.length ?? 0) > 0) {
        if (pg.virtualport) {
          if (mode !== 'bridge' || pg.virtualport.type !== 'openvswitch') badVlanUse = true;
        } else if (!vlanAllowed) badVlanUse = true;
      }
      if (pg.default) {
        if (defaultPg) {
          throw unsupported(
            `network '${def.name}' has multiple default <portgroup> elements (${defaultPg.name} and ${pg.name}), but only one default is allowed`,
          );
        }
        defaultPg = pg;
      }
      for (const other of def.portgroup.slice(i + 1)) {
        if (other.name === pg.name) throw unsupported(`multiple <portgroup> elements with the same name (${pg.name}) in network '${def.name}'`);
      }
      if (pg.bandwidth && !bandwidthAllowed) {
        throw unsupported(`Unsupported <bandwidth> element in network '${def.name}' in portgroup '${pg.name}' with forward mode='${mode}'`);
      }
    });
    if (badVlanUse || (vlanUsed && !vlanAllowed && !defaultPg)) {
      throw unsupported(`<vlan> element specified for network ${def.name}, whose type doesn't support vlan configuration`);
    }
    if (mode === 'hostdev') {
      for (const pg of def.portgroup) {
        if (pg.bandwidth) {
          throw unsupported(`unsupported <bandwidth> element in <portgroup name='${pg.name}'> of network '${def.name}' with forward mode='${mode}'`);
        }
      }
    }
  },
};
