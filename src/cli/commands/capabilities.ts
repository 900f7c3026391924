import type { CommandDef } from '../commandDef.js';

export const command: CommandDef = {
  name: 'capabilities',
  help: 'capabilities',
  desc: 'Returns capabilities of hypervisor/driver.',
  opts: [],
  async run(sh) {
    let caps: string;
    try {
      caps = await sh.conn.getCapabilities();
    } catch (e) {
      return sh.fail('failed to get capabilities', e);
    }
    sh.print(`${caps}\n`);
    return true;
  },
};
