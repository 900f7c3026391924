import { DomainXMLFlags } from '../../api/index.js';
import type { CommandDef } from '../commandDef.js';
import { lookupDomain } from '../lookup.js';
import { domainOpt } from './domainAction.js';
import { printXPath, xpathOpts } from './xpathOutput.js';

export const command: CommandDef = {
  name: 'dumpxml',
  help: 'domain information in XML',
  desc: 'Output the domain information as an XML dump to stdout.',
  opts: [
    domainOpt,
    { name: 'inactive', type: 'bool', help: 'show inactive defined XML' },
    { name: 'security-info', type: 'bool', help: 'include security sensitive information in XML dump' },
    { name: 'update-cpu', type: 'bool', help: 'update guest CPU according to host CPU' },
    { name: 'migratable', type: 'bool', help: 'provide XML suitable for migrations' },
    ...xpathOpts,
  ],
  async run(sh, cmd) {
    const found = await lookupDomain(sh, cmd);
    if (!found) return false;
    let flags = 0;
    if (sh.bool(cmd, 'inactive')) flags |= DomainXMLFlags.INACTIVE;
    if (sh.bool(cmd, 'security-info')) flags |= DomainXMLFlags.SECURE;
    if (sh.bool(cmd, 'update-cpu')) flags |= DomainXMLFlags.UPDATE_CPU;
    if (sh.bool(cmd, 'migratable')) flags |= DomainXMLFlags.MIGRATABLE;
    const xml = await found.dom.getXMLDesc(flags);
    return printXPath(sh, cmd, xml);
  },
};
