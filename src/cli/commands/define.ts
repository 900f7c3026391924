import { DomainDefineFlags } from '../../api/index.js';
import type { CommandDef } from '../commandDef.js';
import { readXmlFile } from './xmlFile.js';

export const command: CommandDef = {
  name: 'define',
  help: "define (but don't start) a domain from an XML file",
  desc: 'Define a domain.',
  opts: [
    { name: 'file', type: 'data', required: true, help: 'file containing an XML domain description' },
    { name: 'validate', type: 'bool', help: 'validate the XML against the schema' },
  ],
  async run(sh, cmd) {
    const file = sh.optString(cmd, 'file')!;
    const xml = readXmlFile(sh, file);
    if (xml === undefined) return false;
    try {
      const dom = sh.bool(cmd, 'validate')
        ? await sh.conn.domainDefineXMLFlags(xml, DomainDefineFlags.VALIDATE)
        : await sh.conn.domainDefineXML(xml);
      sh.printExtra(`Domain '${dom.getName()}' defined from ${file}\n`);
      return true;
    } catch (e) {
      return sh.fail(`Failed to define domain from ${file}`, e);
    }
  },
};
