// The test driver's view of a network definition, behind a few functions.
//
// STAND-IN: until src/conf/network (parseNetworkXML/formatNetworkXML) lands, definitions are XML
// trees with a generated UUID; formatting writes the tree back. Only this module changes when the
// real model is wired in.
import { randomUUID } from 'node:crypto';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { child, parseXml, textOf, type XmlElement } from '../../conf/xml/xmlTree.js';
import { serializeLibxml } from '../../conf/xml/xmlWriter.js';

export interface NetworkDef {
  tree: XmlElement;
  name: string;
  uuid: string;
}

export function parseNetworkDef(xml: string, _opts: { validate?: boolean } = {}): NetworkDef {
  const root = parseXml(xml, { url: '(network_definition)', errorDomain: ErrorDomain.NETWORK });
  if (root.name !== 'network') {
    throw virtError(ErrorNumber.XML_ERROR, ErrorDomain.XML, `expecting root element of 'network', not '${root.name}'`);
  }
  const nameEl = child(root, 'name');
  const name = nameEl ? textOf(nameEl).trim() : '';
  if (!name) throw virtError(ErrorNumber.NO_NAME, ErrorDomain.NETWORK, '(network_definition)');
  let uuid = child(root, 'uuid') ? textOf(child(root, 'uuid')!).trim() : '';
  if (!uuid) {
    uuid = randomUUID();
    root.children.splice(root.children.indexOf(nameEl!) + 1, 0, { name: 'uuid', attrs: {}, children: [uuid], line: 0, column: 0 });
  }
  return { tree: root, name, uuid: uuid.toLowerCase() };
}

export function copyNetworkDef(def: NetworkDef): NetworkDef {
  return { ...def, tree: structuredClone(def.tree) };
}

export function formatNetworkDef(def: NetworkDef, _opts: { inactive?: boolean } = {}): string {
  return `${serializeLibxml(def.tree, 0)}\n`;
}

export function networkBridgeName(def: NetworkDef): string | undefined {
  return child(def.tree, 'bridge')?.attrs.name;
}

/** The first IPv4 <ip> with a DHCP range, for the test driver's made-up guest addresses. */
export function networkDhcpStart(def: NetworkDef): { start: string; prefix: number } | undefined {
  for (const c of def.tree.children) {
    if (typeof c !== 'object' || !('name' in c) || c.name !== 'ip') continue;
    const range = child(child(c, 'dhcp') ?? c, 'range');
    if (!range?.attrs.start || range.attrs.start.includes(':')) continue;
    const prefix = c.attrs.prefix ? Number(c.attrs.prefix) : netmaskPrefix(c.attrs.netmask ?? '255.255.255.0');
    return { start: range.attrs.start, prefix };
  }
  return undefined;
}

function netmaskPrefix(mask: string): number {
  return mask.split('.').reduce((n, o) => n + (Number(o) >>> 0).toString(2).replace(/0/g, '').length, 0);
}

export type { XmlElement };
