import type { CommandDef } from '../commandDef.js';
import { lookupNetwork } from '../lookup.js';
import { networkOpt } from './networkAction.js';

export const command: CommandDef = {
  name: 'net-autostart',
  help: 'autostart a network',
  desc: 'Configure a network to be automatically started at boot.',
  opts: [networkOpt, { name: 'disable', type: 'bool', help: 'disable autostarting' }],
  async run(sh, cmd) {
    const found = await lookupNetwork(sh, cmd);
    if (!found) return false;
    const enable = !sh.bool(cmd, 'disable');
    try {
      await found.net.setAutostart(enable);
    } catch (e) {
      return sh.fail(enable ? `failed to mark network ${found.name} as autostarted` : `failed to unmark network ${found.name} as autostarted`, e);
    }
    sh.printExtra(enable ? `Network ${found.name} marked as autostarted\n` : `Network ${found.name} unmarked as autostarted\n`);
    return true;
  },
};
