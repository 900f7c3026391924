// NetworkDef → network XML exactly as libvirt 9.0 prints it (virNetworkDefFormatBuf): element and
// attribute order, the defaults it adds (stp/delay on libvirt-managed bridges, the hostdev
// managed flag), what it leaves out (zero values, dhcp without ranges or hosts).
//
// One deliberate difference: libvirt prints a few free-text attributes without escaping
// (<domain name>, <portgroup name>, dhcp <host mac/name>, virtualport profileid), so a name
// holding ' or & makes it write malformed XML; tsvirt escapes them.
import { formatBitmap } from '../bitmap.js';
import { formatNetDevBandwidth } from '../netdevBandwidth.js';
import { formatNetDevVirtualPort } from '../netdevVirtualPort.js';
import { formatNetDevVlan } from '../netdevVlan.js';
import { children } from '../xml/xmlTree.js';
import { XmlWriter } from '../xml/xmlWriter.js';
import { yesNo } from '../xmlProps.js';
import { networkHasManagedBridge, type DhcpLease, type NetworkDef, type NetworkDns, type NetworkIp, type NetworkStatus } from './networkDef.js';
import { DNSMASQ_NAMESPACE } from './networkParse.js';
import { formatPciAddress } from './pciAddress.js';

export interface NetworkFormatOptions {
  /** VIR_NETWORK_XML_INACTIVE: leave out live-only data (connections, the expanded VF pool). */
  inactive?: boolean;
}

/** Writes the <network> element at the writer's current depth. */
export function writeNetworkElement(w: XmlWriter, def: NetworkDef, opts: NetworkFormatOptions = {}): void {
  const live = !opts.inactive;
  w.open('network', {
    'xmlns:dnsmasq': def.dnsmasqOptions?.length ? DNSMASQ_NAMESPACE : undefined,
    connections: live && def.connections ? def.connections : undefined,
    ipv6: def.ipv6 ? 'yes' : undefined,
    trustGuestRxFilters: yesNo(def.trustGuestRxFilters),
  });
  w.text('name', def.name);
  w.text('uuid', def.uuid);
  if (def.metadata) {
    const kids = children(def.metadata);
    if (kids.length === 0) w.empty('metadata');
    else {
      w.open('metadata');
      for (const c of kids) w.verbatim(c);
      w.close('metadata');
    }
  }

  const fwd = def.forward;
  if (fwd) {
    const dev = fwd.pf ? undefined : fwd.interface[0]?.dev;
    const short = !(
      fwd.interface.length ||
      fwd.address.length ||
      fwd.pf ||
      fwd.nat?.address ||
      fwd.nat?.port?.start ||
      fwd.nat?.port?.end ||
      fwd.driver ||
      fwd.nat?.ipv6 !== undefined
    );
    const attrs = { dev, mode: fwd.mode, managed: fwd.mode === 'hostdev' ? (fwd.managed ? 'yes' : 'no') : undefined };
    if (short) w.empty('forward', attrs);
    else {
      w.open('forward', attrs);
      if (fwd.driver) w.empty('driver', { name: fwd.driver.name });
      const nat = fwd.nat;
      if (fwd.mode === 'nat' && nat && (nat.address || nat.port?.start || nat.port?.end || nat.ipv6 !== undefined)) {
        const natAttrs = { ipv6: yesNo(nat.ipv6) };
        if (!nat.address && !nat.port?.start && !nat.port?.end) w.empty('nat', natAttrs);
        else {
          w.open('nat', natAttrs);
          if (nat.address) w.empty('address', { start: nat.address.start, end: nat.address.end });
          if (nat.port && (nat.port.start || nat.port.end)) w.empty('port', { start: nat.port.start, end: nat.port.end || undefined });
          w.close('nat');
        }
      }
      if (fwd.pf) w.empty('pf', { dev: fwd.pf.dev });
      if (!fwd.pf || live) {
        for (const i of fwd.interface) w.empty('interface', { dev: i.dev, connections: live && i.connections ? i.connections : undefined });
        for (const a of fwd.address) formatPciAddress(w, a);
      }
      w.close('forward');
    }
  }

  const hasBridge = networkHasManagedBridge(def);
  const b = def.bridge;
  if (hasBridge || b?.name !== undefined || b?.macTableManager) {
    w.empty('bridge', {
      name: b?.name,
      zone: b?.zone,
      stp: hasBridge ? (b?.stp === false ? 'off' : 'on') : undefined,
      // libvirt prints the unsigned delay with %ld.
      delay: hasBridge ? BigInt.asIntN(64, b?.delay ?? 0n) : undefined,
      macTableManager: b?.macTableManager,
    });
  }
  if (def.mtu) w.empty('mtu', { size: def.mtu });
  if (def.mac) w.empty('mac', { address: def.mac });
  if (def.domain?.name !== undefined) w.empty('domain', { name: def.domain.name, localOnly: yesNo(def.domain.localOnly) });
  if (def.dns) writeDns(w, def.dns);
  formatNetDevVlan(w, def.vlan);
  formatNetDevBandwidth(w, def.bandwidth);
  if (def.port?.isolated !== undefined) w.empty('port', { isolated: yesNo(def.port.isolated) });
  for (const ip of def.ip) writeIp(w, ip);
  for (const r of def.route) {
    w.empty('route', {
      family: r.family,
      address: r.address,
      netmask: r.netmask,
      prefix: r.prefix,
      gateway: r.gateway,
      metric: r.metric || undefined,
    });
  }
  formatNetDevVirtualPort(w, def.virtualport);
  for (const pg of def.portgroup) {
    w.open('portgroup', { name: pg.name, default: pg.default ? 'yes' : undefined, trustGuestRxFilters: yesNo(pg.trustGuestRxFilters) });
    formatNetDevVlan(w, pg.vlan);
    formatNetDevVirtualPort(w, pg.virtualport);
    formatNetDevBandwidth(w, pg.bandwidth);
    w.close('portgroup');
  }
  if (def.dnsmasqOptions?.length) {
    w.open('dnsmasq:options');
    for (const v of def.dnsmasqOptions) w.empty('dnsmasq:option', { value: v });
    w.close('dnsmasq:options');
  }
  w.close('network');
}

function writeDns(w: XmlWriter, dns: NetworkDns): void {
  const attrs = { enable: yesNo(dns.enable), forwardPlainNames: yesNo(dns.forwardPlainNames) };
  const hasChildren = dns.forwarder.length || dns.txt.length || dns.srv.length || dns.host.length;
  if (!hasChildren) {
    if (dns.enable !== undefined || dns.forwardPlainNames !== undefined) w.empty('dns', attrs);
    return;
  }
  w.open('dns', attrs);
  for (const f of dns.forwarder) w.empty('forwarder', { domain: f.domain, addr: f.addr });
  for (const t of dns.txt) w.empty('txt', { name: t.name, value: t.value });
  for (const s of dns.srv) {
    w.empty('srv', {
      service: s.service,
      protocol: s.protocol,
      domain: s.domain,
      target: s.target,
      port: s.port || undefined,
      priority: s.priority || undefined,
      weight: s.weight || undefined,
    });
  }
  for (const h of dns.host) {
    w.open('host', { ip: h.ip });
    for (const n of h.hostname) w.text('hostname', n);
    w.close('host');
  }
  w.close('dns');
}

function writeLease(w: XmlWriter, lease: DhcpLease): void {
  if (lease.expiry === 0n) w.empty('lease', { expiry: 0 });
  else w.empty('lease', { expiry: lease.expiry, unit: lease.unit ?? 'minutes' });
}

function writeIp(w: XmlWriter, ip: NetworkIp): void {
  w.open('ip', { family: ip.family, address: ip.address, netmask: ip.netmask, prefix: ip.prefix || undefined, localPtr: yesNo(ip.localPtr) });
  if (ip.tftp) w.empty('tftp', { root: ip.tftp.root });
  const dhcp = ip.dhcp;
  if (dhcp && (dhcp.range.length || dhcp.host.length)) {
    w.open('dhcp');
    for (const r of dhcp.range) {
      const attrs = { start: r.start, end: r.end };
      if (r.lease) {
        w.open('range', attrs);
        writeLease(w, r.lease);
        w.close('range');
      } else w.empty('range', attrs);
    }
    for (const h of dhcp.host) {
      const attrs = { mac: h.mac, id: h.id, name: h.name, ip: h.ip };
      if (h.lease) {
        w.open('host', attrs);
        writeLease(w, h.lease);
        w.close('host');
      } else w.empty('host', attrs);
    }
    if (dhcp.bootp) w.empty('bootp', { file: dhcp.bootp.file, server: dhcp.bootp.server });
    w.close('dhcp');
  }
  w.close('ip');
}

/** <networkstatus> around the live definition (libvirt's status file; no newline at the end). */
export function writeNetworkStatus(def: NetworkDef, status: NetworkStatus): string {
  const w = new XmlWriter();
  w.open('networkstatus');
  w.empty('class_id', { bitmap: formatBitmap(status.classId) });
  w.empty('floor', { sum: status.floorSum });
  for (const t of status.taint) w.empty('taint', { flag: t });
  writeNetworkElement(w, def);
  w.close('networkstatus');
  return w.toString().replace(/\n$/, '');
}
