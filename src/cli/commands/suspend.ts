import { domainAction } from './domainAction.js';

export const command = domainAction({
  name: 'suspend',
  help: 'suspend a domain',
  desc: 'Suspend a running domain.',
  verb: 'suspend',
  done: 'suspended',
  act: (_sh, dom) => dom.suspend(),
});
