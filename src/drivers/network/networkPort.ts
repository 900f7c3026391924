// Network ports: what a guest interface of type='network' gets from its network (libvirt's
// virNetworkPortDef). The QEMU driver asks for a port with the interface's settings and gets
// back how to connect: to a bridge (tap), to a host device in macvtap mode (direct), or to a PCI
// device (hostdev), with the bandwidth, VLAN and trust settings merged from the interface, its
// portgroup and the network, and the floor class on the network bridge. Ports are plain values
// and are kept as libvirt's <networkport> XML in the run directory, so a restarted daemon finds
// them again.
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import type { ActualNetDef } from '../../conf/domain/interface.js';
import { normalizeMacAddr } from '../../conf/macAddr.js';
import { formatNetDevBandwidth, parseNetDevBandwidth, type NetDevBandwidth } from '../../conf/netdevBandwidth.js';
import { formatNetDevVirtualPort, parseNetDevVirtualPort, type NetDevVirtualPort } from '../../conf/netdevVirtualPort.js';
import { formatNetDevVlan, parseNetDevVlan, type NetDevVlan } from '../../conf/netdevVlan.js';
import type { MacTableManager } from '../../conf/network/index.js';
import { formatPciAddress, parsePciAddress, type PciAddress } from '../../conf/network/pciAddress.js';
import { normalizeUuid } from '../../conf/uuid.js';
import { childText, child, parseXml } from '../../conf/xml/xmlTree.js';
import { XmlWriter } from '../../conf/xml/xmlWriter.js';
import { plainReader, propYesNo, yesNo } from '../../conf/xmlProps.js';

export type DirectMode = 'bridge' | 'private' | 'vepa' | 'passthrough';

/** How the port is connected (libvirt's <plug>). */
export type NetworkPortPlug =
  /** 'network': a bridge the network manages (forward none/nat/route/open); 'bridge': a host bridge */
  | { type: 'network' | 'bridge'; bridge: string; macTableManager?: MacTableManager }
  /** macvtap on a host device of the pool */
  | { type: 'direct'; dev: string; mode: DirectMode }
  /** an SR-IOV VF of the pool, assigned to the guest */
  | { type: 'hostdev-pci'; address: PciAddress; driver?: 'kvm' | 'vfio'; managed?: boolean };

/** What the interface asks for (allocatePort's input). */
export interface NetworkPortRequest {
  /** The port's UUID; generated when absent. */
  uuid?: string;
  domainName: string;
  domainUUID: string;
  /** The guest MAC. */
  mac: string;
  /** <source portgroup>; absent = the network's default portgroup, if any. */
  portgroup?: string;
  bandwidth?: NetDevBandwidth;
  vlan?: NetDevVlan;
  virtualport?: NetDevVirtualPort;
  trustGuestRxFilters?: boolean;
  portIsolated?: boolean;
}

/** An allocated port: the request with the network's settings merged in, and its plug. */
export interface NetworkPort {
  uuid: string;
  /** The network's name and UUID. */
  network: string;
  networkUUID: string;
  domainName: string;
  domainUUID: string;
  mac: string;
  /** The portgroup that applied (the requested one or the default). */
  portgroup?: string;
  bandwidth?: NetDevBandwidth;
  /** tc class of the port's floor on the network bridge; absent when it has none. */
  classID?: number;
  vlan?: NetDevVlan;
  virtualport?: NetDevVirtualPort;
  trustGuestRxFilters?: boolean;
  portIsolated?: boolean;
  plug: NetworkPortPlug;
}

function portXmlError(msg: string) {
  return virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NETWORK, msg);
}

const PLUG_TYPES = ['network', 'bridge', 'direct', 'hostdev-pci'] as const;
const DIRECT_MODES: readonly DirectMode[] = ['vepa', 'private', 'bridge', 'passthrough'];

/** <networkport> as libvirt's virNetworkPortDefFormat writes it. */
export function formatNetworkPortXML(port: NetworkPort): string {
  const w = new XmlWriter();
  w.open('networkport');
  w.text('uuid', port.uuid);
  w.open('owner');
  w.text('name', port.domainName);
  w.text('uuid', port.domainUUID);
  w.close('owner');
  if (port.portgroup !== undefined) w.text('group', port.portgroup);
  w.empty('mac', { address: port.mac });
  formatNetDevVirtualPort(w, port.virtualport);
  formatNetDevBandwidth(w, port.bandwidth, port.classID);
  formatNetDevVlan(w, port.vlan);
  if (port.portIsolated !== undefined) w.empty('port', { isolated: yesNo(port.portIsolated) });
  if (port.trustGuestRxFilters !== undefined) w.empty('rxfilters', { trustGuest: yesNo(port.trustGuestRxFilters) });
  const p = port.plug;
  switch (p.type) {
    case 'network':
    case 'bridge':
      w.empty('plug', { type: p.type, bridge: p.bridge, macTableManager: p.macTableManager });
      break;
    case 'direct':
      w.empty('plug', { type: p.type, dev: p.dev, mode: p.mode });
      break;
    case 'hostdev-pci':
      w.open('plug', { type: p.type, managed: yesNo(p.managed) });
      if (p.driver) w.empty('driver', { name: p.driver });
      formatPciAddress(w, p.address);
      w.close('plug');
      break;
  }
  w.close('networkport');
  return w.toString();
}

/**
 * Reads a port status file (virNetworkPortDefParseXML's checks and messages). `network` and
 * `networkUUID` are not part of the XML; the caller knows them from the directory.
 */
export function parseNetworkPortXML(xml: string, network: string, networkUUID: string): NetworkPort {
  const root = parseXml(xml, { url: '(networkport_definition)', errorDomain: ErrorDomain.NETWORK });
  if (root.name !== 'networkport') throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.NETWORK, 'unknown root element for network port');
  const uuidText = childText(root, 'uuid');
  if (uuidText === undefined) throw portXmlError('network port has no uuid');
  const uuid = normalizeUuid(uuidText.trim());
  if (!uuid) throw portXmlError(`Unable to parse UUID '${uuidText}'`);
  const owner = child(root, 'owner');
  const ownerName = owner ? childText(owner, 'name') : undefined;
  if (ownerName === undefined) throw portXmlError('network port has no owner name');
  const ownerUuidText = owner ? childText(owner, 'uuid') : undefined;
  if (ownerUuidText === undefined) throw portXmlError('network port has no owner UUID');
  const ownerUUID = normalizeUuid(ownerUuidText.trim());
  if (!ownerUUID) throw portXmlError(`Unable to parse UUID '${ownerUuidText}'`);
  const macText = child(root, 'mac')?.attrs.address;
  if (macText === undefined) throw portXmlError('network port has no mac');
  const mac = normalizeMacAddr(macText);
  if (!mac) throw portXmlError(`Unable to parse MAC '${macText}'`);

  const port: Partial<NetworkPort> & { plug?: NetworkPortPlug } = { uuid, network, networkUUID, domainName: ownerName, domainUUID: ownerUUID, mac };
  const group = childText(root, 'group');
  if (group !== undefined) port.portgroup = group;
  const vp = child(root, 'virtualport');
  if (vp) port.virtualport = parseNetDevVirtualPort(vp, { errorDomain: ErrorDomain.NETWORK });
  const bw = child(root, 'bandwidth');
  if (bw) {
    const parsed = parseNetDevBandwidth(bw, { allowFloor: true, allowClassID: true, errorDomain: ErrorDomain.NETWORK });
    if (parsed.bandwidth) port.bandwidth = parsed.bandwidth;
    if (parsed.classID) port.classID = parsed.classID;
  }
  const vlan = child(root, 'vlan');
  if (vlan) port.vlan = parseNetDevVlan(vlan, { errorDomain: ErrorDomain.NETWORK });
  const portEl = child(root, 'port');
  if (portEl) {
    const iso = propYesNo(plainReader, portEl, 'isolated');
    if (iso !== undefined) port.portIsolated = iso;
  }
  const rx = child(root, 'rxfilters');
  if (rx) {
    const trust = propYesNo(plainReader, rx, 'trustGuest');
    if (trust !== undefined) port.trustGuestRxFilters = trust;
  }
  const plug = child(root, 'plug');
  const type = plug?.attrs.type;
  if (!plug || type === undefined) throw portXmlError('network port has no plug');
  if (!(PLUG_TYPES as readonly string[]).includes(type)) {
    throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.NETWORK, `Invalid plug type '${type}' in network port`);
  }
  if (type === 'network' || type === 'bridge') {
    const bridge = plug.attrs.bridge;
    if (bridge === undefined) throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.NETWORK, 'Missing network port bridge name');
    const mgr = plug.attrs.macTableManager;
    if (mgr !== undefined && mgr !== 'kernel' && mgr !== 'libvirt') {
      throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.NETWORK, `Invalid macTableManager setting '${mgr}' in network port`);
    }
    port.plug = { type, bridge, ...(mgr ? { macTableManager: mgr } : {}) };
  } else if (type === 'direct') {
    const dev = plug.attrs.dev;
    if (dev === undefined) throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.NETWORK, 'Missing network port link device name');
    const mode = (plug.attrs.mode ?? 'vepa') as DirectMode;
    if (!DIRECT_MODES.includes(mode)) throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.NETWORK, `Invalid mode setting '${mode}' in network port`);
    port.plug = { type, dev, mode };
  } else {
    const addr = child(plug, 'address');
    if (!addr) throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.NETWORK, 'Missing network port PCI address');
    const driver = child(plug, 'driver')?.attrs.name;
    if (driver !== undefined && driver !== 'kvm' && driver !== 'vfio') {
      throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.NETWORK, 'Missing network port driver name');
    }
    const managed = propYesNo(plainReader, plug, 'managed');
    port.plug = {
      type: 'hostdev-pci',
      address: parsePciAddress(addr),
      ...(driver ? { driver } : {}),
      ...(managed !== undefined ? { managed } : {}),
    };
  }
  return port as NetworkPort;
}

/**
 * The <actual> a domain interface of type='network' shows for this port (the QEMU driver stores
 * it in the domain status and formats it in the live XML).
 */
export function portActualNetDef(port: NetworkPort): ActualNetDef {
  const a: ActualNetDef = { type: 'network' };
  const p = port.plug;
  switch (p.type) {
    case 'network':
    case 'bridge':
      a.type = p.type;
      a.source = { bridge: p.bridge, ...(p.macTableManager ? { macTableManager: p.macTableManager } : {}) };
      break;
    case 'direct':
      a.type = 'direct';
      a.source = { dev: p.dev, mode: p.mode };
      break;
    case 'hostdev-pci':
      a.type = 'hostdev';
      a.hostdev = {
        managed: p.managed === true,
        source: {
          type: 'pci',
          address: { domain: p.address.domain, bus: p.address.bus, slot: p.address.slot, function: p.address.function },
          ...(p.driver ? { driver: p.driver } : {}),
        },
      };
      break;
  }
  if (port.trustGuestRxFilters !== undefined) a.trustGuestRxFilters = port.trustGuestRxFilters;
  if (port.classID) a.classId = port.classID;
  if (port.vlan) a.vlan = port.vlan;
  if (port.virtualport) a.virtualport = port.virtualport;
  if (port.bandwidth) a.bandwidth = port.bandwidth;
  if (port.portIsolated !== undefined) a.portIsolated = port.portIsolated;
  return a;
}
