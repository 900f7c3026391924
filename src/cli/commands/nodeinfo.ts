import type { CommandDef } from '../commandDef.js';

const field = (label: string, value: string | number): string => `${label.padEnd(20)} ${value}\n`;

export const command: CommandDef = {
  name: 'nodeinfo',
  help: 'node information',
  desc: 'Returns basic information about the node.',
  opts: [],
  async run(sh) {
    let info;
    try {
      info = await sh.conn.nodeGetInfo();
    } catch (e) {
      return sh.fail('failed to get node information', e);
    }
    sh.print(field('CPU model:', info.model));
    sh.print(field('CPU(s):', info.cpus));
    if (info.mhz) sh.print(field('CPU frequency:', `${info.mhz} MHz`));
    sh.print(field('CPU socket(s):', info.sockets));
    sh.print(field('Core(s) per socket:', info.cores));
    sh.print(field('Thread(s) per core:', info.threads));
    sh.print(field('NUMA cell(s):', info.nodes));
    sh.print(field('Memory size:', `${info.memory} KiB`));
    return true;
  },
};
