// Commands that look a network up and do one thing to it (net-start, net-destroy, …).
import type { Network } from '../../api/index.js';
import type { CommandDef, OptDef } from '../commandDef.js';
import { lookupNetwork } from '../lookup.js';

export const networkOpt: OptDef = { name: 'network', type: 'data', required: true, help: 'network name or uuid' };

export function networkAction(spec: {
  name: string;
  help: string;
  desc: string;
  verb: string;
  done: string;
  act(net: Network): Promise<void>;
}): CommandDef {
  return {
    name: spec.name,
    help: spec.help,
    desc: spec.desc,
    opts: [networkOpt],
    async run(sh, cmd) {
      const found = await lookupNetwork(sh, cmd);
      if (!found) return false;
      try {
        await spec.act(found.net);
      } catch (e) {
        return sh.fail(`Failed to ${spec.verb} network ${found.name}`, e);
      }
      sh.printExtra(`Network ${found.name} ${spec.done}\n`);
      return true;
    },
  };
}
