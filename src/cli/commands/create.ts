import { DomainCreateFlags } from '../../api/index.js';
import type { CommandDef } from '../commandDef.js';
import { runConsole } from '../console.js';
import { readXmlFile } from './xmlFile.js';

export const command: CommandDef = {
  name: 'create',
  help: 'create a domain from an XML file',
  desc: 'Create a domain.',
  opts: [
    { name: 'file', type: 'data', required: true, help: 'file containing an XML domain description' },
    { name: 'console', type: 'bool', help: 'attach to console after creation' },
    { name: 'paused', type: 'bool', help: 'leave the guest paused after creation' },
    { name: 'autodestroy', type: 'bool', help: 'automatically destroy the guest when virsh disconnects' },
    { name: 'pass-fds', type: 'string', help: 'pass file descriptors N,M,... to the guest' },
    { name: 'validate', type: 'bool', help: 'validate the XML against the schema' },
    { name: 'reset-nvram', type: 'bool', help: 're-initialize NVRAM from its pristine template' },
  ],
  async run(sh, cmd) {
    const file = sh.optString(cmd, 'file')!;
    const xml = readXmlFile(sh, file);
    if (xml === undefined) return false;
    let flags = 0;
    if (sh.bool(cmd, 'paused')) flags |= DomainCreateFlags.PAUSED;
    if (sh.bool(cmd, 'autodestroy')) flags |= DomainCreateFlags.AUTODESTROY;
    if (sh.bool(cmd, 'validate')) flags |= DomainCreateFlags.VALIDATE;
    if (sh.bool(cmd, 'reset-nvram')) flags |= DomainCreateFlags.RESET_NVRAM;
    try {
      const dom = await sh.conn.domainCreateXML(xml, flags);
      sh.printExtra(`Domain '${dom.getName()}' created from ${file}\n`);
      // As virsh: a console that cannot be attached does not fail the creation.
      if (sh.bool(cmd, 'console')) await runConsole(sh, dom);
      return true;
    } catch (e) {
      return sh.fail(`Failed to create domain from ${file}`, e);
    }
  },
};
