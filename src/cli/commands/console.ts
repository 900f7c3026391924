// console: a two-way session with the guest's console (dom.openConsole()); Ctrl-] leaves. On a
// terminal the keys go through raw; unlike virsh, which refuses to run without a terminal, a
// session on pipes works too (for scripts and tests): after the input ends, the session stays
// until the guest has been quiet for a moment.
import type { Duplex } from 'node:stream';
import { DomainConsoleFlags, DomainState } from '../../api/index.js';
import type { CommandDef } from '../commandDef.js';
import { lookupDomain } from '../lookup.js';
import { consoleSession } from '../console.js';
import { domainOpt } from './domainAction.js';

export const command: CommandDef = {
  name: 'console',
  help: 'connect to the guest console',
  desc: 'Connect the virtual serial console for the guest',
  opts: [
    domainOpt,
    { name: 'devname', type: 'string', reqOpt: true, help: 'character device name' },
    { name: 'force', type: 'bool', help: 'force console connection (disconnect already connected sessions)' },
    { name: 'safe', type: 'bool', help: 'only connect if safe console handling is supported' },
  ],
  async run(sh, cmd) {
    const found = await lookupDomain(sh, cmd);
    if (!found) return false;
    const dom = found.dom;
    const { state } = await dom.getState();
    if (state === DomainState.SHUTOFF) return sh.fail('The domain is not running');
    let flags = 0;
    if (sh.bool(cmd, 'force')) flags |= DomainConsoleFlags.FORCE;
    if (sh.bool(cmd, 'safe')) flags |= DomainConsoleFlags.SAFE;
    sh.printExtra(`Connected to domain '${dom.getName()}'\nEscape character is ^] (Ctrl + ])\n`);
    let stream: Duplex;
    try {
      stream = await dom.openConsole(sh.optString(cmd, 'devname') ?? null, flags);
    } catch (e) {
      sh.setError(e);
      return false;
    }
    await consoleSession(stream, (s) => sh.print(s));
    sh.printExtra('\n');
    return true;
  },
};
