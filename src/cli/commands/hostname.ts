import type { CommandDef } from '../commandDef.js';

export const command: CommandDef = {
  name: 'hostname',
  help: 'print the hypervisor hostname',
  opts: [],
  async run(sh) {
    let name: string;
    try {
      name = await sh.conn.getHostname();
    } catch (e) {
      return sh.fail('failed to get hostname', e);
    }
    sh.print(`${name}\n`);
    return true;
  },
};
