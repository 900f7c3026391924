import type { CommandDef } from '../commandDef.js';
import { lookupDomain } from '../lookup.js';
import { domainStateReasonString, domainStateString } from '../virshStrings.js';
import { domainOpt } from './domainAction.js';

export const command: CommandDef = {
  name: 'domstate',
  help: 'domain state',
  desc: 'Returns state about a domain.',
  opts: [domainOpt, { name: 'reason', type: 'bool', help: 'also print reason for the state' }],
  async run(sh, cmd) {
    const found = await lookupDomain(sh, cmd);
    if (!found) return false;
    const { state, reason } = await found.dom.getState(0);
    if (sh.bool(cmd, 'reason')) sh.print(`${domainStateString(state)} (${domainStateReasonString(state, reason)})\n`);
    else sh.print(`${domainStateString(state)}\n`);
    return true;
  },
};
