import { DomainXMLFlags } from '../../api/index.js';
import { child, children, parseXml, type XmlElement } from '../../conf/xml/xmlTree.js';
import type { CommandDef } from '../commandDef.js';
import { lookupDomain } from '../lookup.js';
import { formatTable } from '../vshTable.js';
import { domainOpt } from './domainAction.js';

/** The first of these attributes an element carries, in its own attribute order (XPath union). */
export function firstAttr(el: XmlElement | undefined, names: string[]): string {
  if (!el) return '';
  for (const k of Object.keys(el.attrs)) if (names.includes(k)) return el.attrs[k]!;
  return '';
}

export const command: CommandDef = {
  name: 'domiflist',
  help: 'list all domain virtual interfaces',
  desc: 'Get the summary of virtual interfaces for a domain.',
  opts: [domainOpt, { name: 'inactive', type: 'bool', help: 'get inactive rather than running configuration' }],
  async run(sh, cmd) {
    const found = await lookupDomain(sh, cmd);
    if (!found) return false;
    const xml = await found.dom.getXMLDesc(sh.bool(cmd, 'inactive') ? DomainXMLFlags.INACTIVE : 0);
    const devices = child(parseXml(xml), 'devices');
    const rows = (devices ? children(devices, 'interface') : []).map((el) => [
      child(el, 'target')?.attrs.dev || '-',
      el.attrs.type ?? '',
      firstAttr(child(el, 'source'), ['bridge', 'dev', 'network', 'name', 'path']) || '-',
      child(el, 'model')?.attrs.type || '-',
      child(el, 'mac')?.attrs.address || '-',
    ]);
    sh.print(formatTable(['Interface', 'Type', 'Source', 'Model', 'MAC'], rows, !sh.quiet));
    return true;
  },
};
