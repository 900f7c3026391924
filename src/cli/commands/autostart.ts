import type { CommandDef } from '../commandDef.js';
import { lookupDomain } from '../lookup.js';
import { domainOpt } from './domainAction.js';

export const command: CommandDef = {
  name: 'autostart',
  help: 'autostart a domain',
  desc: 'Configure a domain to be automatically started at boot.',
  opts: [domainOpt, { name: 'disable', type: 'bool', help: 'disable autostarting' }],
  async run(sh, cmd) {
    const found = await lookupDomain(sh, cmd);
    if (!found) return false;
    const { dom, name } = found;
    const enable = !sh.bool(cmd, 'disable');
    try {
      await dom.setAutostart(enable);
    } catch (e) {
      return sh.fail(enable ? `Failed to mark domain '${name}' as autostarted` : `Failed to unmark domain '${name}' as autostarted`, e);
    }
    sh.printExtra(enable ? `Domain '${name}' marked as autostarted\n` : `Domain '${name}' unmarked as autostarted\n`);
    return true;
  },
};
