import { domainAction } from './domainAction.js';

export const command = domainAction({
  name: 'resume',
  help: 'resume a domain',
  desc: 'Resume a previously suspended domain.',
  verb: 'resume',
  done: 'resumed',
  act: (_sh, dom) => dom.resume(),
});
