import type { CommandDef } from '../commandDef.js';
import { lookupNetwork } from '../lookup.js';
import { networkOpt } from './networkAction.js';

const field = (label: string, value: string): string => `${label.padEnd(15)} ${value}\n`;

export const command: CommandDef = {
  name: 'net-info',
  help: 'network information',
  desc: 'Returns basic information about the network',
  opts: [networkOpt],
  async run(sh, cmd) {
    const found = await lookupNetwork(sh, cmd);
    if (!found) return false;
    const { net } = found;
    sh.print(field('Name:', net.getName()));
    sh.print(field('UUID:', net.getUUIDString()));
    const active = await net.isActive().catch(() => undefined);
    if (active !== undefined) sh.print(field('Active:', active ? 'yes' : 'no'));
    const persistent = await net.isPersistent().catch(() => undefined);
    sh.print(field('Persistent:', persistent === undefined ? 'unknown' : persistent ? 'yes' : 'no'));
    const autostart = await net.getAutostart().catch(() => undefined);
    sh.print(field('Autostart:', autostart === undefined ? 'no autostart' : autostart ? 'yes' : 'no'));
    const bridge = await net.getBridgeName().catch(() => undefined);
    if (bridge !== undefined) sh.print(field('Bridge:', bridge));
    return true;
  },
};
