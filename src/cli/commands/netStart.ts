import { networkAction } from './networkAction.js';

export const command = networkAction({
  name: 'net-start',
  help: 'start a (previously defined) inactive network',
  desc: 'Start a network.',
  verb: 'start',
  done: 'started',
  act: (net) => net.create(),
});
