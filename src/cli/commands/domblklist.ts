import { DomainXMLFlags } from '../../api/index.js';
import { child, children, parseXml } from '../../conf/xml/xmlTree.js';
import type { CommandDef } from '../commandDef.js';
import { lookupDomain } from '../lookup.js';
import { formatTable } from '../vshTable.js';
import { domainOpt } from './domainAction.js';
import { firstAttr } from './domiflist.js';

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
    const xml = await found.dom.getXMLDesc(sh.bool(cmd, 'inactive') ? DomainXMLFlags.INACTIVE : 0);
    const devices = child(parseXml(xml), 'devices');
    const rows = (devices ? children(devices, 'disk') : []).map((el) => {
      const target = child(el, 'target')?.attrs.dev ?? '';
      const source = firstAttr(child(el, 'source'), ['file', 'dev', 'dir', 'name', 'volume']) || '-';
      return details ? [el.attrs.type ?? '', el.attrs.device ?? '', target, source] : [target, source];
    });
    const header = details ? ['Type', 'Device', 'Target', 'Source'] : ['Target', 'Source'];
    sh.print(formatTable(header, rows, !sh.quiet));
    return true;
  },
};
