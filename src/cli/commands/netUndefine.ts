import { networkAction } from './networkAction.js';

export const command = networkAction({
  name: 'net-undefine',
  help: 'undefine a persistent network',
  desc: 'Undefine the configuration for a persistent network.',
  verb: 'undefine',
  done: 'has been undefined',
  act: (net) => net.undefine(),
});
