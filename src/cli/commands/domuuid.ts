import type { CommandDef } from '../commandDef.js';
import { BY_ID, BY_NAME, lookupDomain } from '../lookup.js';

export const command: CommandDef = {
  name: 'domuuid',
  help: 'convert a domain name or id to domain UUID',
  opts: [{ name: 'domain', type: 'data', required: true, help: 'domain id or name' }],
  async run(sh, cmd) {
    const found = await lookupDomain(sh, cmd, BY_ID | BY_NAME);
    if (!found) return false;
    sh.print(`${found.dom.getUUIDString()}\n`);
    return true;
  },
};
