import { networkAction } from './networkAction.js';

export const command = networkAction({
  name: 'net-destroy',
  help: 'destroy (stop) a network',
  desc: 'Forcefully stop a given network.',
  verb: 'destroy',
  done: 'destroyed',
  act: (net) => net.destroy(),
});
