import type { CommandDef } from '../commandDef.js';
import { BY_NAME, BY_UUID, lookupDomain } from '../lookup.js';

export const command: CommandDef = {
  name: 'domid',
  help: 'convert a domain name or UUID to domain id',
  opts: [{ name: 'domain', type: 'data', required: true, help: 'domain name or uuid' }],
  async run(sh, cmd) {
    const found = await lookupDomain(sh, cmd, BY_NAME | BY_UUID);
    if (!found) return false;
    const id = found.dom.getID();
    sh.print(id === -1 ? '-\n' : `${id}\n`);
    return true;
  },
};
