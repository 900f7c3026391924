import { NetworkDefineFlags } from '../../api/index.js';
import type { CommandDef } from '../commandDef.js';
import { readXmlFile } from './xmlFile.js';

export const command: CommandDef = {
  name: 'net-define',
  help: 'define an inactive persistent virtual network or modify an existing persistent one from an XML file',
  desc: 'Define or modify a persistent virtual network.',
  opts: [
    { name: 'file', type: 'data', required: true, help: 'file containing an XML network description' },
    { name: 'validate', type: 'bool', help: 'validate the XML against the schema' },
  ],
  async run(sh, cmd) {
    const file = sh.optString(cmd, 'file')!;
    const xml = readXmlFile(sh, file);
    if (xml === undefined) return false;
    try {
      const net = sh.bool(cmd, 'validate')
        ? await sh.conn.networkDefineXMLFlags(xml, NetworkDefineFlags.VALIDATE)
        : await sh.conn.networkDefineXML(xml);
      sh.printExtra(`Network ${net.getName()} defined from ${file}\n`);
      return true;
    } catch (e) {
      return sh.fail(`Failed to define network from ${file}`, e);
    }
  },
};
