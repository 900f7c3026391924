import { domainAction } from './domainAction.js';
import { shutdownModeFlags } from './shutdownMode.js';

export const command = domainAction({
  name: 'reboot',
  help: 'reboot a domain',
  desc: 'Run a reboot command in the target domain.',
  opts: [{ name: 'mode', type: 'string', help: 'shutdown mode: acpi|agent|initctl|signal|paravirt' }],
  verb: 'reboot',
  done: 'is being rebooted',
  act: (sh, dom, cmd) => dom.reboot(shutdownModeFlags(sh.optString(cmd, 'mode'))),
});
