import type { CommandDef } from '../commandDef.js';

export const command: CommandDef = {
  name: 'uri',
  help: 'print the hypervisor canonical URI',
  opts: [],
  async run(sh) {
    sh.print(`${await sh.conn.getURI()}\n`);
    return true;
  },
};
