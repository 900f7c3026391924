// The test driver's view of a domain definition: everything the driver reads or changes in one,
// behind a few functions, so the state machine does not depend on the shape of the XML model.
//
// STAND-IN: until src/conf/domain (parseDomainXML/formatDomainXML) lands, definitions are kept as
// XML trees with the handful of defaults the state machine relies on filled in; formatting writes
// the tree back. Only this module changes when the real model is wired in.
import { randomBytes, randomUUID } from 'node:crypto';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { child, children, parseXml, textOf, type XmlElement } from '../../conf/xml/xmlTree.js';
import { serializeLibxml } from '../../conf/xml/xmlWriter.js';

export interface DomainDef {
  tree: XmlElement;
  name: string;
  uuid: string;
}

export interface DomainDefSummary {
  name: string;
  uuid: string;
  /** KiB */
  memory: number;
  /** KiB */
  currentMemory: number;
  vcpus: number;
  maxVcpus: number;
  onPoweroff: string;
  onReboot: string;
}

export interface NetBandwidthRate {
  average?: number;
  peak?: number;
  burst?: number;
  floor?: number;
}

export interface DomainNetView {
  type: string;
  ifname: string | undefined;
  mac: string | undefined;
  network: string | undefined;
  bridge: string | undefined;
}

const VIRT_TYPES = new Set(['qemu', 'kqemu', 'kvm', 'xen', 'lxc', 'uml', 'openvz', 'test', 'vmware', 'hyperv', 'vbox', 'phyp', 'parallels', 'bhyve', 'vz', 'none']);

function text(el: XmlElement | undefined): string | undefined {
  return el ? textOf(el).trim() : undefined;
}

function setChildText(parent: XmlElement, name: string, value: string, attrs: Record<string, string> = {}): void {
  const el = child(parent, name);
  if (el) {
    el.children = [value];
    Object.assign(el.attrs, attrs);
  } else {
    parent.children.push({ name, attrs, children: [value], line: 0, column: 0 });
  }
}

function randomMac(): string {
  const b = randomBytes(3);
  return `52:54:00:${[...b].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
}

/** Parses domain XML (inactive), filling the defaults the test driver relies on. */
export function parseDomainDef(xml: string, _opts: { validate?: boolean } = {}): DomainDef {
  const root = parseXml(xml, { url: '(domain_definition)', errorDomain: ErrorDomain.DOMAIN });
  if (root.name !== 'domain') {
    throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.XML, `expecting root element of 'domain', not '${root.name}'`);
  }
  const type = root.attrs.type;
  if (type === undefined) throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.DOMAIN, "missing domain type attribute");
  if (!VIRT_TYPES.has(type)) throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.DOMAIN, `invalid domain type ${type}`);
  delete root.attrs.id;
  const name = text(child(root, 'name'));
  if (!name) throw virtError(ErrorNumber.NO_NAME, ErrorDomain.DOMAIN);
  if (name.includes('/')) throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.DOMAIN, `name ${name} cannot contain '/'`);
  let uuid = text(child(root, 'uuid'));
  if (!uuid) {
    uuid = randomUUID();
    root.children.splice(root.children.indexOf(child(root, 'name')!) + 1, 0, { name: 'uuid', attrs: {}, children: [uuid], line: 0, column: 0 });
  }
  uuid = uuid.toLowerCase();
  const os = child(root, 'os');
  if (!os || !child(os, 'type')) throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.DOMAIN, 'an os <type> must be specified');
  const memory = text(child(root, 'memory'));
  if (!child(root, 'currentMemory') && memory) setChildText(root, 'currentMemory', memory);
  if (!child(root, 'vcpu')) setChildText(root, 'vcpu', '1', { placement: 'static' });
  const devices = child(root, 'devices');
  for (const net of devices ? children(devices, 'interface') : []) {
    if (!child(net, 'mac')) net.children.unshift({ name: 'mac', attrs: { address: randomMac() }, children: [], line: 0, column: 0 });
  }
  return { tree: root, name, uuid };
}

export function copyDomainDef(def: DomainDef): DomainDef {
  return { ...def, tree: structuredClone(def.tree) };
}

/** Domain XML as getXMLDesc returns it; `id` is written on running domains. */
export function formatDomainDef(def: DomainDef, opts: { inactive?: boolean; secure?: boolean; id?: number } = {}): string {
  const tree = structuredClone(def.tree);
  const attrs: Record<string, string> = { type: tree.attrs.type ?? 'test' };
  if (!opts.inactive && opts.id !== undefined && opts.id > 0) attrs.id = String(opts.id);
  for (const [k, v] of Object.entries(tree.attrs)) if (k !== 'type') attrs[k] = v;
  tree.attrs = attrs;
  return `${serializeLibxml(tree, 0)}\n`;
}

export function summarizeDomainDef(def: DomainDef): DomainDefSummary {
  const root = def.tree;
  const memory = Number(text(child(root, 'memory')) ?? 0);
  const vcpuEl = child(root, 'vcpu');
  const maxVcpus = Number(text(vcpuEl) ?? 1);
  return {
    name: def.name,
    uuid: def.uuid,
    memory,
    currentMemory: Number(text(child(root, 'currentMemory')) ?? memory),
    vcpus: vcpuEl?.attrs.current ? Number(vcpuEl.attrs.current) : maxVcpus,
    maxVcpus,
    onPoweroff: text(child(root, 'on_poweroff')) ?? 'destroy',
    onReboot: text(child(root, 'on_reboot')) ?? 'restart',
  };
}

function interfaces(def: DomainDef): XmlElement[] {
  const devices = child(def.tree, 'devices');
  return devices ? children(devices, 'interface') : [];
}

export function domainNets(def: DomainDef): DomainNetView[] {
  return interfaces(def).map((el) => ({
    type: el.attrs.type ?? '',
    ifname: child(el, 'target')?.attrs.dev,
    mac: child(el, 'mac')?.attrs.address,
    network: child(el, 'source')?.attrs.network,
    bridge: child(el, 'source')?.attrs.bridge,
  }));
}

/** Names interfaces without a target dev testnet0, testnet1, … as libvirt's test driver. */
export function assignIfnames(def: DomainDef): void {
  const taken = new Set(domainNets(def).map((n) => n.ifname).filter((n): n is string => !!n));
  for (const el of interfaces(def)) {
    if (child(el, 'target')?.attrs.dev) continue;
    let i = 0;
    while (taken.has(`testnet${i}`)) i++;
    const dev = `testnet${i}`;
    taken.add(dev);
    const target = child(el, 'target');
    if (target) target.attrs.dev = dev;
    else el.children.push({ name: 'target', attrs: { dev }, children: [], line: 0, column: 0 });
  }
}

/** The interface a device string names (target dev or MAC), as virDomainNetFind. */
function findNet(def: DomainDef, device: string): XmlElement {
  const macLike = /^([0-9a-f]{1,2}:){5}[0-9a-f]{1,2}$/i.test(device);
  const found = interfaces(def).filter((el) =>
    macLike ? child(el, 'mac')?.attrs.address?.toLowerCase() === device.toLowerCase() : child(el, 'target')?.attrs.dev === device,
  );
  if (found.length === 0) {
    throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.DOMAIN, `'${device}' is not a known interface`, { value: device });
  }
  return found[0]!;
}

export function getNetBandwidth(def: DomainDef, device: string): { inbound?: NetBandwidthRate; outbound?: NetBandwidthRate } {
  const bw = child(findNet(def, device), 'bandwidth');
  const rate = (el: XmlElement | undefined): NetBandwidthRate | undefined => {
    if (!el) return undefined;
    const r: NetBandwidthRate = {};
    for (const k of ['average', 'peak', 'burst', 'floor'] as const) if (el.attrs[k] !== undefined) r[k] = Number(el.attrs[k]);
    return r;
  };
  return { inbound: rate(bw && child(bw, 'inbound')), outbound: rate(bw && child(bw, 'outbound')) };
}

export function setNetBandwidth(
  def: DomainDef,
  device: string,
  bw: { inbound?: NetBandwidthRate | null; outbound?: NetBandwidthRate | null },
): void {
  const net = findNet(def, device);
  let el = child(net, 'bandwidth');
  if (!el) {
    el = { name: 'bandwidth', attrs: {}, children: [], line: 0, column: 0 };
    net.children.push(el);
  }
  const bwEl = el;
  for (const dir of ['inbound', 'outbound'] as const) {
    const want = bw[dir];
    if (want === undefined) continue;
    bwEl.children = bwEl.children.filter((c) => !(typeof c === 'object' && 'name' in c && c.name === dir));
    if (want) {
      const attrs: Record<string, string> = {};
      for (const k of ['average', 'peak', 'floor', 'burst'] as const) if (want[k]) attrs[k] = String(want[k]);
      bwEl.children.push({ name: dir, attrs, children: [], line: 0, column: 0 });
    }
  }
  if (!children(bwEl).length) net.children = net.children.filter((c) => c !== bwEl);
}
