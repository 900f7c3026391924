import type { CommandDef } from '../commandDef.js';
import { BY_ID, BY_UUID, lookupDomain } from '../lookup.js';

export const command: CommandDef = {
  name: 'domname',
  help: 'convert a domain id or UUID to domain name',
  opts: [{ name: 'domain', type: 'data', required: true, help: 'domain id or uuid' }],
  async run(sh, cmd) {
    const found = await lookupDomain(sh, cmd, BY_ID | BY_UUID);
    if (!found) return false;
    sh.print(`${found.dom.getName()}\n`);
    return true;
  },
};
