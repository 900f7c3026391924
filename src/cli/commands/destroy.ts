import { domainAction } from './domainAction.js';

export const command = domainAction({
  name: 'destroy',
  help: 'destroy (stop) a domain',
  desc: 'Forcefully stop a given domain, but leave its resources intact.',
  opts: [
    { name: 'graceful', type: 'bool', help: 'terminate gracefully' },
    { name: 'remove-logs', type: 'bool', help: 'remove domain logs' },
  ],
  verb: 'destroy',
  done: 'destroyed',
  async act(sh, dom, cmd) {
    const flags = (sh.bool(cmd, 'graceful') ? 1 : 0) | (sh.bool(cmd, 'remove-logs') ? 2 : 0);
    if (flags) await dom.destroyFlags(flags);
    else await dom.destroy();
  },
});
