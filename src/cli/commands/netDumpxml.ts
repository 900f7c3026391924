import { NetworkXMLFlags } from '../../api/index.js';
import type { CommandDef } from '../commandDef.js';
import { lookupNetwork } from '../lookup.js';
import { networkOpt } from './networkAction.js';
import { printXPath, xpathOpts } from './xpathOutput.js';

export const command: CommandDef = {
  name: 'net-dumpxml',
  help: 'network information in XML',
  desc: 'Output the network information as an XML dump to stdout.',
  opts: [networkOpt, { name: 'inactive', type: 'bool', help: 'show inactive defined XML' }, ...xpathOpts],
  async run(sh, cmd) {
    const found = await lookupNetwork(sh, cmd);
    if (!found) return false;
    const xml = await found.net.getXMLDesc(sh.bool(cmd, 'inactive') ? NetworkXMLFlags.INACTIVE : 0);
    return printXPath(sh, cmd, xml);
  },
};
