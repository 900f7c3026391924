import { domainAction } from './domainAction.js';
import { shutdownModeFlags } from './shutdownMode.js';

export const command = domainAction({
  name: 'shutdown',
  help: 'gracefully shutdown a domain',
  desc: 'Run shutdown in the target domain.',
  opts: [{ name: 'mode', type: 'string', help: 'shutdown mode: acpi|agent|initctl|signal|paravirt' }],
  verb: 'shutdown',
  done: 'is being shutdown',
  async act(sh, dom, cmd) {
    const flags = shutdownModeFlags(sh.optString(cmd, 'mode'));
    if (flags) await dom.shutdownFlags(flags);
    else await dom.shutdown();
  },
});
