import { NetworkCreateFlags } from '../../api/index.js';
import type { CommandDef } from '../commandDef.js';
import { readXmlFile } from './xmlFile.js';

export const command: CommandDef = {
  name: 'net-create',
  help: 'create a network from an XML file',
  desc: 'Create a network.',
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
        ? await sh.conn.networkCreateXMLFlags(xml, NetworkCreateFlags.VALIDATE)
        : await sh.conn.networkCreateXML(xml);
      sh.printExtra(`Network ${net.getName()} created from ${file}\n`);
      return true;
    } catch (e) {
      return sh.fail(`Failed to create network from ${file}`, e);
    }
  },
};
