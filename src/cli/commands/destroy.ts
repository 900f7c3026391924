import { DomainDestroyFlagsValues } from '../../api/index.js';
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
    let flags = 0;
    if (sh.bool(cmd, 'graceful')) flags |= DomainDestroyFlagsValues.GRACEFUL;
    if (sh.bool(cmd, 'remove-logs')) flags |= DomainDestroyFlagsValues.REMOVE_LOGS;
    if (flags) await dom.destroyFlags(flags);
    else await dom.destroy();
  },
});
