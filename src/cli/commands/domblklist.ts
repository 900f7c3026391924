import { DomainXMLFlags } from '../../api/index.js';
import { child, children, parseXml } from '../../conf/xml/xmlTree.js';
import type { CommandDef } from '../commandDef.js';
import { lookupDomain } from '../lookup.js';
import { formatTable } from '../vshTable.js';
import { domainOpt } from './domainAction.js';
import { firstAttr } from './domiflist.js';

export interface DiskSummary {
  type: string;
  device: string;
  target: string;
  /** the source's file, dev, dir, name or volume; '' when it has none */
  source: string;
}

/** The <disk>s of a domain's XML as domblklist lists them (undefine --storage matches the same). */
export function domainDisks(xml: string): DiskSummary[] {
  const devices = child(parseXml(xml), 'devices');
  return (devices ? children(devices, 'disk') : []).map((el) => ({
    type: el.attrs.type ?? '',
    device: el.attrs.device ?? '',
    target: child(el, 'target')?.attrs.dev ?? '',
    source: firstAttr(child(el, 'source'), ['file', 'dev', 'dir', 'name', 'volume']),
  }));
}

export const command: CommandDef = {
  name: 'domblklist',
  help: 'list all domain blocks',
  desc: 'Get the summary of block devices for a domain.',
  opts: [
    domainOpt,
    { name: 'inactive', type: 'bool', help: 'get inactive rather than running configuration' },
    { name: 'details', type: 'bool', help: 'additionally display the type and device value' },
  ],
  async run(sh, cmd) {
    const found = await lookupDomain(sh, cmd);
    if (!found) return false;
    const details = sh.bool(cmd, 'details');
    const disks = domainDisks(await found.dom.getXMLDesc(sh.bool(cmd, 'inactive') ? DomainXMLFlags.INACTIVE : 0));
    const rows = disks.map((d) => (details ? [d.type, d.device, d.target, d.source || '-'] : [d.target, d.source || '-']));
    const header = details ? ['Type', 'Device', 'Target', 'Source'] : ['Target', 'Source'];
    sh.print(formatTable(header, rows, !sh.quiet));
    return true;
  },
};
